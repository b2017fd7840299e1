import { createHmac } from "node:crypto";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LocalRuntime } from "#local/runtime.ts";
import { samplePayload } from "#test/support/events.ts";
import { startTestRuntime, TEST_AUTOMATIC_SECRET, TEST_SMARTCAR_TOKEN } from "#test/support/local-runtime.ts";

let runtime: LocalRuntime;
beforeAll(async () => {
  runtime = await startTestRuntime();
});
afterAll(async () => {
  await runtime?.stop();
});

const AUTOMATIC_SAMPLES = [
  "ignition-on.webhook",
  "mil-on.websocket",
  "trip-finished.webhook",
  "notification-speeding.websocket",
];
const SMARTCAR_SAMPLES = ["vehicle-state", "vehicle-error", "vehicle-state-charging-started"];

/** A payload with some fields replaced by arbitrary JSON values, at the top level or one level down. */
const mutatedPayload = (provider: string, samples: string[]) =>
  fc
    .tuple(
      fc.constantFrom(...samples),
      fc.array(
        fc.tuple(fc.constantFrom("", "data.", "vehicle.", "location."), fc.string({ maxLength: 12 }), fc.jsonValue()),
        {
          maxLength: 4,
        },
      ),
    )
    .map(([sample, mutations]) => {
      const payload = samplePayload(provider, sample);
      for (const [prefix, key, value] of mutations) {
        const target = prefix === "" ? payload : (payload[prefix.slice(0, -1)] as Record<string, unknown> | undefined);
        // An array's length is not a field a provider could send: setting it would only break this copy.
        if (target && typeof target === "object" && !(Array.isArray(target) && key === "length")) target[key] = value;
      }
      return JSON.stringify(payload);
    });

const anyBody = (provider: string, samples: string[]) =>
  fc.oneof(
    mutatedPayload(provider, samples),
    fc.jsonValue().map((value) => JSON.stringify(value)),
    fc.string(),
  );

const post = async (url: string, body: string, headers: Record<string, string> = {}) =>
  (await fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body })).status;

describe("ingest under random and mutated payloads", () => {
  it("never answers an Automatic delivery with a 5xx", async () => {
    await fc.assert(
      fc.asyncProperty(anyBody("automatic", AUTOMATIC_SAMPLES), async (body) => {
        const status = await post(`${runtime.url}/webhooks/automatic/${TEST_AUTOMATIC_SECRET}`, body);
        expect([202, 400]).toContain(status);
      }),
      { numRuns: 150 },
    );
  });

  it("never answers a signed Smartcar delivery with a 5xx", async () => {
    await fc.assert(
      fc.asyncProperty(anyBody("smartcar", SMARTCAR_SAMPLES), async (body) => {
        const signature = createHmac("sha256", TEST_SMARTCAR_TOKEN).update(body).digest("hex");
        const status = await post(`${runtime.url}/webhooks/smartcar`, body, { "sc-signature": signature });
        expect([200, 202, 400]).toContain(status);
      }),
      { numRuns: 150 },
    );
  });
});
