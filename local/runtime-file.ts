import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as z from "zod";

/**
 * What a running `npm start` tells the `dashlight` CLI: where its API and engines
 * listen and what it provisioned. Written to <data dir>/runtime.json at start,
 * removed at stop; the engines' ports change at every start.
 */
export const RuntimeFile = z.object({
  pid: z.number().int(),
  url: z.url(),
  endpoints: z.object({ dynamodb: z.url(), sqs: z.url() }),
  tableName: z.string().min(1),
  queues: z.record(z.string(), z.object({ url: z.url(), dlqUrl: z.url() })),
});
export type RuntimeFile = z.infer<typeof RuntimeFile>;

const RUNTIME_FILE = "runtime.json";

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
  const parsed = RuntimeFile.parse(JSON.parse(text));
  try {
    process.kill(parsed.pid, 0); // still alive?
  } catch {
    return undefined;
  }
  return parsed;
};
