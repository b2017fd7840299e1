import { mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
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

  it("listen on loopback only: the queues are not reachable from the network", async () => {
    const engines = await startEngines({ dataDir: undefined });
    started.push(engines);
    // Linux routes all of 127/8 to loopback: a server on every interface (0.0.0.0) answers 127.0.0.2,
    // one bound to 127.0.0.1 refuses it. Unlike a LAN address, that holds on any machine.
    for (const endpoint of [engines.sqsEndpoint, engines.dynamodbEndpoint]) {
      const { hostname, port } = new URL(endpoint);
      expect(hostname).toBe("127.0.0.1");
      expect(await reach("127.0.0.1", Number(port))).toBe("connected");
      expect(await reach("127.0.0.2", Number(port))).toBe("ECONNREFUSED");
    }
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

const reach = (host: string, port: number): Promise<string> =>
  new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once("connect", () => {
      socket.destroy();
      resolve("connected");
    });
    socket.once("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
