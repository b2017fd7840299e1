/** A problem in a rule, zone, contact or fixture file, located at `file:line:column`. */
export type Problem = {
  file: string;
  /** 1-based. */
  line: number;
  /** 1-based. */
  column: number;
  message: string;
};

/** `rules/a.yaml:3:5: unknown field "colour"`: the one-line form the CLI and CI print. */
export const formatProblem = (p: Problem): string => `${p.file}:${p.line}:${p.column}: ${p.message}`;

/** Base class of every error the rules module throws; branch on `instanceof`. */
export class RuleError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "RuleError";
  }
}

/** One or more rule files are invalid; `problems` lists every one of them, in file order. */
export class RuleValidationError extends RuleError {
  readonly problems: readonly Problem[];
  constructor(problems: readonly Problem[]) {
    super(`${problems.length} problem(s) in rule files:\n${problems.map(formatProblem).join("\n")}`);
    this.name = "RuleValidationError";
    this.problems = problems;
  }
}

/** A rule file could not be read (missing directory, unreadable file). */
export class RuleSourceError extends RuleError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "RuleSourceError";
  }
}

/** The caller broke the evaluator's contract (a state of another rule or vehicle, a vehicle with an unknown time zone). */
export class RuleContractError extends RuleError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "RuleContractError";
  }
}
