import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { DataDirInUseError, type Engines, startEngines } from "#local/engines.ts";

describe("the local engines", () => {
  const started: Engines[] = [];
  const dirs: string[] = [];
  afterEach(async () => {
    for (const engines of started.splice(0)) await engines.stop();
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it("refuse a data directory another running Dashlight holds, and say what to do", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "dashlight-data-"));
    dirs.push(dataDir);
    started.push(await startEngines({ dataDir }));
    const second = startEngines({ dataDir });
    await expect(second).rejects.toThrow(DataDirInUseError);
    await expect(startEngines({ dataDir })).rejects.toThrow(
      `${dataDir} is in use by another running Dashlight: stop that one, or give this one its own folder with ` +
        "DASHLIGHT_DATA_DIR=<folder> (or run it in memory with --memory)",
    );
  });

  it("open the same data directory again once the first has stopped", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "dashlight-data-"));
    dirs.push(dataDir);
    const first = await startEngines({ dataDir });
    await first.stop();
    const again = await startEngines({ dataDir });
    started.push(again);
    expect(again.dynamodbEndpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });
});
