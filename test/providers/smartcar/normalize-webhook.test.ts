import { describe, expect, it } from "vitest";
import { PayloadInvalidError } from "#core/ingest/errors.ts";
import { VehicleEvent } from "#core/model/event.ts";
import { eventIdOf } from "#core/model/ids.ts";
import { SmartcarVerifyNotNormalizableError } from "#providers/smartcar/errors.ts";
import { normalizeSmartcarWebhook } from "#providers/smartcar/normalize-webhook.ts";
import { samplePayload } from "#test/support/events.ts";

const RECEIVED_AT = "2025-10-31T07:39:13.000Z";
const BOLT = "123e4567-e89b-12d3-a456-426614174000";
const BOLT_HINTS = { displayName: "2022 CHEVROLET Bolt EV" };
const F150 = "8f14e45f-ceea-467a-9b1c-2d3e4f5a6b7c";

// Epoch milliseconds used by the samples.
const T0730 = "2025-10-31T07:30:00.000Z"; // 1761895800000
const T0735 = "2025-10-31T07:35:00.000Z"; // 1761896100000
const T0739 = "2025-10-31T07:39:00.000Z"; // 1761896340000 (retrievedAt)
const DELIVERED = "2025-10-31T07:39:11.529Z"; // 1761896351529
const DELIVERED_CHARGING = "2025-10-31T07:39:12.000Z"; // 1761896352000

const event = (
  providerEventId: string,
  vehicle: string,
  type: string,
  occurredAt: string,
  data: object,
  signals: object,
  hints: object | undefined = BOLT_HINTS,
) => ({
  id: eventIdOf("smartcar", [providerEventId, type]),
  vehicleId: `smartcar:${vehicle}`,
  type,
  occurredAt,
  receivedAt: RECEIVED_AT,
  source: { provider: "smartcar", providerEventId },
  ...(hints === undefined ? {} : { vehicleHints: hints }),
  data,
  signals,
});

const at = <T>(value: T, observedAt: string) => ({ value, observedAt });

const STATE_ID = "5a537912-9ad3-424b-ba33-65a1704567e9";
const STATE_DTCS = [{ code: "P0300", occurredAt: "2025-10-31T07:20:00.000Z" }, { code: "P0171" }];

const captureError = (run: () => unknown): unknown => {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error("expected an error");
};

const issuesOf = (run: () => unknown) => {
  const error = captureError(run);
  expect(error).toBeInstanceOf(PayloadInvalidError);
  return (error as PayloadInvalidError).issues;
};

