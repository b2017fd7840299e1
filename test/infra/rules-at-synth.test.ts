import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { RuleValidationError } from "#core/rules/errors.ts";
import { REPO_ROOT } from "../../infra/bundling.ts";
import { buildDashlightApp } from "../../infra/dashlight-app.ts";
import { appWithoutBundling } from "./support.ts";

describe("rules at synth", () => {
  it("fails the synth on a bad rule with the same file:line:column line as rules validate", () => {
    const dir = mkdtempSync(join(tmpdir(), "dashlight-bad-rules-"));
    writeFileSync(
      join(dir, "speeding.yaml"),
      [
        "rules:",
        "  - id: speeding",
        "    triggers:",
        "      - signal: speed_mph",
        "        above: 120",
        "    actions: []",
        "",
      ].join("\n"),
    );
    try {
      const synth = () => buildDashlightApp(appWithoutBundling({ "dashlight:rulesDir": dir }));
      expect(synth).toThrow(RuleValidationError);
      expect(synth).toThrow(
        `${relative(REPO_ROOT, join(dir, "speeding.yaml"))}:4:17: unknown signal "speed_mph"; known signals:`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
