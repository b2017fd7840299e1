import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { compileRuleSourcesOrThrow, type RuleSet } from "./compiler.ts";
import { RuleSourceError } from "./errors.ts";
import type { SourceFile } from "./yaml-issues.ts";

/**
 * The only part of the rules module that touches the file system: reads YAML files
 * (directories are read one level deep, `*.yaml` and `*.yml`, sorted) into sources.
 */
export const readRuleSources = async (paths: readonly string[]): Promise<SourceFile[]> => {
  const files: string[] = [];
  for (const path of paths) {
    let info: Awaited<ReturnType<typeof stat>>;
    try {
      info = await stat(path);
    } catch (cause) {
      throw new RuleSourceError(`cannot read ${path}`, { cause });
    }
    if (info.isDirectory()) {
      const names = (await readdir(path)).filter((n) => /\.ya?ml$/.test(n)).sort();
      files.push(...names.map((n) => join(path, n)));
    } else {
      files.push(path);
    }
  }
  return Promise.all(files.map(async (file) => ({ file, text: await readFile(file, "utf8") })));
};

/**
 * Reads and compiles every rule file of a directory; throws RuleValidationError listing
 * every problem. Call once per cold start.
 *
 * @example const ruleSet = await loadRuleSet("rules");
 */
export const loadRuleSet = async (dir: string): Promise<RuleSet> =>
  compileRuleSourcesOrThrow(await readRuleSources([dir]));