describe("normalizeSmartcarWebhook: documented samples", () => {
  it("turns a VEHICLE_STATE into one signals event in SI units, plus mil.on for the DTC trigger", () => {
    expect(normalizeSmartcarWebhook(samplePayload("smartcar", "vehicle-state"), RECEIVED_AT)).toStrictEqual({
      provider: "smartcar",
      deliveryId: `smartcar:${STATE_ID}`,
      events: [
        event(
          STATE_ID,
          BOLT,
          "signals",
          T0739, // the newest sample: the location, observed at 07:39
          {},
          {
            soc_pct: at(75, T0735),
            range_km: at(321.869, T0735), // 200 miles
            is_plugged_in: at(false, T0739), // no oemUpdatedAt: falls back to retrievedAt
            charge_limit_pct: at(80, T0730), // activeLimit null: the global limit
            charge_state: at("not_charging", T0730),
            location: at({ lat: 37.7749, lon: -122.4194, heading: 90 }, T0739),
            odometer_km: at(18234.6, T0735),
            dtcs: at(STATE_DTCS, T0735),
            mil_on: at(true, T0735),
          },
        ),
        event(
          STATE_ID,
          BOLT,
          "mil.on",
          T0735,
          { dtcs: STATE_DTCS },
          { dtcs: at(STATE_DTCS, T0735), mil_on: at(true, T0735) },
        ),
      ],
      ignored: [
        { type: "signal:charge-voltage", reason: "no canonical signal for this Smartcar signal" },
        { type: "signal:location-isathome", reason: "no canonical signal for this Smartcar signal" },
      ],
    });
  });

  it("emits charge.started when the IsCharging trigger fired and the car is now charging", () => {
    const id = "0b7c4f0e-8f61-4b7e-9a51-5c1f2f6c3d11";
    const chargeState = at("charging", T0735);
    expect(
      normalizeSmartcarWebhook(samplePayload("smartcar", "vehicle-state-charging-started"), RECEIVED_AT),
    ).toStrictEqual({
      provider: "smartcar",
      deliveryId: `smartcar:${id}`,
      events: [
        event(
          id,
          BOLT,
          "signals",
          T0735,
          {},
          {
            soc_pct: at(42.5, T0735),
            is_plugged_in: at(true, T0735),
            charge_limit_pct: at(90, T0735), // activeLimit wins over the global 80
            charge_state: chargeState,
          },
        ),
        event(id, BOLT, "charge.started", T0735, {}, { charge_state: chargeState }),
      ],
      ignored: [],
    });
  });

  it("emits charge.completed when charging stopped, still plugged in, at the active limit", () => {
    const id = "c2e9a6d4-71b3-4f0a-8d25-9e4b6f1a0c57";
    const chargeState = at("fully_charged", T0735);
    expect(
      normalizeSmartcarWebhook(samplePayload("smartcar", "vehicle-state-charging-completed"), RECEIVED_AT),
    ).toStrictEqual({
      provider: "smartcar",
      deliveryId: `smartcar:${id}`,
      events: [
        event(
          id,
          BOLT,
          "signals",
          T0735,
          {},
          {
            soc_pct: at(80, T0735),
            is_plugged_in: at(true, T0735),
            charge_limit_pct: at(80, T0735),
            charge_state: chargeState,
          },
        ),
        event(id, BOLT, "charge.completed", T0735, {}, { charge_state: chargeState }),
      ],
      ignored: [],
    });
  });

  it("reads a FIRST_DELIVERY baseline as signals only, converting gallons and miles", () => {
    const id = "9d1e5b7a-2c4f-4e8b-a6d0-3f7c1b9e5a24";
    expect(
      normalizeSmartcarWebhook(samplePayload("smartcar", "vehicle-state-first-delivery"), RECEIVED_AT),
    ).toStrictEqual({
      provider: "smartcar",
      deliveryId: `smartcar:${id}`,
      events: [
        event(
          id,
          F150,
          "signals",
          T0739,
          {},
          {
            fuel_pct: at(65, T0730),
            fuel_l: at(47.318, T0730), // 12.5 US gallons
            oil_life_pct: at(72, T0730),
            odometer_km: at(50292, T0739), // 31,250 miles, observed at retrievedAt
            is_locked: at(false, T0735),
            doors: at({ front_left: "open", front_right: "closed", rear_left: "closed", rear_right: "closed" }, T0735),
            dtcs: at([], T0735),
            mil_on: at(false, T0735),
          },
          { displayName: "2021 FORD F-150" },
        ),
      ],
      ignored: [
        { type: "signal:lowvoltagebattery-stateofcharge", reason: "no canonical signal for this Smartcar signal" },
      ],
    });
  });

  it("turns a VEHICLE_ERROR into one vehicle.error event at the delivery time", () => {
    const id = "e4a1c7d2-9b3f-4e6a-8c0d-5f2b7a9e1c38";
    expect(normalizeSmartcarWebhook(samplePayload("smartcar", "vehicle-error"), RECEIVED_AT)).toStrictEqual({
      provider: "smartcar",
      deliveryId: `smartcar:${id}`,
      events: [
        event(
          id,
          BOLT,
          "vehicle.error",
          DELIVERED,
          { code: "VEHICLE_STATE:ASLEEP", message: "VEHICLE_STATE:ASLEEP: Vehicle is in sleep mode" },
          {},
        ),
      ],
      ignored: [],
    });
  });

  it("reports a VEHICLE_ERROR that only resolves errors as ignored, with no event", () => {
    const id = "f5b2d8e3-0c4a-4f7b-9d1e-6a3c8b0f2d49";
    expect(normalizeSmartcarWebhook(samplePayload("smartcar", "vehicle-error-resolved"), RECEIVED_AT)).toStrictEqual({
      provider: "smartcar",
      deliveryId: `smartcar:${id}`,
      events: [],
      ignored: [{ type: "error:VEHICLE_STATE:ASLEEP", reason: "error resolved; no canonical event for resolutions" }],
    });
  });

  it("produces only events that satisfy the canonical schema", () => {
    for (const name of [
      "vehicle-state",
      "vehicle-state-charging-started",
      "vehicle-state-charging-completed",
      "vehicle-state-first-delivery",
      "vehicle-error",
    ]) {
      for (const canonical of normalizeSmartcarWebhook(samplePayload("smartcar", name), RECEIVED_AT).events) {
        expect(VehicleEvent.parse(canonical)).toStrictEqual(canonical);
      }
    }
  });

  it("gives a retried delivery (same eventId) the same delivery and event ids", () => {
    const first = normalizeSmartcarWebhook(samplePayload("smartcar", "vehicle-state"), RECEIVED_AT);
    const retry = samplePayload("smartcar", "vehicle-state");
    (retry.meta as Record<string, unknown>).deliveryId = "another-delivery-attempt";
    const second = normalizeSmartcarWebhook(retry, "2025-10-31T07:45:00.000Z");
    expect(second.deliveryId).toBe(first.deliveryId);
    expect(second.events.map((e) => e.id)).toStrictEqual(first.events.map((e) => e.id));
  });
});

