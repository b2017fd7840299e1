import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { SignalSet } from "#core/model/signals.ts";
import type { EvalContext } from "#core/rules/conditions.ts";
import { TRIGGER_RECORD } from "#core/rules/fleet-triggers.ts";
import { FleetTriggers, LiveFleet, SlotValues } from "#core/rules/index.ts";
import { slotOf } from "#core/snapshot/snapshot-columns.ts";
import { at, empty, rulesFrom, signalsEvent, step, T0, vehicle } from "./helpers.ts";

/** Every shape of level trigger: bands or none, above and below, booleans, text, circle, polygon and H3 zones. */
const rules = rulesFrom(`
rules:
  - id: fast-band
    triggers: [{ signal: speed_kph, above: 120, rearm_below: 110 }]
    actions: []
  - id: fast
    triggers: [{ signal: speed_kph, above: 120 }]
    actions: []
  - id: low-band
    triggers: [{ signal: soc_pct, below: 20, rearm_above: 25 }]
    conditions: [{ signal: is_plugged_in, is: false }]
    actions: []
  - id: low
    triggers: [{ signal: soc_pct, below: 20 }, { signal: fuel_pct, below: 10 }]
    actions: []
  - id: mil
    triggers: [{ signal: mil_on, is: true }]
    actions: []
  - id: unlocked
    triggers: [{ signal: is_locked, is: false }]
    actions: []
  - id: charging
    triggers: [{ signal: charge_state, is: charging }]
    actions: []
  - id: away
    triggers: [{ outside: home }]
    actions: []
  - id: at-home
    triggers: [{ inside: home }]
    actions: []
  - id: at-office
    triggers: [{ inside: office }]
    actions: []
  - id: at-school
    triggers: [{ inside: school }]
    actions: []
  - id: crash
    triggers: [{ event: hard_brake }]
    actions: []
`).rules;

/** Values on both sides of every threshold, positions in and out of every zone, or missing. */
const values = fc.record(
  {
    // Values of another type too (the schema refuses them; the tests must still agree).
    speed_kph: fc.constantFrom<unknown>(0, 110, 115, 120, 121, Number.NaN, "fast", true, { lat: 1, lon: 2 }),
    soc_pct: fc.constantFrom(10, 19.5, 20, 22, 25, 30),
    fuel_pct: fc.constantFrom(5, 10, 50),
    is_plugged_in: fc.boolean(),
    mil_on: fc.constantFrom<unknown>(true, false, 1, { lat: 1, lon: 2 }),
    is_locked: fc.boolean(),
    charge_state: fc.constantFrom("charging" as const, "not_charging" as const, "fully_charged" as const),
    location: fc.constantFrom(
      { lat: 37.7749, lon: -122.4194 },
      { lat: 37.7762, lon: -122.4194 },
      { lat: 37.79, lon: -122.3995 },
      { lat: 37.7749, lon: -122.4 },
      // Not plain { lat, lon }: kept as given by SlotValues, read through the closures' path.
      { lon: -122.4194, lat: 37.7762 },
      { lat: 37.79, lon: -122.3995, accuracy_m: 5 },
      // A sample without a value (the schema refuses it; the tests must still agree).
      undefined,
    ),
  },
  { requiredKeys: [] },
);

