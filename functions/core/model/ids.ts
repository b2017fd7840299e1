import { createHash } from "node:crypto";
import type { Provider } from "./vehicle.ts";

/**
 * A stable event id derived from what identifies the provider's event, so a
 * redelivery of the same event gets the same id: `evt_` + 32 hex characters.
 *
 * @example eventIdOf("automatic", ["f61ba3d5-…", "mil.on"])
 */
export const eventIdOf = (provider: Provider, parts: readonly string[]): string =>
  `evt_${createHash("sha256")
    .update([provider, ...parts].join("\u001f"))
    .digest("hex")
    .slice(0, 32)}`;