describe("normalizeSmartcarWebhook: transitions and lenient readings", () => {
  const chargingSample = () => samplePayload("smartcar", "vehicle-state-charging-started");
  const signalsOf = (payload: Record<string, unknown>) =>
    (payload.data as { signals: Record<string, unknown>[] }).signals;

  it("emits charge.stopped when charging stopped below the limit", () => {
    const payload = chargingSample();
    signalsOf(payload)[0] = { ...signalsOf(payload)[0], body: { value: false } };
    const types = normalizeSmartcarWebhook(payload, RECEIVED_AT).events.map((e) => e.type);
    expect(types).toStrictEqual(["signals", "charge.stopped"]);
  });

  it("emits no charge event when IsCharging is present but not among the triggers", () => {
    const payload = chargingSample();
    payload.triggers = [{ type: "SIGNAL_UPDATED", signal: { code: "tractionbattery-stateofcharge" } }];
    const types = normalizeSmartcarWebhook(payload, RECEIVED_AT).events.map((e) => e.type);
    expect(types).toStrictEqual(["signals"]);
  });

  it("emits no transition for a FIRST_DELIVERY baseline", () => {
    const payload = chargingSample();
    payload.triggers = [{ type: "FIRST_DELIVERY" }];
    const types = normalizeSmartcarWebhook(payload, RECEIVED_AT).events.map((e) => e.type);
    expect(types).toStrictEqual(["signals"]);
  });

  it("accepts flat trigger items and triggers under data", () => {
    const payload = chargingSample();
    delete payload.triggers;
    (payload.data as Record<string, unknown>).triggers = [
      { code: "charge-ischarging", name: "IsCharging", group: "Charge" },
    ];
    const types = normalizeSmartcarWebhook(payload, RECEIVED_AT).events.map((e) => e.type);
    expect(types).toStrictEqual(["signals", "charge.started"]);
  });

  it("emits mil.off when the DTC trigger fired with an empty list", () => {
    const payload = samplePayload("smartcar", "vehicle-state");
    const dtcSignal = signalsOf(payload).find((signal) => signal.code === "diagnostics-dtclist");
    if (dtcSignal === undefined) throw new Error("sample lost its DTC signal");
    dtcSignal.body = { values: [] };
    const mil = normalizeSmartcarWebhook(payload, RECEIVED_AT).events.find((e) => e.type.startsWith("mil."));
    expect(mil).toStrictEqual(
      event(STATE_ID, BOLT, "mil.off", T0735, { dtcs: [] }, { dtcs: at([], T0735), mil_on: at(false, T0735) }),
    );
  });

  it("keeps a mapped signal that Smartcar could not read out of the event and reports why", () => {
    const payload = chargingSample();
    signalsOf(payload)[2] = {
      code: "tractionbattery-stateofcharge",
      name: "StateOfCharge",
      group: "TractionBattery",
      status: { value: "ERROR", error: { code: "VEHICLE_NOT_CAPABLE", type: "COMPATIBILITY" } },
    };
    const delivery = normalizeSmartcarWebhook(payload, RECEIVED_AT);
    expect(delivery.ignored).toStrictEqual([
      {
        type: "signal:tractionbattery-stateofcharge",
        reason: "signal status ERROR: COMPATIBILITY VEHICLE_NOT_CAPABLE",
      },
    ]);
    expect(Object.keys(delivery.events[0]?.signals ?? {})).toStrictEqual([
      "is_plugged_in",
      "charge_limit_pct",
      "charge_state",
    ]);
  });

  it("observes a signal without meta at meta.deliveredAt, read as epoch seconds when below 1e11", () => {
    const payload = chargingSample();
    for (const signal of signalsOf(payload)) delete signal.meta;
    (payload.meta as Record<string, unknown>).deliveredAt = 1700000000;
    const [signals] = normalizeSmartcarWebhook(payload, RECEIVED_AT).events;
    expect(signals?.occurredAt).toBe("2023-11-14T22:13:20.000Z");
    expect(signals?.signals.soc_pct).toStrictEqual(at(42.5, "2023-11-14T22:13:20.000Z"));
  });

  it("observes a signal at the receipt time when neither the signal nor the delivery has a time", () => {
    const payload = chargingSample();
    for (const signal of signalsOf(payload)) delete signal.meta;
    delete payload.meta;
    const [signals] = normalizeSmartcarWebhook(payload, RECEIVED_AT).events;
    expect(signals?.signals.soc_pct).toStrictEqual(at(42.5, RECEIVED_AT));
  });

  it("emits no event for a VEHICLE_STATE whose signals are all unmapped", () => {
    const payload = chargingSample();
    (payload.data as Record<string, unknown>).signals = [
      { code: "charge-voltage", name: "Voltage", group: "Charge", body: { unit: "volts", value: 240 } },
    ];
    expect(normalizeSmartcarWebhook(payload, RECEIVED_AT)).toStrictEqual({
      provider: "smartcar",
      deliveryId: "smartcar:0b7c4f0e-8f61-4b7e-9a51-5c1f2f6c3d11",
      events: [],
      ignored: [{ type: "signal:charge-voltage", reason: "no canonical signal for this Smartcar signal" }],
    });
  });

  it("folds any heading into 0..360 and names doors beyond two rows by number", () => {
    const payload = chargingSample();
    (payload.data as Record<string, unknown>).signals = [
      { code: "location-preciselocation", body: { latitude: 51.5014, longitude: -0.1419, heading: -90 } },
      {
        code: "closure-doors",
        body: {
          values: [
            { row: 2, column: 0, isOpen: true },
            { row: 0, column: 2, isOpen: false },
            { row: 1, column: 1 },
          ],
        },
      },
    ];
    const [signals] = normalizeSmartcarWebhook(payload, RECEIVED_AT).events;
    expect(signals?.signals).toStrictEqual({
      location: at({ lat: 51.5014, lon: -0.1419, heading: 270 }, DELIVERED_CHARGING),
      doors: at({ row2_left: "open", front_column2: "closed" }, DELIVERED_CHARGING),
    });
  });

  it("reports charge limits with neither an active nor a global limit as ignored", () => {
    const payload = chargingSample();
    (payload.data as Record<string, unknown>).signals = [
      {
        code: "charge-chargelimits",
        body: { values: [{ type: "LOCATION", limit: 90, condition: null }], activeLimit: null, unit: "percent" },
      },
    ];
    expect(normalizeSmartcarWebhook(payload, RECEIVED_AT).ignored).toStrictEqual([
      { type: "signal:charge-chargelimits", reason: "no active or global limit" },
    ]);
  });

  it("accepts an unknown event type and reports it as ignored", () => {
    expect(
      normalizeSmartcarWebhook({ eventId: "evt-1", eventType: "VEHICLE_COMMAND", data: {} }, RECEIVED_AT),
    ).toStrictEqual({
      provider: "smartcar",
      deliveryId: "smartcar:evt-1",
      events: [],
      ignored: [{ type: "event:VEHICLE_COMMAND", reason: "unsupported Smartcar event type" }],
    });
  });

  it("refuses a VERIFY with a typed error: the handler answers it", () => {
    const error = captureError(() => normalizeSmartcarWebhook(samplePayload("smartcar", "verify"), RECEIVED_AT));
    expect(error).toBeInstanceOf(SmartcarVerifyNotNormalizableError);
    expect((error as SmartcarVerifyNotNormalizableError).eventId).toBe("52f6e0bb-1369-45da-a61c-9e67d092d6db");
  });
});

