import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const eventsDir = fileURLToPath(new URL("../events/", import.meta.url));

/** A fresh copy of a sample payload from test/events/<provider>/<name>.json. */
export const samplePayload = (provider: string, name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(`${eventsDir}${provider}/${name}.json`, "utf8"));

/** The raw text of a sample payload, as a provider would post it. */
export const sampleBody = (provider: string, name: string): string =>
  readFileSync(`${eventsDir}${provider}/${name}.json`, "utf8");
