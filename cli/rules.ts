import { join } from "node:path";
import {
  compileRuleSources,
  formatProblem,
  parseFixtureSources,
  RuleSourceError,
  readRuleSources,
  ruleFileJsonSchema,
  runFixture,
} from "#core/rules/index.ts";
import { CliError, UsageError } from "./errors.ts";
import type { ProgressOutput } from "./progress.ts";
import { REPLAY_USAGE, replayCommand } from "./replay.ts";

type Output = { write(text: string): unknown };
type Io = { out: Output; err: Output & Pick<ProgressOutput, "isTTY"> };

/** `dashlight rules …`; returns the exit code (0 ok, 1 problems or failures, 2 usage). */
export const rulesCommand = async (args: readonly string[], io: Io): Promise<number> => {
  const [command, ...rest] = args;
  try {
    switch (command) {
      case "validate":
        return await validate(rest.length > 0 ? rest : ["rules"], io);
      case "schema":
        io.out.write(`${JSON.stringify(ruleFileJsonSchema(), null, 2)}\n`);
        return 0;
      case "test":
        return await test(rest[0] ?? "rules", io);
      case "replay":
        return await replayCommand(rest, io);
      default:
        io.err.write(
          `usage: dashlight rules validate [paths...] | schema | test [dir]\n       ${REPLAY_USAGE.slice(7)}`,
        );
        return 2;
    }
  } catch (error) {
    if (error instanceof UsageError) {
      io.err.write(`${error.message.trimEnd()}\n`);
      return 2;
    }
    if (error instanceof RuleSourceError || error instanceof CliError) {
      io.err.write(`${error.message}\n`);
      return 1;
    }
    throw error;
  }
};

const validate = async (paths: readonly string[], io: Io): Promise<number> => {
  const sources = await readRuleSources(paths);
  const result = compileRuleSources(sources);
  if (!result.ok) {
    for (const problem of result.problems) io.out.write(`${formatProblem(problem)}\n`);
    return 1;
  }
  io.err.write(`${result.ruleSet.rules.length} rule(s) in ${sources.length} file(s): valid\n`);
  return 0;
};

const test = async (dir: string, io: Io): Promise<number> => {
  const result = compileRuleSources(await readRuleSources([dir]));
  if (!result.ok) {
    for (const problem of result.problems) io.out.write(`${formatProblem(problem)}\n`);
    return 1;
  }
  const { fixtures, problems } = parseFixtureSources(await readRuleSources([join(dir, "fixtures")]));
  if (problems.length > 0) {
    for (const problem of problems) io.out.write(`${formatProblem(problem)}\n`);
    return 1;
  }
  let failed = 0;
  for (const loaded of fixtures) {
    const outcome = runFixture(result.ruleSet, loaded);
    if (outcome.passed) {
      io.out.write(`ok   ${outcome.file}: ${outcome.name}\n`);
    } else {
      failed++;
      io.out.write(`FAIL ${outcome.file}: ${outcome.name}\n`);
      for (const failure of outcome.failures) io.out.write(`${indent(failure)}\n`);
    }
  }
  io.out.write(`\n${fixtures.length - failed} passed, ${failed} failed\n`);
  return failed > 0 || fixtures.length === 0 ? 1 : 0;
};

const indent = (text: string) =>
  text
    .split("\n")
    .map((l) => `  ${l}`)
    .join("\n");
