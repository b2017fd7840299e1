import { describe, expect, it } from "vitest";
import { eventIdOf } from "#core/model/ids.ts";
import type { SignalSamples } from "#core/model/signals.ts";
import { emptySnapshot, type VehicleSnapshot } from "#core/model/snapshot.ts";
import { diffPoll } from "#core/polling/diff-poll.ts";

const VEHICLE = "smartcar:v1";
const POLLED_AT = new Date("2026-11-22T12:00:30.000Z");
const T0 = "2026-11-22T12:00:00.000Z";
const T1 = "2026-11-22T12:00:20.000Z";

const snapshotWith = (signals: SignalSamples): VehicleSnapshot => ({ ...emptySnapshot(VEHICLE), signals, version: 3 });
const id = (type: string, at: string, sampled: string) => eventIdOf("smartcar", [VEHICLE, "poll", type, at, sampled]);
const base = (type: string, at: string, sampled: string) => ({
  id: id(type, at, sampled),
  vehicleId: VEHICLE,
  type,
  occurredAt: at,
  receivedAt: POLLED_AT.toISOString(),
  source: { provider: "smartcar" },
});

describe("diffPoll", () => {
  it("emits a location event and one signals event with only the samples newer than the snapshot", () => {
    const snapshot = snapshotWith({
      soc_pct: { value: 80, observedAt: T1 },
      odometer_km: { value: 10, observedAt: T0 },
    });
    const location = { value: { lat: 52.5, lon: 13.4 }, observedAt: T1 };
    const events = diffPoll(
      snapshot,
      {
        signals: {
          soc_pct: { value: 79, observedAt: T0 },
          odometer_km: { value: 12, observedAt: T1 },
          location,
        },
        requestsUsed: 1,
      },
      "smartcar",
      POLLED_AT,
    );
    expect(events).toStrictEqual([
      { ...base("location", T1, `odometer_km@${T1},location@${T1}`), data: {}, signals: { location } },
      {
        ...base("signals", T1, `odometer_km@${T1},location@${T1}`),
        data: {},
        signals: { odometer_km: { value: 12, observedAt: T1 }, location },
      },
    ]);
  });

  it("emits nothing when the poll brought nothing new", () => {
    const snapshot = snapshotWith({ soc_pct: { value: 80, observedAt: T1 } });
    expect(
      diffPoll(
        snapshot,
        { signals: { soc_pct: { value: 80, observedAt: T1 } }, requestsUsed: 1 },
        "smartcar",
        POLLED_AT,
      ),
    ).toStrictEqual([]);
  });

  it("turns a DTC that appeared into mil.on with just the new code, and DTCs cleared into mil.off", () => {
    const p0420 = { code: "P0420", description: "Catalyst efficiency below threshold" };
    const p0301 = { code: "P0301" };
    const before = snapshotWith({ dtcs: { value: [p0420], observedAt: T0 }, mil_on: { value: true, observedAt: T0 } });
    const appeared = diffPoll(
      before,
      { signals: { odometer_km: { value: 5, observedAt: T1 } }, dtcs: [p0420, p0301], requestsUsed: 1 },
      "smartcar",
      POLLED_AT,
    );
    expect(appeared.map((event) => [event.type, event.data])).toStrictEqual([
      ["mil.on", { dtcs: [p0301] }],
      ["signals", {}],
    ]);
    const cleared = diffPoll(
      before,
      { signals: { odometer_km: { value: 5, observedAt: T1 } }, dtcs: [], requestsUsed: 1 },
      "smartcar",
      POLLED_AT,
    );
    expect(cleared[0]).toStrictEqual({
      ...base("mil.off", T1, `odometer_km@${T1},dtcs@${T1},mil_on@${T1}`),
      data: { dtcs: [p0420] },
      signals: { dtcs: { value: [], observedAt: T1 }, mil_on: { value: false, observedAt: T1 } },
    });
  });

  it.each([
    ["not_charging", "charging", "charge.started"],
    ["charging", "fully_charged", "charge.completed"],
    ["charging", "not_charging", "charge.stopped"],
  ] as const)("turns charge state %s → %s into %s", (from, to, type) => {
    const snapshot = snapshotWith({ charge_state: { value: from, observedAt: T0 } });
    const events = diffPoll(
      snapshot,
      { signals: { charge_state: { value: to, observedAt: T1 } }, requestsUsed: 1 },
      "smartcar",
      POLLED_AT,
    );
    expect(events.map((event) => event.type)).toStrictEqual([type, "signals"]);
  });

  it("gives different ids to two polls whose different fresh samples share their newest time", () => {
    const first = diffPoll(
      emptySnapshot(VEHICLE),
      { signals: { soc_pct: { value: 50, observedAt: T1 } }, requestsUsed: 1 },
      "smartcar",
      POLLED_AT,
    );
    const second = diffPoll(
      emptySnapshot(VEHICLE),
      {
        signals: { soc_pct: { value: 50, observedAt: T1 }, odometer_km: { value: 7, observedAt: T1 } },
        requestsUsed: 1,
      },
      "smartcar",
      POLLED_AT,
    );
    expect(first[0]?.id).not.toBe(second[0]?.id);
  });

  it("gives the same ids when the same poll is diffed twice", () => {
    const sample = { signals: { soc_pct: { value: 50, observedAt: T1 } }, requestsUsed: 1 };
    const first = diffPoll(emptySnapshot(VEHICLE), sample, "smartcar", POLLED_AT);
    const again = diffPoll(emptySnapshot(VEHICLE), sample, "smartcar", new Date("2026-11-22T12:05:00.000Z"));
    expect(again.map((event) => event.id)).toStrictEqual(first.map((event) => event.id));
  });
});
