import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import type { ICommandHooks } from "aws-cdk-lib/aws-lambda-nodejs";

/** A rule file as the rule compiler reads it: its path (relative to the repo root, for messages) and its text. */
export type RuleSource = { readonly file: string; readonly text: string };

/** Rule file names are used unquoted in bundling commands, so they are kept to a safe alphabet. */
const RULE_FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*\.ya?ml$/;

/** Where the rules sit inside every function bundle (LAMBDA_TASK_ROOT/rules at run time). */
export const BUNDLED_RULES_DIR = "rules";

/**
 * The rule files of a rules directory (its *.yaml and *.yml, not its
 * subfolders such as fixtures/), sorted by name. A missing directory is an
 * error: a typo in the path must not deploy an empty rule set.
 */
export const ruleFileNames = (rulesDir: string): string[] => {
  if (!existsSync(rulesDir) || !statSync(rulesDir).isDirectory()) {
    throw new Error(`rules directory not found: ${rulesDir}`);
  }
  const names = readdirSync(rulesDir, { withFileTypes: true })
    .filter((entry) => entry.isFile() && /\.ya?ml$/.test(entry.name))
    .map((entry) => entry.name)
    .sort();
  const unsafe = names.filter((name) => !RULE_FILE_NAME.test(name));
  if (unsafe.length > 0) {
    throw new Error(`rule file names may use only letters, digits, ".", "_" and "-": ${unsafe.join(", ")}`);
  }
  return names;
};

/** Reads every rule file, ready for the rule compiler (validation at synth). */
export const readRuleSources = (rulesDir: string, repoRoot: string): RuleSource[] =>
  ruleFileNames(rulesDir).map((name) => {
    const path = join(rulesDir, name);
    return { file: relative(repoRoot, path), text: readFileSync(path, "utf8") };
  });

/**
 * esbuild command hooks that copy the rule files into a function's bundle,
 * under rules/ (created even when there is no rule yet, since the function
 * reads that directory at cold start). The rule set ships with (and is
 * versioned with) the code: a rule change changes the asset hash and so
 * redeploys the functions that evaluate rules.
 */
export const rulesBundleHooks = (rulesDir: string): ICommandHooks => ({
  beforeBundling: () => [],
  beforeInstall: () => [],
  afterBundling: (_inputDir: string, outputDir: string) => {
    const names = ruleFileNames(rulesDir);
    const target = join(outputDir, BUNDLED_RULES_DIR);
    return [`mkdir -p "${target}"`, ...names.map((name) => `cp "${join(rulesDir, name)}" "${join(target, name)}"`)];
  },
});
