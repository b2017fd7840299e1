import type { TestProject } from "vitest/node";
import { startMotoServer } from "#local/moto-server.ts";

declare module "vitest" {
  export interface ProvidedContext {
    /** moto's endpoint in the strict tier; absent in the embedded tier. */
    strictEngineEndpoint: string;
  }
}

/**
 * Global setup of the strict tier: one moto server for the whole run (each runtime and table takes its own name
 * prefix in it), given to the test files as `inject("strictEngineEndpoint")`.
 */
export default async function setup(project: TestProject) {
  const moto = await startMotoServer({ startTimeoutMs: 60_000 });
  project.provide("strictEngineEndpoint", moto.endpoint);
  return () => moto.stop();
}
