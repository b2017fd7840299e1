import { randomBytes } from "node:crypto";
import { inject } from "vitest";
import type { EngineChoice } from "#local/engines.ts";

/** Which tier this test file runs in: the embedded engines (dynalite, fauxqs), or the strict one (moto). */
export const testEngineKind = (): "embedded" | "strict" =>
  inject("strictEngineEndpoint") === undefined ? "embedded" : "strict";

/**
 * The engines a test's runtime or tables use: in the strict tier the shared moto server under a name prefix of the
 * caller's own (so files running side by side never meet), otherwise the embedded engines in memory, or in `dataDir`
 * when the test restarts on kept data (the strict tier keeps data in moto, under the same prefix, across restarts).
 */
export const testEngineChoice = (options: { dataDir?: string; resourcePrefix?: string } = {}): EngineChoice => {
  const endpoint = inject("strictEngineEndpoint");
  if (endpoint === undefined) return { kind: "embedded", dataDir: options.dataDir };
  return {
    kind: "external",
    dynamodbEndpoint: endpoint,
    sqsEndpoint: endpoint,
    resourcePrefix: options.resourcePrefix ?? freshResourcePrefix(),
  };
};

/** A name prefix no other runtime in this moto server has. */
export const freshResourcePrefix = (): string => `t${randomBytes(4).toString("hex")}-`;