describe("FleetTriggers", () => {
  it("says what each rule's compiled holdsNow() says, for values on both sides of every trigger", () => {
    const triggers = new FleetTriggers([rules]);
    // One SlotValues for every run, as a caller refills one per event: a slot changes kind from run to run.
    const bySlot = new SlotValues();
    const names = [
      "speed_kph",
      "soc_pct",
      "fuel_pct",
      "is_plugged_in",
      "mil_on",
      "is_locked",
      "charge_state",
      "location",
    ];
    fc.assert(
      fc.property(values, (sampled) => {
        const { snapshot } = step(empty(), signalsEvent(0, { ...sampled } as SignalSet, "e1"));
        const ctx: EvalContext = { vehicle, snapshot, event: undefined, atMs: T0 };
        for (const name of names)
          bySlot.set(slotOf(name as keyof SignalSet), (sampled as Record<string, unknown>)[name]);
        const expected = rules.map((rule) => rule.holdsNow(ctx));
        expect(rules.map((_, i) => triggers.holdsOnValues(0, i, bySlot, () => ctx))).toStrictEqual(expected);
        expect(triggers.holdingMask(0, bySlot, () => ctx)).toBe(
          expected.reduce((mask, holds, i) => (holds ? mask | (1 << i) : mask), 0),
        );
      }),
      { numRuns: 300 },
    );
  });

  it("tests each level trigger as its closures do: holds and clears, with and without a sample", () => {
    const triggers = new FleetTriggers([rules]);
    fc.assert(
      fc.property(values, (sampled) => {
        const { snapshot } = step(empty(), signalsEvent(0, { ...sampled } as SignalSet, "e1"));
        rules.forEach((rule, i) => {
          const first = triggers.firstTrigger(triggers.rule(0, i));
          if (rule.id === "crash") {
            expect(first).toBe(-1);
            return;
          }
          rule.triggers.forEach((trigger, k) => {
            if (trigger.kind !== "threshold" && trigger.kind !== "zone") throw new Error("level triggers only");
            const record = first + TRIGGER_RECORD * k;
            const name = trigger.kind === "threshold" ? trigger.signal : "location";
            const value = snapshot.signals[name]?.value;
            expect([triggers.holds(record, value), triggers.clears(record, value)]).toStrictEqual([
              trigger.holdsOn(snapshot),
              trigger.clearsOn(snapshot),
            ]);
          });
        });
      }),
      { numRuns: 300 },
    );
  });

  it("gives LiveFleet the same holdsNow() from its snapshot columns", () => {
    fc.assert(
      fc.property(values, values, (first, second) => {
        const fleet = new LiveFleet([{ vehicle, rules }]);
        fleet.observe(0, signalsEvent(0, { ...first } as SignalSet, "e1"), at(0));
        fleet.observe(0, signalsEvent(5, { ...second } as SignalSet, "e2"), at(5));
        const ctx: EvalContext = { vehicle, snapshot: fleet.snapshot(0), event: undefined, atMs: T0 + 5000 };
        expect(rules.map((_, i) => fleet.holdsNow(0, i, T0 + 5000))).toStrictEqual(
          rules.map((rule) => rule.holdsNow(ctx)),
        );
      }),
      { numRuns: 200 },
    );
  });
});

describe("SlotValues", () => {
  it("gives back each value as set, numbers and plain positions unboxed, and forgets the slot's previous kind", () => {
    const values = new SlotValues();
    const speed = slotOf("speed_kph");
    const location = slotOf("location");
    const charge = slotOf("charge_state");
    const odd = { lon: 2, lat: 1 };
    values.setNumber(speed, 121);
    values.setPosition(location, 37.7749, -122.4194);
    values.set(charge, "charging");
    expect([values.valueOf(speed), values.valueOf(location), values.valueOf(charge)]).toStrictEqual([
      121,
      { lat: 37.7749, lon: -122.4194 },
      "charging",
    ]);
    values.set(speed, "fast");
    values.set(location, odd);
    values.set(charge, undefined);
    expect([values.valueOf(speed), values.valueOf(location), values.valueOf(charge)]).toStrictEqual([
      "fast",
      odd,
      undefined,
    ]);
    expect(values.valueOf(location)).toBe(odd);
    values.set(location, { lat: 1, lon: 2 });
    expect([values.kinds[speed], values.kinds[location], values.kinds[charge]]).toStrictEqual([3, 2, 0]);
    values.clear();
    expect([values.valueOf(speed), values.valueOf(location), values.valueOf(charge)]).toStrictEqual([
      undefined,
      undefined,
      undefined,
    ]);
  });

  it("refuses a slot no signal has", () => {
    const values = new SlotValues();
    expect(() => values.setNumber(18, 1)).toThrow(new RangeError("no signal slot 18 (slots are 0 to 17)"));
    expect(() => values.set(-1, "x")).toThrow(new RangeError("no signal slot -1 (slots are 0 to 17)"));
    expect(() => values.setPosition(1.5, 1, 2)).toThrow(new RangeError("no signal slot 1.5 (slots are 0 to 17)"));
  });
});