describe("normalizeSmartcarWebhook: schema violations", () => {
  it("names a missing vehicle", () => {
    expect(
      issuesOf(() => normalizeSmartcarWebhook(samplePayload("smartcar", "malformed-missing-vehicle"), RECEIVED_AT)),
    ).toStrictEqual([{ path: "data.vehicle", message: "Invalid input: expected object, received undefined" }]);
  });

  it("names each bad field inside the bodies of mapped signals", () => {
    expect(
      issuesOf(() => normalizeSmartcarWebhook(samplePayload("smartcar", "malformed-signal-bodies"), RECEIVED_AT)),
    ).toStrictEqual([
      { path: "data.signals[0].body.value", message: "Invalid input: expected number, received string" },
      { path: "data.signals[1].body.latitude", message: "Too big: expected number to be <=90" },
      { path: "data.signals[2].body.unit", message: 'Invalid option: expected one of "kilometers"|"miles"' },
    ]);
  });

  it("names a missing eventId", () => {
    expect(
      issuesOf(() => normalizeSmartcarWebhook(samplePayload("smartcar", "malformed-envelope"), RECEIVED_AT)),
    ).toStrictEqual([{ path: "eventId", message: "Invalid input: expected string, received undefined" }]);
  });

  it("names every problem of a malformed VEHICLE_ERROR", () => {
    expect(
      issuesOf(() => normalizeSmartcarWebhook(samplePayload("smartcar", "malformed-vehicle-error"), RECEIVED_AT)),
    ).toStrictEqual([
      { path: "data.vehicle.id", message: "must be a Smartcar vehicle id without whitespace" },
      { path: "data.errors", message: "Too small: expected array to have >=1 items" },
      { path: "meta.deliveredAt", message: "Invalid ISO datetime" },
    ]);
  });

  it("rejects a state of charge above 100 percent", () => {
    const payload = samplePayload("smartcar", "vehicle-state-charging-started");
    (payload.data as { signals: Record<string, unknown>[] }).signals[2] = {
      code: "tractionbattery-stateofcharge",
      body: { unit: "percent", value: 150 },
    };
    expect(issuesOf(() => normalizeSmartcarWebhook(payload, RECEIVED_AT))).toStrictEqual([
      { path: "data.signals[2].body.value", message: "Too big: expected number to be <=100" },
    ]);
  });

  it("rejects times that have no four-digit-year ISO form", () => {
    const payload = samplePayload("smartcar", "vehicle-state-charging-started");
    const [first] = (payload.data as { signals: Record<string, unknown>[] }).signals;
    if (first === undefined) throw new Error("sample lost its signals");
    first.meta = { oemUpdatedAt: 253_402_300_800_000 };
    (payload.meta as Record<string, unknown>).deliveredAt = "9999-12-31T23:00:00-05:00";
    expect(issuesOf(() => normalizeSmartcarWebhook(payload, RECEIVED_AT))).toStrictEqual([
      { path: "data.signals[0].meta.oemUpdatedAt", message: "Too big: expected number to be <=253402300799999" },
      { path: "meta.deliveredAt", message: "must fall between the years 0000 and 9999 in UTC" },
    ]);
  });

  it("rejects a payload that is not an object", () => {
    expect(issuesOf(() => normalizeSmartcarWebhook("VEHICLE_STATE", RECEIVED_AT))).toStrictEqual([
      { path: "$", message: "Invalid input: expected object, received string" },
    ]);
  });
});
