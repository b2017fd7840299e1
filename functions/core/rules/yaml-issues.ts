import {
  type Document,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  parseDocument,
  type Scalar,
  visit,
} from "yaml";
import type { z } from "zod";
import type { Problem } from "./errors.ts";
import { keyedUnionKinds, type OffsetParams } from "./schema.ts";

/** A YAML file as text, with the name problems are reported against. */
export type SourceFile = { readonly file: string; readonly text: string };

export type ParsedYaml = {
  readonly file: string;
  readonly source: string;
  readonly doc: Document.Parsed;
  readonly lineCounter: LineCounter;
  /** The plain JS value, or undefined when the YAML itself is malformed. */
  readonly value: unknown;
  readonly problems: Problem[];
};

/** Parses YAML keeping positions; syntax errors become problems (and no value). */
export const parseYamlSource = (source: SourceFile): ParsedYaml => {
  const lineCounter = new LineCounter();
  const doc = parseDocument(source.text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const problems: Problem[] = doc.errors.map((error) => {
    const { line, col } = lineCounter.linePos(error.pos[0]);
    return { file: source.file, line, column: col, message: firstLine(error.message) };
  });
  let value: unknown;
  if (problems.length === 0) {
    try {
      value = doc.toJS();
    } catch (error) {
      // An alias to an anchor defined later (or never) only fails when resolved.
      let offset = 0;
      visit(doc, {
        Alias(_key, node) {
          if (node.resolve(doc) === undefined) {
            offset = node.range?.[0] ?? 0;
            return visit.BREAK;
          }
        },
      });
      const { line, col } = lineCounter.linePos(offset);
      problems.push({ file: source.file, line, column: col, message: firstLine((error as Error).message) });
    }
  }
  return { file: source.file, source: source.text, doc, lineCounter, value, problems };
};

const firstLine = (message: string) => (message.split("\n")[0] ?? message).replace(/ at line \d+, column \d+:?$/, "");

type Issue = z.core.$ZodIssue;
type Path = readonly PropertyKey[];

/** Turns zod issues on a parsed file into `file:line:column: message` problems, in file order. */
export const issuesToProblems = (parsed: ParsedYaml, issues: readonly Issue[]): Problem[] => {
  const out: { offset: number; message: string }[] = [];
  for (const issue of issues) collect(parsed, issue, [], out);
  const seen = new Set<string>();
  const problems: Problem[] = [];
  for (const { offset, message } of out.sort((a, b) => a.offset - b.offset)) {
    const { line, col } = parsed.lineCounter.linePos(offset);
    const key = `${line}:${col}:${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    problems.push({ file: parsed.file, line, column: col, message });
  }
  return problems;
};

const collect = (parsed: ParsedYaml, issue: Issue, prefix: Path, out: { offset: number; message: string }[]) => {
  const path = [...prefix, ...issue.path];
  const at = (p: Path, message: string) => out.push({ offset: offsetOf(parsed, p), message });
  switch (issue.code) {
    case "unrecognized_keys":
      for (const key of issue.keys)
        out.push({ offset: keyOffset(parsed, path, key), message: `unknown field "${key}"` });
      return;
    case "invalid_union": {
      const value = valueAt(parsed.value, path);
      const branch = pickBranch(issue, value);
      if (branch !== undefined) {
        for (const sub of branch) collect(parsed, sub, path, out);
        return;
      }
      const types = issue.errors.map((b) =>
        b.length === 1 && b[0]?.code === "invalid_type" ? b[0].expected : undefined,
      );
      if (!keyedUnionKinds.has(issue.message) && types.every((t) => t !== undefined) && types.length > 0) {
        at(path, `expected ${types.join(" or ")}, got ${describe(value)}`);
        return;
      }
      at(path, issue.message === "Invalid input" ? "invalid value" : issue.message);
      return;
    }
    case "invalid_type": {
      const value = valueAt(parsed.value, path);
      if (value === undefined && path.length > 0) {
        at(path.slice(0, -1), `missing required field "${String(path[path.length - 1])}"`);
      } else {
        at(path, `expected ${issue.expected}, got ${describe(value)}`);
      }
      return;
    }
    case "invalid_key":
      out.push({
        offset: keyOffset(parsed, path.slice(0, -1), String(path[path.length - 1])),
        message: `invalid name "${String(path[path.length - 1])}": ${issue.issues[0]?.message ?? issue.message}`,
      });
      return;
    case "custom": {
      const offset = (issue.params as Partial<OffsetParams> | undefined)?.offset;
      if (offset !== undefined) {
        const node = nodeAt(parsed, path);
        if (node !== undefined && isScalar(node)) {
          out.push({ offset: scalarOffset(parsed, node, offset), message: issue.message });
          return;
        }
      }
      at(path, issue.message);
      return;
    }
    default:
      at(path, issue.message);
  }
};

/** The union branch the input meant: by its key field (keyed unions), else the only plausible one. */
const pickBranch = (issue: Extract<Issue, { code: "invalid_union" }>, value: unknown): readonly Issue[] | undefined => {
  const kinds = keyedUnionKinds.get(issue.message);
  if (kinds !== undefined) {
    if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined;
    const index = kinds.findIndex((k) => k in value);
    return index < 0 ? undefined : issue.errors[index];
  }
  const plausible = issue.errors.filter(
    (branch) =>
      !branch.some(
        (i) =>
          (i.path.length === 0 && (i.code === "invalid_type" || i.code === "invalid_value")) ||
          (i.path.length === 1 && i.code === "invalid_type" && valueAt(value, i.path) === undefined),
      ),
  );
  return plausible.length === 1 ? plausible[0] : undefined;
};

const describe = (value: unknown): string => {
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  if (typeof value === "string")
    return `string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  return `${typeof value} ${String(value)}`;
};

const valueAt = (root: unknown, path: Path): unknown => {
  let v = root;
  for (const seg of path) {
    if (typeof v !== "object" || v === null) return undefined;
    v = (v as Record<PropertyKey, unknown>)[seg];
  }
  return v;
};

/** The deepest YAML node along `path` (the node itself when it exists). */
const nodeAt = (parsed: ParsedYaml, path: Path): Node | undefined => {
  let node: unknown = parsed.doc.contents;
  for (const seg of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg));
      if (pair === undefined) return node;
      node = pair.value;
    } else if (isSeq(node) && typeof seg === "number") {
      const item = node.items[seg];
      if (item === undefined) return node;
      node = item;
    } else {
      return node as Node | undefined;
    }
  }
  return (node ?? undefined) as Node | undefined;
};

