import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as z from "zod";

/**
 * What a running `npm start` tells the `dashlight` CLI: where its API and engines
 * listen and what it provisioned. Written to <data dir>/runtime.json at start,
 * removed at stop; the engines' ports change at every start.
 */
/**
 * A queue URL as the SQS engine names it: fauxqs writes http://sqs.<region>.<host>:<port>/…,
 * which the WHATWG URL parser (z.url) refuses when the host is an IP address such as 127.0.0.1.
 */
const QueueUrl = z.string().regex(/^https?:\/\/[^\s/]+\/\S+$/, "must be an http(s) queue URL");

export const RuntimeFile = z.object({
  pid: z.number().int(),
  url: z.url(),
  endpoints: z.object({ dynamodb: z.url(), sqs: z.url() }),
  tableName: z.string().min(1),
  queues: z.record(z.string(), z.object({ url: QueueUrl, dlqUrl: QueueUrl })),
});
export type RuntimeFile = z.infer<typeof RuntimeFile>;

const RUNTIME_FILE = "runtime.json";

/** A runtime.json this version cannot read (written by another version, or edited): names the file and fields. */
export class RuntimeFileError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "RuntimeFileError";
  }
}

const parseJson = (text: string, path: string): unknown => {
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new RuntimeFileError(`${path} is not JSON (${(cause as Error).message}): restart npm start to rewrite it`, {
      cause,
    });
  }
};

const parseRuntimeFile = (json: unknown, path: string): RuntimeFile => {
  const parsed = RuntimeFile.safeParse(json);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).join("; ");
    throw new RuntimeFileError(`${path} is not a runtime file this dashlight can read (${fields}): restart npm start`, {
      cause: parsed.error,
    });
  }
  return parsed.data;
};

/** Whether a process of this id runs (signal 0 checks without signalling; EPERM: it runs as someone else). */
const isRunning = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === "EPERM";
  }
};

export const writeRuntimeFile = (dir: string, contents: RuntimeFile): string => {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, RUNTIME_FILE);
  writeFileSync(path, `${JSON.stringify(contents, null, 2)}\n`, { mode: 0o600 });
  return path;
};

export const removeRuntimeFile = (dir: string): void => rmSync(join(dir, RUNTIME_FILE), { force: true });

/** The running local runtime's file, or undefined when none is running there. */
export const readRuntimeFile = (dir: string): RuntimeFile | undefined => {
  let text: string;
  try {
    text = readFileSync(join(dir, RUNTIME_FILE), "utf8");
  } catch {
    return undefined;
  }
  const path = join(dir, RUNTIME_FILE);
  const json = parseJson(text, path);
  // A file left by a runtime that is gone (of whatever version) just means none is running.
  const pid = (json as { pid?: unknown } | null)?.pid;
  if (typeof pid === "number" && !isRunning(pid)) return undefined;
  return parseRuntimeFile(json, path);
};
