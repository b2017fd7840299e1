import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PayloadInvalidError } from "#core/ingest/errors.ts";
import { VehicleEvent } from "#core/model/event.ts";
import { eventIdOf } from "#core/model/ids.ts";
import { normalizeAutomaticEvent } from "#providers/automatic/normalize-webhook.ts";
import { samplePayload } from "#test/support/events.ts";

const RECEIVED_AT = "2026-11-22T10:00:00.000Z";
const PROVIDER_EVENT_ID = "f61ba3d5-a68e-43eb-a731-0db871b4d3a3";

// The seed's webhook examples share one vehicle and epoch-ms time; the websocket ones another, in ISO.
const WEBHOOK = {
  vehicle: "C_8e7b567626c26695",
  at: "2013-11-03T03:14:10.201Z", // 1383448450201
  locationAt: "2013-11-03T03:14:10.201Z",
  hints: { displayName: "My Speed Demon", timeZone: "America/Los_Angeles" },
};
const WEBSOCKET = {
  vehicle: "C_507d6f1bd6d9b855",
  at: "2015-04-12T17:45:18.123Z",
  locationAt: "2015-04-12T17:45:01.123Z",
  hints: { timeZone: "America/Los_Angeles" },
};
const SEED_LOCATION = { lat: 37.757076, lon: -122.44812, accuracy_m: 10 };
const P0442 = { code: "P0442", description: "Small fuel vapor leak in EVAP system" };

type Shape = typeof WEBHOOK | typeof WEBSOCKET;

const expectedEvent = (
  shape: Shape,
  type: string,
  data: object,
  signals: object,
  occurredAt = shape.at,
  idPart = PROVIDER_EVENT_ID,
) => ({
  id: eventIdOf("automatic", [shape.vehicle, idPart, type]),
  vehicleId: `automatic:${shape.vehicle}`,
  occurredAt,
  receivedAt: RECEIVED_AT,
  source: { provider: "automatic", providerEventId: PROVIDER_EVENT_ID },
  vehicleHints: shape.hints,
  type,
  data,
  signals,
});

const located = (shape: Shape) => ({ location: { value: SEED_LOCATION, observedAt: shape.locationAt } });

const cases: [string, Shape, string, object, object][] = [];
for (const [shape, suffix] of [
  [WEBHOOK, "webhook"],
  [WEBSOCKET, "websocket"],
] as const) {
  const dtc = { ...P0442, occurredAt: shape === WEBHOOK ? "2013-11-03T03:14:10.301Z" : "2015-04-12T17:44:11.123Z" };
  cases.push(
    [
      `ignition-on.${suffix}`,
      shape,
      "ignition.on",
      {},
      { ...located(shape), ignition_on: { value: true, observedAt: shape.at } },
    ],
    [
      `ignition-off.${suffix}`,
      shape,
      "ignition.off",
      {},
      { ...located(shape), ignition_on: { value: false, observedAt: shape.at } },
    ],
    [
      `notification-speeding.${suffix}`,
      shape,
      "speeding",
      { max_speed_kph: 112.654 },
      { ...located(shape), speed_kph: { value: 112.654, observedAt: shape.at } },
    ],
    [`notification-hard_brake.${suffix}`, shape, "hard_brake", { g_force: 0.3 }, located(shape)],
    [`notification-hard_accel.${suffix}`, shape, "hard_accel", { g_force: 0.3 }, located(shape)],
    [
      `mil-on.${suffix}`,
      shape,
      "mil.on",
      { dtcs: [dtc] },
      {
        ...located(shape),
        mil_on: { value: true, observedAt: shape.at },
        dtcs: { value: [dtc], observedAt: shape.at },
      },
    ],
    [
      `mil-off.${suffix}`,
      shape,
      "mil.off",
      { dtcs: [dtc], user_cleared: true },
      {
        ...located(shape),
        mil_on: { value: false, observedAt: shape.at },
        dtcs: { value: [], observedAt: shape.at },
      },
    ],
  );
}
cases.push(["location-updated.websocket", WEBSOCKET, "location", {}, located(WEBSOCKET)]);

