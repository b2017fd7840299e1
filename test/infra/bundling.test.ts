import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ESM_REQUIRE_SHIM } from "../../infra/bundling.ts";
import { buildDashlightApp } from "../../infra/dashlight-app.ts";
import { CDK_JSON_CONTEXT } from "./support.ts";

/**
 * A hard ceiling per function: past it, cold starts grow noticeably and a
 * dependency has to be questioned. The budget (150 KB, with module init time)
 * is measured by bench/bundle.ts, not enforced here.
 */
const BUNDLE_CEILING_BYTES = 1024 * 1024;

type Bundle = { name: string; dir: string };
let bundles: Bundle[];
const scratch = mkdtempSync(join(tmpdir(), "dashlight-bundling-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

beforeAll(() => {
  const outdir = join(scratch, "cdk.out");
  // A rules directory of its own with one rule file shows the rule files ship with every function.
  const rulesDir = join(scratch, "rules");
  mkdirSync(rulesDir);
  writeFileSync(join(rulesDir, "speeding.yaml"), "rules: []\n");
  mkdirSync(join(rulesDir, "fixtures"));
  const app = new App({
    outdir,
    context: {
      ...CDK_JSON_CONTEXT,
      "aws:cdk:enable-asset-metadata": true,
      "dashlight:rulesDir": rulesDir,
    },
  });
  const { stateless } = buildDashlightApp(app);
  app.synth();
  const functions = Template.fromStack(stateless).findResources("AWS::Lambda::Function");
  bundles = Object.entries(functions).map(([id, fn]) => ({
    name: id,
    dir: join(outdir, fn.Metadata["aws:asset:path"] as string),
  }));
});

describe("the real bundles (local esbuild, no Docker)", () => {
  it("bundles each function as minified ESM with a linked source map", () => {
    expect(bundles).toHaveLength(9);
    for (const { dir } of bundles) {
      const code = readFileSync(join(dir, "index.mjs"), "utf8");
      expect(code.startsWith(ESM_REQUIRE_SHIM)).toBe(true);
      expect(code.trimEnd().endsWith("//# sourceMappingURL=index.mjs.map")).toBe(true);
      expect(existsSync(join(dir, "index.mjs.map"))).toBe(true);
      // The SDK stays an import, resolved from the runtime's copy, not bundled.
      expect(code.includes('from"@aws-sdk/client-dynamodb"')).toBe(true);
    }
  });

  it("keeps each bundle under the ceiling", () => {
    const sizes = bundles.map(({ name, dir }) => ({ name, bytes: statSync(join(dir, "index.mjs")).size }));
    const over = sizes.filter(({ bytes }) => bytes >= BUNDLE_CEILING_BYTES);
    expect(over).toStrictEqual([]);
  });

  it("ships the rule files, under rules/, with the functions that evaluate rules and only with them", () => {
    const withRules = bundles.filter(({ dir }) => existsSync(join(dir, "rules")));
    expect(withRules.map(({ name }) => name.replace(/Function[0-9A-F]{8}$/, "")).sort()).toStrictEqual([
      "ProcessEvents",
      "Tick",
    ]);
    for (const { dir } of withRules) {
      expect(readFileSync(join(dir, "rules", "speeding.yaml"), "utf8")).toBe("rules: []\n");
      expect(existsSync(join(dir, "rules", "fixtures"))).toBe(false);
    }
  });
});
