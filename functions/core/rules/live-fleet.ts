import type { VehicleEvent } from "../model/event.ts";
import type { SignalName } from "../model/signals.ts";
import { emptySnapshot, type VehicleSnapshot } from "../model/snapshot.ts";
import type { Vehicle } from "../model/vehicle.ts";
import { SnapshotColumns, slotOf } from "../snapshot/snapshot-columns.ts";
import type { CompiledRule, CompiledTrigger } from "./compiler.ts";
import type { EvalContext } from "./conditions.ts";
import { RuleContractError } from "./errors.ts";
import { changesNothing, type Evaluation, type EvaluationInput, evaluate, tick } from "./evaluator.ts";
import { haversineM } from "./geo.ts";
import type { Action, Firing, RuleState } from "./state.ts";

/** What one event (or tick) did to a live vehicle: the states it changed, its firings and actions. */
export type LiveOutcome = {
  readonly states: readonly RuleState[];
  readonly firings: readonly Firing[];
  readonly actions: readonly Action[];
};

/** One vehicle of a fleet, its rules (rulesForVehicle), and its snapshot so far (empty by default). */
export type FleetMember = {
  readonly vehicle: Vehicle;
  readonly rules: readonly CompiledRule[];
  readonly snapshot?: VehicleSnapshot;
};

/** Shared by every event that changed nothing for any rule: the common case allocates no outcome. */
const NOTHING: LiveOutcome = Object.freeze({
  states: Object.freeze([]),
  firings: Object.freeze([]),
  actions: Object.freeze([]),
});

/**
 * A fleet's rules run in memory over a stream of events: what `rules replay` and the
 * benchmarks use. Every decision is evaluate()'s or tick()'s, as in the event consumer;
 * what differs is where state lives. Snapshots live in columns (SnapshotColumns), and for
 * rules of level triggers (thresholds and zones) the trigger phases and the open flag are
 * packed in one byte array beside the signal each trigger reads. An event that moves no
 * such trigger (nearly every event, for nearly every rule) is told apart from the event's
 * own samples and those bytes alone, and costs a columns update: no snapshot, no state
 * object, nothing allocated. Anything else builds the snapshots and takes evaluate().
 *
 * @example
 * const fleet = new LiveFleet([{ vehicle, rules: rulesForVehicle(ruleSet, vehicle) }]);
 * fleet.observe(0, event, event.receivedAt).firings // what the consumer would have stored
 */
export class LiveFleet {
  readonly vehicles: readonly Vehicle[];
  /** Each vehicle's rules, in the order rule indexes refer to. */
  readonly rules: readonly (readonly CompiledRule[])[];
  private readonly columns: SnapshotColumns;
  /** Where vehicle v's rules start in the flat per-rule arrays. */
  private readonly firstRule: Int32Array;
  private readonly states: (RuleState | undefined)[];
  /**
   * Per rule of level triggers, where its bytes start in `phases`: one per trigger, then 1
   * if an episode is open; −1 for rules with other triggers (checked in full).
   */
  private readonly offsets: Int32Array;
  private readonly phases: Uint8Array;
  /** Per rule of level triggers, how many triggers it has. */
  private readonly triggerCounts: Uint8Array;
  /**
   * Beside each trigger's phase: the slot of the signal it reads, how it tests a value (TEST_*),
   * its bounds (3 per trigger) and the trigger itself for tests kept as closures. The quiet
   * path reads only these arrays: across a fleet, rule and closure objects are cache misses.
   */
  private readonly triggerSlots: Uint8Array;
  private readonly tests: Uint8Array;
  private readonly bounds: Float64Array;
  private readonly levelTriggers: LevelTrigger[];