describe("normalizeAutomaticEvent", () => {
  it.each(cases)("normalizes the seed's %s example exactly", (sample, shape, type, data, signals) => {
    const delivery = normalizeAutomaticEvent(samplePayload("automatic", sample), RECEIVED_AT);
    const automaticType = samplePayload("automatic", sample).type;
    expect(delivery).toStrictEqual({
      provider: "automatic",
      deliveryId: `automatic:${PROVIDER_EVENT_ID}:${automaticType}`,
      events: [expectedEvent(shape, type, data, signals)],
      ignored: [],
    });
    expect(VehicleEvent.safeParse(delivery.events[0]).success).toBe(true);
  });

  it("normalizes a webhook trip:finished in imperial units to km and litres at the trip's end time", () => {
    const delivery = normalizeAutomaticEvent(samplePayload("automatic", "trip-finished.webhook"), RECEIVED_AT);
    const end = { lat: 37.78270046281092, lon: -122.4064556183999, accuracy_m: 100 };
    expect(delivery.events).toStrictEqual([
      expectedEvent(
        WEBHOOK,
        "trip.finished",
        {
          tripId: "T_8e7b567626c26695",
          startedAt: "2013-11-03T03:14:10.201Z",
          endedAt: "2013-11-03T03:39:10.201Z",
          distance_km: 6.573,
          duration_s: 1500,
          start: { lat: 37.7692903, lon: -122.4465469, accuracy_m: 5 },
          end,
          fuel_l: 0.933, // 0.2465857561582522 gal
          hard_brakes: 1,
          hard_accels: 0,
          idling_s: 78.47,
        },
        { location: { value: end, observedAt: "2013-11-03T03:39:10.201Z" } },
        "2013-11-03T03:39:10.201Z",
        "T_8e7b567626c26695", // trips are identified by trip id, as REST backfill identifies them
      ),
    ]);
  });

  it("normalizes a websocket trip:finished carrying the REST trip object", () => {
    const delivery = normalizeAutomaticEvent(samplePayload("automatic", "trip-finished.websocket"), RECEIVED_AT);
    const end = { lat: 34.08308, lon: -118.3659, accuracy_m: 9 };
    expect(delivery.events).toStrictEqual([
      expectedEvent(
        WEBSOCKET,
        "trip.finished",
        {
          tripId: "T_5ecb5afa2422d3d8",
          startedAt: "2015-03-20T00:53:43.969Z",
          endedAt: "2015-03-20T01:43:36.738Z",
          distance_km: 16.219,
          duration_s: 2992.8,
          start: { lat: 33.95235, lon: -118.38511, accuracy_m: 3.9 },
          end,
          fuel_l: 2.1,
          hard_brakes: 0,
          hard_accels: 1,
          idling_s: 37,
        },
        { location: { value: end, observedAt: "2015-03-20T01:43:36.738Z" } },
        "2015-03-20T01:43:36.738Z",
        "T_5ecb5afa2422d3d8",
      ),
    ]);
  });

  it("converts 1 US gallon to 3.785 litres", () => {
    const payload = samplePayload("automatic", "trip-finished.webhook");
    (payload.trip as Record<string, unknown>).fuel_volume_gal = 1;
    const [event] = normalizeAutomaticEvent(payload, RECEIVED_AT).events;
    expect(event?.type === "trip.finished" && event.data.fuel_l).toBe(3.785);
  });

  it("gives a redelivered event the same id and a different event a different id", () => {
    const first = normalizeAutomaticEvent(samplePayload("automatic", "mil-on.webhook"), RECEIVED_AT);
    const again = normalizeAutomaticEvent(samplePayload("automatic", "mil-on.webhook"), "2026-11-22T10:00:30.000Z");
    const other = samplePayload("automatic", "mil-on.webhook");
    other.id = "0b3d1f0e-0000-4000-8000-000000000001";
    expect(again.events[0]?.id).toBe(first.events[0]?.id);
    expect(normalizeAutomaticEvent(other, RECEIVED_AT).events[0]?.id).not.toBe(first.events[0]?.id);
  });

  it("accepts an unknown event type and reports it as ignored", () => {
    const payload = { ...samplePayload("automatic", "ignition-on.webhook"), type: "region:changed" };
    expect(normalizeAutomaticEvent(payload, RECEIVED_AT)).toStrictEqual({
      provider: "automatic",
      deliveryId: `automatic:${PROVIDER_EVENT_ID}:region:changed`,
      events: [],
      ignored: [{ type: "region:changed", reason: "unsupported Automatic event type" }],
    });
  });

  it.each([
    [
      "a missing type",
      (p: Record<string, unknown>) => delete p.type,
      [{ path: "type", message: "Invalid input: expected string, received undefined" }],
    ],
    [
      "a string speed",
      (p: Record<string, unknown>) => (p.speed_mph = "fast"),
      [{ path: "speed_mph", message: "Invalid input: expected number, received string" }],
    ],
    [
      "a latitude past the pole",
      (p: Record<string, unknown>) => ((p.location as Record<string, unknown>).lat = 91),
      [{ path: "location.lat", message: "Too big: expected number to be <=90" }],
    ],
    [
      "a missing vehicle id",
      (p: Record<string, unknown>) => delete (p.vehicle as Record<string, unknown>).id,
      [{ path: "vehicle.id", message: "Invalid input: expected string, received undefined" }],
    ],
    [
      "a created_at that is neither epoch ms nor ISO",
      (p: Record<string, unknown>) => (p.created_at = true),
      [{ path: "created_at", message: "expected epoch milliseconds (webhook) or an ISO 8601 string (websocket)" }],
    ],
  ])("rejects %s with the field path and message", (_name, mutate, issues) => {
    const payload = samplePayload("automatic", "notification-speeding.webhook");
    mutate(payload);
    const error = captureError(() => normalizeAutomaticEvent(payload, RECEIVED_AT));
    expect(error).toBeInstanceOf(PayloadInvalidError);
    expect((error as PayloadInvalidError).issues).toStrictEqual(issues);
  });

  it("rejects a bad DTC with the array index in the path", () => {
    const payload = samplePayload("automatic", "mil-on.websocket");
    (payload.dtcs as Record<string, unknown>[])[0] = { code: "" };
    const error = captureError(() => normalizeAutomaticEvent(payload, RECEIVED_AT));
    expect((error as PayloadInvalidError).issues).toStrictEqual([
      { path: "dtcs[0].code", message: "Too small: expected string to have >=1 characters" },
    ]);
  });

  it("never throws anything but PayloadInvalidError for mutated payloads", () => {
    const samples = [
      "ignition-on.webhook",
      "mil-on.websocket",
      "trip-finished.webhook",
      "notification-speeding.websocket",
    ];
    fc.assert(
      fc.property(
        fc.constantFrom(...samples),
        fc.array(fc.tuple(fc.string(), fc.anything()), { maxLength: 4 }),
        (sample, mutations) => {
          const payload = samplePayload("automatic", sample);
          for (const [key, value] of mutations) payload[key] = value;
          try {
            const delivery = normalizeAutomaticEvent(payload, RECEIVED_AT);
            for (const event of delivery.events) VehicleEvent.parse(event);
          } catch (error) {
            if (!(error instanceof PayloadInvalidError)) throw error;
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});

const captureError = (run: () => unknown): unknown => {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error("expected an error");
};
