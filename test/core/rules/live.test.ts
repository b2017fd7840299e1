import { readdirSync, readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { VehicleEvent } from "#core/model/event.ts";
import type { VehicleSnapshot } from "#core/model/snapshot.ts";
import {
  type Action,
  compileRuleSourcesOrThrow,
  evaluateEvent,
  type Firing,
  LiveFleet,
  LiveVehicle,
  type RuleState,
  tickVehicle,
} from "#core/rules/index.ts";
import { applyEventToSnapshot } from "#core/snapshot/apply-event.ts";
import { at, empty, signalsEvent, vehicle } from "./helpers.ts";

/** Every example rule in rules/: thresholds with `for` and bands, zones, CEL, events, staleness, a schedule. */
const allExampleRules = () =>
  compileRuleSourcesOrThrow(
    readdirSync("rules")
      .filter((name) => name.endsWith(".yaml"))
      .map((name) => ({ file: `rules/${name}`, text: readFileSync(`rules/${name}`, "utf8") })),
  ).rules;

type Step =
  | { kind: "event"; event: VehicleEvent }
  | { kind: "redeliver"; back: number }
  | { kind: "tick"; afterSeconds: number };

const HOME = { lat: 37.7749, lon: -122.4194 };

/** A vehicle's day: signals near the thresholds and the home fence, provider events, gaps, late and old samples. */
const stepsOf = fc
  .array(
    fc.record({
      gap: fc.oneof(fc.integer({ min: 0, max: 30 }), fc.integer({ min: 0, max: 900 }), fc.constant(7 * 3600)),
      /** Observed this many seconds before the previous event (out of order) when > 0. */
      older: fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 1, max: 120 })),
      /** Received this many seconds after it happened (late beyond max_event_delay when large). */
      delay: fc.oneof(fc.constant(0), fc.constant(0), fc.constant(600)),
      type: fc.constantFrom("signals", "signals", "signals", "mil.on", "hard_brake", "charge.completed"),
      speed: fc.option(fc.constantFrom(0, 40, 109, 115, 121, 150)),
      soc: fc.option(fc.constantFrom(15, 19, 22, 26, 80, 100)),
      plugged: fc.option(fc.boolean()),
      locked: fc.option(fc.boolean()),
      ignition: fc.option(fc.boolean()),
      away: fc.option(fc.constantFrom(0, 0.0005, 0.003, 0.6)),
      gForce: fc.constantFrom(0.3, 0.5),
      next: fc.constantFrom("nothing", "nothing", "nothing", "redeliver", "tick"),
    }),
    { maxLength: 60 },
  )
  .map((draws) => {
    const steps: Step[] = [];
    let seconds = 0;
    draws.forEach((d, i) => {
      seconds += d.gap;
      const observed = seconds - d.older;
      const values: Record<string, unknown> = {};
      if (d.speed !== null) values.speed_kph = d.speed;
      if (d.soc !== null) values.soc_pct = d.soc;
      if (d.plugged !== null) values.is_plugged_in = d.plugged;
      if (d.locked !== null) values.is_locked = d.locked;
      if (d.ignition !== null) values.ignition_on = d.ignition;
      if (d.away !== null) values.location = { lat: HOME.lat + d.away, lon: HOME.lon };
      const base = signalsEvent(observed, values, `s${i}`);
      const data =
        d.type === "mil.on"
          ? { dtcs: [{ code: "P0300", description: "Random misfire" }] }
          : d.type === "hard_brake"
            ? { g_force: d.gForce }
            : {};
      const event = { ...base, type: d.type, data, receivedAt: at(observed + d.delay) } as VehicleEvent;
      steps.push({ kind: "event", event });
      if (d.next === "redeliver") steps.push({ kind: "redeliver", back: (i * 7) % (steps.length + 1) });
      if (d.next === "tick") steps.push({ kind: "tick", afterSeconds: seconds + d.gap });
    });
    return steps;
  });

type Run = { firings: Firing[]; actions: Action[] };

/** The event consumer's way: a new snapshot per event, states in a map as the store holds them. */
const throughStore = (steps: readonly Step[], rules = allExampleRules()) => {
  const states = new Map<string, RuleState>();
  let snapshot: VehicleSnapshot = empty();
  const run: Run = { firings: [], actions: [] };
  const seen: VehicleEvent[] = [];
  const absorb = (out: { states: readonly RuleState[]; firings: readonly Firing[]; actions: readonly Action[] }) => {
    for (const state of out.states) states.set(state.ruleId, state);
    run.firings.push(...out.firings);
    run.actions.push(...out.actions);
  };
  const observe = (event: VehicleEvent) => {
    const change = applyEventToSnapshot(snapshot, event);
    const input = { event, snapshotBefore: snapshot, snapshotAfter: change.snapshot, vehicle, changed: change.changed };
    absorb(evaluateEvent(rules, states, input, event.receivedAt));
    snapshot = change.snapshot;
    seen.push(event);
  };
  for (const step of steps) {
    if (step.kind === "event") observe(step.event);
    if (step.kind === "redeliver" && seen.length > 0) observe(seen[step.back % seen.length] as VehicleEvent);
    if (step.kind === "tick") absorb(tickVehicle(rules, states, vehicle, snapshot, at(step.afterSeconds)));
  }
  return { run, states: rules.map((rule) => states.get(rule.id)), snapshot };
};