  constructor(members: readonly FleetMember[]) {
    this.vehicles = members.map((m) => m.vehicle);
    this.rules = members.map((m) => m.rules);
    this.columns = new SnapshotColumns(
      members.map(({ vehicle, snapshot = emptySnapshot(vehicle.id) }) => {
        if (snapshot.vehicleId !== vehicle.id) {
          throw new RuleContractError(`snapshot of ${snapshot.vehicleId} passed for vehicle ${vehicle.id}`);
        }
        return snapshot;
      }),
    );
    this.firstRule = new Int32Array(members.length);
    const offsets: number[] = [];
    const counts: number[] = [];
    const slots: number[] = [];
    const tests: number[] = [];
    const bounds: number[] = [];
    const levelTriggers: LevelTrigger[] = [];
    members.forEach((member, v) => {
      this.firstRule[v] = offsets.length;
      for (const rule of member.rules) {
        const levels = rule.explainAll || rule.triggers.length > 255 || !rule.triggers.every(isLevel);
        offsets.push(levels ? -1 : slots.length);
        counts.push(levels ? 0 : rule.triggers.length);
        if (levels) continue;
        // One byte per trigger, then the open flag's byte (its test and bounds unused).
        for (const trigger of [...(rule.triggers as readonly LevelTrigger[]), undefined]) {
          const [test, a, b, c] = trigger === undefined ? [TEST_CLOSURE, 0, 0, 0] : testOf(trigger);
          slots.push(trigger === undefined ? 0 : slotOf(signalOf(trigger)));
          tests.push(test);
          bounds.push(a, b, c);
          levelTriggers.push(trigger ?? (rule.triggers[0] as LevelTrigger));
        }
      }
    });
    this.states = offsets.map(() => undefined);
    this.offsets = Int32Array.from(offsets);
    this.triggerCounts = Uint8Array.from(counts);
    this.triggerSlots = Uint8Array.from(slots);
    this.tests = Uint8Array.from(tests);
    this.bounds = Float64Array.from(bounds);
    this.levelTriggers = levelTriggers;
    // Every level trigger starts idle and no episode is open (initialRuleState).
    this.phases = new Uint8Array(slots.length).fill(IDLE);
  }

  /** Vehicle v's snapshot after the events so far (built when asked, once per change). */
  snapshot(v: number): VehicleSnapshot {
    return this.columns.snapshot(v);
  }

  /** The state of vehicle v's i-th rule (undefined until something happened to it). */
  stateAt(v: number, i: number): RuleState | undefined {
    return this.states[(this.firstRule[v] as number) + i];
  }

