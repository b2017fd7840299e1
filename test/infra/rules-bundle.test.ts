import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { readRuleSources, ruleFileNames, rulesBundleHooks } from "../../infra/rules-bundle.ts";

const roots: string[] = [];
afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

const rulesDir = (files: Record<string, string>) => {
  const root = mkdtempSync(join(tmpdir(), "dashlight-rules-"));
  roots.push(root);
  const dir = join(root, "rules");
  mkdirSync(join(dir, "fixtures"), { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  writeFileSync(join(dir, "fixtures", "speeding.test.yaml"), "given: []\n");
  return { root, dir };
};

describe("the rules bundle hook", () => {
  it("lists the rule files by name, leaving out subfolders and other files", () => {
    const { dir } = rulesDir({ "zones.yaml": "", "speeding.yml": "", "README.md": "" });
    expect(ruleFileNames(dir)).toStrictEqual(["speeding.yml", "zones.yaml"]);
  });

  it("reads rule sources with repo-relative file names, as the rule compiler reports them", () => {
    const { root, dir } = rulesDir({ "speeding.yaml": "rules: []\n" });
    expect(readRuleSources(dir, root)).toStrictEqual([{ file: "rules/speeding.yaml", text: "rules: []\n" }]);
  });

  it("copies each rule file into the bundle's rules/ folder after bundling", () => {
    const { dir } = rulesDir({ "speeding.yaml": "", "zones.yaml": "" });
    expect(rulesBundleHooks(dir).afterBundling("/in", "/asset-output")).toStrictEqual([
      'mkdir -p "/asset-output/rules"',
      `cp "${dir}/speeding.yaml" "/asset-output/rules/speeding.yaml"`,
      `cp "${dir}/zones.yaml" "/asset-output/rules/zones.yaml"`,
    ]);
  });

  it("still creates the bundle's rules/ folder when there is no rule yet", () => {
    const { dir } = rulesDir({});
    expect(rulesBundleHooks(dir).afterBundling("/in", "/asset-output")).toStrictEqual([
      'mkdir -p "/asset-output/rules"',
    ]);
  });

  it("refuses a missing rules directory and file names unsafe in a shell command", () => {
    expect(() => ruleFileNames("/nonexistent/rules")).toThrow("rules directory not found: /nonexistent/rules");
    const { dir } = rulesDir({ "bad name.yaml": "" });
    expect(() => ruleFileNames(dir)).toThrow(
      'rule file names may use only letters, digits, ".", "_" and "-": bad name.yaml',
    );
  });
});