/** The same steps through one LiveVehicle. */
const throughLive = (steps: readonly Step[]) => {
  const car = new LiveVehicle(allExampleRules(), vehicle);
  const run: Run = { firings: [], actions: [] };
  const seen: VehicleEvent[] = [];
  const absorb = (out: { firings: readonly Firing[]; actions: readonly Action[] }) => {
    run.firings.push(...out.firings);
    run.actions.push(...out.actions);
  };
  const observe = (event: VehicleEvent) => {
    absorb(car.observe(event, event.receivedAt));
    seen.push(event);
  };
  for (const step of steps) {
    if (step.kind === "event") observe(step.event);
    if (step.kind === "redeliver" && seen.length > 0) observe(seen[step.back % seen.length] as VehicleEvent);
    if (step.kind === "tick") absorb(car.tick(at(step.afterSeconds)));
  }
  return { run, states: car.rules.map((_, i) => car.stateAt(i)), snapshot: car.snapshot };
};

/**
 * The same steps for the middle vehicle of a LiveFleet of three, whose neighbours get the same
 * events under their own ids first: their rules' states and snapshot columns sit on either side.
 */
const throughFleet = (steps: readonly Step[], rules = allExampleRules()) => {
  const neighbour = (suffix: string) => ({ ...vehicle, id: `${vehicle.id}-${suffix}` });
  const members = [neighbour("before"), vehicle, neighbour("after")].map((v) => ({ vehicle: v, rules }));
  const fleet = new LiveFleet(members);
  const run: Run = { firings: [], actions: [] };
  const seen: VehicleEvent[] = [];
  const observe = (event: VehicleEvent) => {
    for (const v of [0, 2]) {
      const id = (members[v] as { vehicle: { id: string } }).vehicle.id;
      fleet.observe(v, { ...event, id: `${id}/${event.id}`, vehicleId: id }, event.receivedAt);
    }
    const out = fleet.observe(1, event, event.receivedAt);
    run.firings.push(...out.firings);
    run.actions.push(...out.actions);
    seen.push(event);
  };
  for (const step of steps) {
    if (step.kind === "event") observe(step.event);
    if (step.kind === "redeliver" && seen.length > 0) observe(seen[step.back % seen.length] as VehicleEvent);
    if (step.kind === "tick") {
      fleet.tick(0, at(step.afterSeconds));
      const out = fleet.tick(1, at(step.afterSeconds));
      run.firings.push(...out.firings);
      run.actions.push(...out.actions);
    }
  }
  return { run, states: rules.map((_, i) => fleet.stateAt(1, i)), snapshot: fleet.snapshot(1) };
};

const held = (snapshot: VehicleSnapshot) => ({
  signals: snapshot.signals,
  sourceEventIds: snapshot.sourceEventIds,
  lastEventAt: snapshot.lastEventAt,
});

type Outcome = ReturnType<typeof throughStore>;
const expectSameDecisions = (live: Outcome, store: Outcome) => {
  expect(live.run.firings).toStrictEqual(store.run.firings);
  expect(live.run.actions).toStrictEqual(store.run.actions);
  expect(live.states).toStrictEqual(store.states);
  expect(held(live.snapshot)).toStrictEqual(held(store.snapshot));
};

describe("LiveVehicle", () => {
  it("decides exactly what the consumer decides: same firings, actions, states and snapshot", () => {
    fc.assert(
      fc.property(stepsOf, (steps) => {
        expectSameDecisions(throughLive(steps), throughStore(steps));
      }),
      { numRuns: 300 },
    );
  });

  it("decides the same for a vehicle in the middle of a fleet whose neighbours see the same events", () => {
    fc.assert(
      fc.property(stepsOf, (steps) => {
        expectSameDecisions(throughFleet(steps), throughStore(steps));
      }),
      { numRuns: 200 },
    );
  });

  it("decides the same when every rule has level triggers only (the snapshot before an event is then built on demand)", () => {
    const levelOnly = allExampleRules().filter((rule) =>
      rule.triggers.every((t) => t.kind === "threshold" || t.kind === "zone"),
    );
    expect(levelOnly.map((rule) => rule.id)).toContain("speeding");
    fc.assert(
      fc.property(stepsOf, (steps) => {
        expectSameDecisions(throughFleet(steps, levelOnly), throughStore(steps, levelOnly));
      }),
      { numRuns: 200 },
    );
  });

  it("fires a `for` rule at the deadline that elapsed before the next sample, on the world as it was then", () => {
    const car = new LiveVehicle(allExampleRules(), vehicle);
    car.observe(signalsEvent(0, { speed_kph: 130 }, "fast-1"), at(0));
    const out = car.observe(signalsEvent(30, { speed_kph: 100 }, "slow-1"), at(30));
    expect(out.firings.map((f) => `${f.ruleId} ${f.kind} ${f.at} ${f.status}`)).toStrictEqual([
      `speeding fired ${at(10)} actioned`,
      `speeding resolved ${at(30)} actioned`,
    ]);
    expect(out.firings[0]?.explanation.triggers[0]?.value).toBe(130);
    expect(out.actions.map((a) => a.id)).toStrictEqual(["speeding/automatic:C_test/1/fire/0"]);
    expect(car.snapshot.signals.speed_kph).toStrictEqual({ value: 100, observedAt: at(30) });
  });

  it("never mutates the events it is given", () => {
    const car = new LiveVehicle(allExampleRules(), vehicle);
    const first = signalsEvent(0, { speed_kph: 50, location: HOME }, "a");
    const second = signalsEvent(5, { speed_kph: 60 }, "b");
    const copy = structuredClone(first);
    car.observe(first, at(0));
    car.observe(second, at(5));
    expect(first).toStrictEqual(copy);
  });

  it("refuses an event of another vehicle", () => {
    const car = new LiveVehicle(allExampleRules(), vehicle);
    const stranger = { ...signalsEvent(0, { speed_kph: 50 }, "x"), vehicleId: "automatic:C_other" };
    expect(() => car.observe(stranger, at(0))).toThrow("event x is not for vehicle automatic:C_test");
  });
});