  /**
   * The event consumer's step for vehicle v: applies the event to its snapshot, then
   * evaluates every rule, at processing time `now` (lateness is measured against it).
   */
  observe(v: number, event: VehicleEvent, now: number | string | Date): LiveOutcome {
    const vehicle = this.vehicles[v];
    if (vehicle === undefined || event.vehicleId !== vehicle.id) {
      throw new RuleContractError(`event ${event.id} is not for vehicle ${vehicle?.id ?? `#${v}`}`);
    }
    const first = this.firstRule[v] as number;
    const count = (v + 1 < this.firstRule.length ? (this.firstRule[v + 1] as number) : this.offsets.length) - first;
    const changed = this.columns.stage(v, event);
    // An event that changed a signal is new to this vehicle (a redelivery changes none, and
    // here states and snapshot move together), so no firing of it can be replayed: the
    // packed phases decide alone. Anything else takes the full check, on built snapshots.
    // Bit i of `decided`: rule i was told apart by its phases, quiet if bit i of `quiet` is set.
    let decided = 0;
    let quiet = 0;
    if (changed !== 0) {
      for (let i = 0; i < count && i < 31; i++) {
        const offset = this.offsets[first + i] as number;
        if (offset < 0) continue;
        decided |= 1 << i;
        if (this.levelsQuiet(offset, this.triggerCounts[first + i] as number, changed)) quiet |= 1 << i;
      }
      if (count < 31 && quiet === (1 << count) - 1) {
        this.columns.commit();
        return NOTHING;
      }
    }
    const rules = this.rules[v] as readonly CompiledRule[];
    const changedNames = this.columns.stagedNames();
    const before = this.columns.snapshot(v);
    this.columns.commit();
    const after = this.columns.snapshot(v);
    const dataArrived = after.lastEventAt !== before.lastEventAt;
    const input: EvaluationInput = {
      event,
      snapshotBefore: before,
      snapshotAfter: after,
      vehicle,
      changed: changedNames,
    };
    let outcome = NOTHING;
    for (let i = 0; i < rules.length; i++) {
      const rule = rules[i] as CompiledRule;
      const state = this.states[first + i];
      const bit = i < 31 ? 1 << i : 0;
      if ((decided & bit) !== 0) {
        if ((quiet & bit) !== 0) continue;
      } else if (!rule.explainAll && changesNothing(rule, state, event, after, changedNames, dataArrived)) {
        continue;
      }
      outcome = this.absorb(first + i, evaluate(rule, state, input, now), outcome);
    }
    return outcome;
  }

  /** The tick handler at `now` for vehicle v's i-th rule (every rule when omitted): due timers, schedules. */
  tick(v: number, now: number | string | Date, index?: number): LiveOutcome {
    const rules = this.rules[v] as readonly CompiledRule[];
    const vehicle = this.vehicles[v] as Vehicle;
    const first = this.firstRule[v] as number;
    let outcome = NOTHING;
    for (let i = 0; i < rules.length; i++) {
      if (index !== undefined && i !== index) continue;
      const state = this.states[first + i];
      outcome = this.absorb(first + i, tick(rules[i] as CompiledRule, state, vehicle, this.snapshot(v), now), outcome);
    }
    return outcome;
  }

  /**
   * The i-th rule's holdsNow() on vehicle v's snapshot at `atMs` (a level trigger holds and
   * so do the conditions), read from the columns: the snapshot is built only when a trigger
   * holds and the rule has conditions to test on it.
   */
  holdsNow(v: number, i: number, atMs: number): boolean {
    const index = (this.firstRule[v] as number) + i;
    const rule = (this.rules[v] as readonly CompiledRule[])[i] as CompiledRule;
    const offset = this.offsets[index] as number;
    if (offset >= 0) {
      const { columns } = this;
      let holds = false;
      for (let j = offset; j < offset + (this.triggerCounts[index] as number) && !holds; j++) {
        const slot = this.triggerSlots[j] as number;
        const test = this.tests[j];
        if (test === TEST_INSIDE_CIRCLE || test === TEST_OUTSIDE_CIRCLE) {
          holds =
            columns.has(v, slot) &&
            this.insideCircle(j, columns.latitude(v, slot), columns.longitude(v, slot)) ===
              (test === TEST_INSIDE_CIRCLE);
        } else {
          holds = this.holdsAt(j, columns.value(v, slot));
        }
      }
      if (!holds) return false;
      const conditions = rule.spec.conditions;
      if (conditions === undefined || conditions.length === 0) return true;
    }
    const ctx: EvalContext = {
      vehicle: this.vehicles[v] as Vehicle,
      snapshot: this.snapshot(v),
      event: undefined,
      atMs,
    };
    return rule.holdsNow(ctx);
  }

  /**
   * isQuiet() of the evaluator for a rule of level triggers, read from the packed phases and
   * the staged samples instead of state objects and snapshots: true when no trigger moves and
   * no active trigger without an open episode could fire now.
   */
  private levelsQuiet(offset: number, triggers: number, changed: number): boolean {
    const { phases, triggerSlots, columns } = this;
    let active = false;
    for (let j = offset; j < offset + triggers; j++) {
      const phase = phases[j];
      if (phase === PENDING) return false;
      const slot = triggerSlots[j] as number;
      if ((changed & (1 << slot)) === 0) {
        if (phase === ACTIVE) active = true;
        continue;
      }
      const value = columns.stagedValue(slot);
      if (phase === IDLE) {
        if (this.holdsAt(j, value)) return false;
      } else {
        if (this.clearsAt(j, value)) return false;
        active = true;
      }
    }
    return !active || phases[offset + triggers] === 1;
  }

  /** The j-th trigger's holdsOn() on a snapshot whose sample of its signal has this value. */
  private holdsAt(j: number, value: unknown): boolean {
    const a = this.bounds[3 * j] as number;
    switch (this.tests[j]) {
      case TEST_ABOVE:
      case TEST_ABOVE_BAND:
        return typeof value === "number" && value > a;
      case TEST_BELOW:
      case TEST_BELOW_BAND:
        return typeof value === "number" && value < a;
      case TEST_IS_TRUE:
        return value === true;
      case TEST_IS_FALSE:
        return value === false;
      case TEST_INSIDE_CIRCLE:
      case TEST_OUTSIDE_CIRCLE: {
        if (value === undefined) return false;
        const { lat, lon } = value as { lat: number; lon: number };
        return this.insideCircle(j, lat, lon) === (this.tests[j] === TEST_INSIDE_CIRCLE);
      }
      default:
        return holdsOn(this.levelTriggers[j] as LevelTrigger, value);
    }
  }

  /** The j-th trigger's clearsOn() on a snapshot whose sample of its signal has this value. */
  private clearsAt(j: number, value: unknown): boolean {
    const a = this.bounds[3 * j] as number;
    const b = this.bounds[3 * j + 1] as number;
    switch (this.tests[j]) {
      case TEST_ABOVE:
        return typeof value === "number" && value <= a;
      case TEST_ABOVE_BAND:
        return typeof value === "number" && value < b;
      case TEST_BELOW:
        return typeof value === "number" && value >= a;
      case TEST_BELOW_BAND:
        return typeof value === "number" && value > b;
      case TEST_IS_TRUE:
        return value !== undefined && value !== true;
      case TEST_IS_FALSE:
        return value !== undefined && value !== false;
      case TEST_INSIDE_CIRCLE:
      case TEST_OUTSIDE_CIRCLE: {
        if (value === undefined) return false;
        const { lat, lon } = value as { lat: number; lon: number };
        return this.insideCircle(j, lat, lon) !== (this.tests[j] === TEST_INSIDE_CIRCLE);
      }
      default:
        return clearsOn(this.levelTriggers[j] as LevelTrigger, value);
    }
  }

  /** The circle zone's contains(), on the j-th trigger's bounds (centre, radius). */
  private insideCircle(j: number, lat: number, lon: number): boolean {
    const { bounds } = this;
    return haversineM(bounds[3 * j] as number, bounds[3 * j + 1] as number, lat, lon) <= (bounds[3 * j + 2] as number);
  }

  private absorb(index: number, evaluation: Evaluation, outcome: LiveOutcome): LiveOutcome {
    if (!evaluation.changed && evaluation.firings.length === 0 && evaluation.actions.length === 0) return outcome;
    if (evaluation.changed) this.keep(index, evaluation.state);
    return {
      states: evaluation.changed ? [...outcome.states, evaluation.state] : outcome.states,
      firings: [...outcome.firings, ...evaluation.firings],
      actions: [...outcome.actions, ...evaluation.actions],
    };
  }

  /** Stores a rule's new state, and its packed phases with it. */
  private keep(index: number, state: RuleState): void {
    this.states[index] = state;
    const offset = this.offsets[index] as number;
    if (offset < 0) return;
    state.triggers.forEach((ts, t) => {
      this.phases[offset + t] = ts.kind === "level" ? PHASES[ts.phase] : IDLE;
    });
    this.phases[offset + state.triggers.length] = state.open === null ? 0 : 1;
  }
}

type LevelTrigger = Extract<CompiledTrigger, { kind: "threshold" | "zone" }>;
const isLevel = (trigger: CompiledTrigger): trigger is LevelTrigger =>
  trigger.kind === "threshold" || trigger.kind === "zone";
const signalOf = (trigger: LevelTrigger): SignalName => (trigger.kind === "threshold" ? trigger.signal : "location");

/** The trigger's holdsOn() on a snapshot whose sample of its signal has this value. */
const holdsOn = (trigger: LevelTrigger, value: unknown): boolean => {
  if (trigger.kind === "threshold") return trigger.holds(value);
  const loc = value as { lat: number; lon: number } | undefined;
  return loc !== undefined && trigger.zone.contains(loc.lat, loc.lon) === (trigger.want === "inside");
};

/** The trigger's clearsOn() on a snapshot whose sample of its signal has this value. */
const clearsOn = (trigger: LevelTrigger, value: unknown): boolean => {
  if (trigger.kind === "threshold") return trigger.clears(value);
  const loc = value as { lat: number; lon: number } | undefined;
  return loc !== undefined && trigger.zone.contains(loc.lat, loc.lon) !== (trigger.want === "inside");
};

/** How a level trigger tests a value, so the quiet path needs no closure (see testOf). */
const TEST_CLOSURE = 0;
const TEST_ABOVE = 1;
const TEST_ABOVE_BAND = 2;
const TEST_BELOW = 3;
const TEST_BELOW_BAND = 4;
const TEST_IS_TRUE = 5;
const TEST_IS_FALSE = 6;
const TEST_INSIDE_CIRCLE = 7;
const TEST_OUTSIDE_CIRCLE = 8;

/**
 * The compiled trigger's holds/clears as data: [test, a, b, c]. Mirrors the compiler's
 * closures (a band re-arms strictly past `rearm`, no band at the threshold itself); any
 * other shape keeps its closures (TEST_CLOSURE). The differential test holds them equal.
 */
const testOf = (trigger: LevelTrigger): [number, number, number, number] => {
  if (trigger.kind === "zone") {
    const circle = trigger.zone.circle;
    if (circle === undefined || trigger.zone.kind !== "circle") return [TEST_CLOSURE, 0, 0, 0];
    return [
      trigger.want === "inside" ? TEST_INSIDE_CIRCLE : TEST_OUTSIDE_CIRCLE,
      circle.lat,
      circle.lon,
      circle.radius_m,
    ];
  }
  const { op, threshold, rearm } = trigger;
  if (op === "is") {
    if (threshold === true) return [TEST_IS_TRUE, 0, 0, 0];
    if (threshold === false) return [TEST_IS_FALSE, 0, 0, 0];
    return [TEST_CLOSURE, 0, 0, 0];
  }
  if (typeof threshold !== "number") return [TEST_CLOSURE, 0, 0, 0];
  if (op === "above")
    return rearm === undefined ? [TEST_ABOVE, threshold, 0, 0] : [TEST_ABOVE_BAND, threshold, rearm, 0];
  return rearm === undefined ? [TEST_BELOW, threshold, 0, 0] : [TEST_BELOW_BAND, threshold, rearm, 0];
};
const IDLE = 0;
const PENDING = 1;
const ACTIVE = 2;
const PHASES = { idle: IDLE, pending: PENDING, active: ACTIVE } as const;