const offsetOf = (parsed: ParsedYaml, path: Path): number => nodeAt(parsed, path)?.range?.[0] ?? 0;

const keyOffset = (parsed: ParsedYaml, path: Path, key: string): number => {
  const node = nodeAt(parsed, path);
  if (isMap(node)) {
    for (const pair of node.items) {
      if (isScalar(pair.key) && String(pair.key.value) === key) return pair.key.range?.[0] ?? 0;
    }
  }
  return node?.range?.[0] ?? 0;
};

/** Offset in the file of character `offset` of a scalar's value (quoted, plain or block). */
const scalarOffset = (parsed: ParsedYaml, node: Scalar, offset: number): number => {
  const start = node.range?.[0] ?? 0;
  const value = String(node.value);
  const before = value.slice(0, offset);
  const lineInValue = before.split("\n").length - 1;
  const column = offset - (before.lastIndexOf("\n") + 1);
  if (node.type === "BLOCK_LITERAL" || node.type === "BLOCK_FOLDED") {
    const starts = parsed.lineCounter.lineStarts;
    const headerLine = parsed.lineCounter.linePos(start).line - 1; // 0-based index into lineStarts
    const contentStart = starts[headerLine + 1 + lineInValue];
    if (contentStart === undefined) return start;
    const firstContent = starts[headerLine + 1] ?? contentStart;
    const indent = indentationAt(parsed, firstContent);
    return contentStart + indent + column;
  }
  const quote = node.type === "QUOTE_DOUBLE" || node.type === "QUOTE_SINGLE" ? 1 : 0;
  return start + quote + offset;
};

const indentationAt = (parsed: ParsedYaml, lineStart: number): number => {
  const source = parsed.source;
  let n = 0;
  while (source[lineStart + n] === " ") n++;
  return n;
};
