import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { VehicleEvent } from "#core/model/event.ts";
import { emptySnapshot, type VehicleSnapshot } from "#core/model/snapshot.ts";
import { applyEventToSnapshot } from "#core/snapshot/apply-event.ts";
import { SnapshotColumns, slotOf, UnknownSignalError } from "#core/snapshot/snapshot-columns.ts";

const VEHICLES = ["dimo:1", "dimo:2", "dimo:3"];
const T0 = Date.parse("2026-05-01T08:00:00.000Z");

/**
 * Canonical and other accepted spellings of one instant, so equal times can be told apart only
 * by value, and texts of the canonical shape that name no date (compared as text by
 * compareInstants, whatever Date.parse makes of them).
 */
const timeText = fc
  .record({
    seconds: fc.integer({ min: 0, max: 40 }),
    form: fc.constantFrom("canonical", "canonical", "no-ms", "offset", "april-31", "month-13"),
  })
  .map(({ seconds, form }) => {
    const canonical = new Date(T0 + seconds * 1000).toISOString();
    if (form === "canonical") return canonical;
    if (form === "no-ms") return canonical.replace(".000Z", "Z");
    if (form === "april-31") return canonical.replace("2026-05-01", "2026-04-31");
    if (form === "month-13") return canonical.replace("2026-05-01", "2026-13-01");
    return new Date(T0 + seconds * 1000 + 3_600_000).toISOString().replace(".000Z", "+01:00");
  });

/** A position that is not a plain `{ lat, lon }`: kept as given. */
class Position {
  lat = 48.85;
  lon = 2.35;
}

// Plain objects, as a parsed event has (fast-check's records have no prototype).
const sampleOf = <T>(value: fc.Arbitrary<T>) =>
  fc.record({ value, observedAt: timeText }).map((sample) => ({ ...sample }));

/** Samples of every kind of value the columns keep differently: numbers, positions, text, booleans, lists. */
const signals = fc
  .record(
    {
      speed_kph: sampleOf(fc.constantFrom(0, 42.5, 121)),
      location: sampleOf(
        fc.oneof(
          fc
            .record({ lat: fc.double({ min: -90, max: 90, noNaN: true }), lon: fc.constantFrom(-122.4, 2.35) })
            .map((position) => ({ ...position })),
          fc.constant({ lat: 48.85, lon: 2.35, heading: 90 }),
          fc.constant(null).map(() => ({ lon: 2.35, lat: 48.85 })),
          fc.constant(null).map(() => new Position()),
        ),
      ),
      charge_state: sampleOf(fc.constantFrom("charging" as const, "not_charging" as const)),
      mil_on: sampleOf(fc.boolean()),
      dtcs: sampleOf(fc.constant([{ code: "P0300" }])),
    },
    { requiredKeys: [] },
  )
  .map((samples) => ({ ...samples }));

const events = fc
  .array(
    fc.record({
      vehicle: fc.integer({ min: 0, max: VEHICLES.length - 1 }),
      id: fc.integer({ min: 0, max: 30 }),
      occurredAt: timeText,
      signals,
    }),
    { maxLength: 40 },
  )
  .map((draws) =>
    draws.map((d): [number, VehicleEvent] => [
      d.vehicle,
      {
        id: `e${String(d.id).padStart(2, "0")}`,
        vehicleId: VEHICLES[d.vehicle] as string,
        type: "signals",
        occurredAt: d.occurredAt,
        receivedAt: d.occurredAt,
        source: { provider: "dimo" },
        data: {},
        signals: d.signals as VehicleEvent["signals"],
      },
    ]),
  );

/** Event e1 of dimo:1 at 08:00 with these samples. */
const firstEvent = (signals: VehicleEvent["signals"]): VehicleEvent => ({
  id: "e1",
  vehicleId: "dimo:1",
  type: "signals",
  occurredAt: "2026-05-01T08:00:00.000Z",
  receivedAt: "2026-05-01T08:00:00.000Z",
  source: { provider: "dimo" },
  data: {},
  signals,
});

describe("SnapshotColumns", () => {
  it("builds, after any events, the snapshots applyEventToSnapshot builds, and reports the same changed signals", () => {
    const start: VehicleSnapshot[] = [
      emptySnapshot("dimo:1"),
      {
        vehicleId: "dimo:2",
        signals: { soc_pct: { value: 40, observedAt: "2026-05-01T08:00:10.000Z" } },
        sourceEventIds: { soc_pct: "e10" },
        lastEventAt: "2026-05-01T08:00:10.000Z",
        appliedEventIds: ["e10"],
        version: 7,
      },
      emptySnapshot("dimo:3"),
    ];
    fc.assert(
      fc.property(events, (stream) => {
        const columns = new SnapshotColumns(start);
        const expected = start.slice();
        for (const [v, event] of stream) {
          const change = applyEventToSnapshot(expected[v] as VehicleSnapshot, event);
          expected[v] = change.snapshot;
          const changed = columns.stage(v, event);
          expect(columns.stagedNames()).toEqual(change.changed);
          expect(changed).toBe(change.changed.reduce((bits, name) => bits | (1 << slotOf(name)), 0));
          columns.commit();
          expect(columns.snapshot(v)).toStrictEqual(expected[v]);
        }
        VEHICLES.forEach((_, v) => {
          expect(columns.snapshot(v)).toStrictEqual(expected[v]);
        });
      }),
      { numRuns: 300 },
    );
  });

  it("answers reads of positions and numbers from the columns, and undefined for what it never saw", () => {
    const columns = new SnapshotColumns([emptySnapshot("dimo:1")]);
    const observedAt = "2026-05-01T08:00:00.000Z";
    columns.stage(
      0,
      firstEvent({ speed_kph: { value: 88, observedAt }, location: { value: { lat: 48.85, lon: 2.35 }, observedAt } }),
    );
    expect(columns.stagedValue(slotOf("speed_kph"))).toBe(88);
    expect(columns.has(0, slotOf("speed_kph"))).toBe(false);
    columns.commit();
    expect(columns.value(0, slotOf("speed_kph"))).toBe(88);
    expect([columns.latitude(0, slotOf("location")), columns.longitude(0, slotOf("location"))]).toEqual([48.85, 2.35]);
    expect(columns.has(0, slotOf("soc_pct"))).toBe(false);
    expect(columns.value(0, slotOf("soc_pct"))).toBeUndefined();
    expect(columns.latitude(0, slotOf("soc_pct"))).toBeNaN();
  });

  it("refuses a signal the canonical model does not have, naming it and the event", () => {
    const columns = new SnapshotColumns([emptySnapshot("dimo:1")]);
    const event = firstEvent({ warp_factor: { value: 9, observedAt: "2026-05-01T08:00:00.000Z" } } as never);
    expect(() => columns.stage(0, event)).toThrow(new UnknownSignalError("warp_factor", "event e1"));
    expect(() => columns.stage(0, event)).toThrow('unknown signal "warp_factor" in event e1');
    for (const name of ["constructor", "__proto__", "toString"]) {
      const inherited = firstEvent(
        JSON.parse(`{"${name}": { "value": 9, "observedAt": "2026-05-01T08:00:00.000Z" }}`) as VehicleEvent["signals"],
      );
      expect(() => columns.stage(0, inherited)).toThrow(`unknown signal "${name}" in event e1`);
    }
    // Nothing of the refused events was kept or written.
    columns.stage(0, firstEvent({}));
    columns.commit();
    expect(columns.snapshot(0).signals).toStrictEqual({});
  });
});
