import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PayloadInvalidError } from "#core/ingest/errors.ts";
import { VehicleEvent } from "#core/model/event.ts";
import { normalizeSmartcarWebhook } from "#providers/smartcar/normalize-webhook.ts";
import { samplePayload } from "#test/support/events.ts";

const RECEIVED_AT = "2025-10-31T07:39:13.000Z";
const SAMPLES = [
  "vehicle-state",
  "vehicle-state-charging-started",
  "vehicle-state-charging-completed",
  "vehicle-state-first-delivery",
  "vehicle-error",
  "vehicle-error-resolved",
];

/** Either a normalized delivery whose events all satisfy the canonical schema, or a PayloadInvalidError. */
const normalizesOrRejects = (payload: unknown): void => {
  try {
    const delivery = normalizeSmartcarWebhook(payload, RECEIVED_AT);
    for (const event of delivery.events) VehicleEvent.parse(event);
  } catch (error) {
    if (!(error instanceof PayloadInvalidError)) throw error;
    expect(error.issues.length).toBeGreaterThan(0);
  }
};

type Json = Record<string, unknown> | unknown[];

/** Every object or array inside a value, so a mutation can land at any depth. */
const containers = (value: unknown, found: Json[] = []): Json[] => {
  if (value !== null && typeof value === "object" && !found.includes(value as Json)) {
    found.push(value as Json);
    for (const child of Object.values(value)) containers(child, found);
  }
  return found;
};

describe("normalizeSmartcarWebhook: fuzzing", () => {
  it("never throws anything but PayloadInvalidError for random values", () => {
    fc.assert(fc.property(fc.anything({ withNullPrototype: true, withObjectString: true }), normalizesOrRejects), {
      numRuns: 300,
    });
  });

  it("never throws anything but PayloadInvalidError for random envelopes", () => {
    const envelope = fc.record(
      {
        eventId: fc.oneof(fc.string(), fc.anything()),
        eventType: fc.constantFrom("VEHICLE_STATE", "VEHICLE_ERROR", "OTHER", 7),
        data: fc.anything(),
        triggers: fc.anything(),
        meta: fc.anything(),
      },
      { requiredKeys: ["eventId", "eventType"] },
    );
    fc.assert(fc.property(envelope, normalizesOrRejects), { numRuns: 300 });
  });

  it("never throws anything but PayloadInvalidError for samples mutated at any depth", () => {
    const replacement = fc.oneof(
      fc.anything(),
      fc.double(),
      fc.constantFrom(-1, 0, 1e11 - 1, 1e11, 8.64e15, 8.64e15 + 1, Number.MAX_SAFE_INTEGER, 101, -91, 361, -720),
      fc.constantFrom("", " ", "VERIFY_ME", "miles", "gallons", "percent", "2025-10-31T07:39:13Z", "not a date"),
      fc.constantFrom(null, true, false, [], {}),
    );
    fc.assert(
      fc.property(
        fc.constantFrom(...SAMPLES),
        fc.array(fc.tuple(fc.nat(), fc.string(), replacement, fc.boolean()), { minLength: 1, maxLength: 5 }),
        (sample, mutations) => {
          const payload = samplePayload("smartcar", sample);
          for (const [index, key, value, replaceExisting] of mutations) {
            const targets = containers(payload);
            const target = targets[index % targets.length] as Record<string, unknown>;
            const keys = Object.keys(target);
            const existing = keys[index % Math.max(keys.length, 1)];
            const field = replaceExisting && existing !== undefined ? existing : key;
            // An array's length is not a field a provider could send: setting it only breaks the test's own copy.
            if (Array.isArray(target) && field === "length") continue;
            // A copy: later mutations may land inside it, and fast-check's values must stay untouched.
            target[field] = structuredClone(value);
          }
          normalizesOrRejects(payload);
        },
      ),
      { numRuns: 1000 },
    );
  });
});
