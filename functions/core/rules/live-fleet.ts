import type { VehicleEvent } from "../model/event.ts";
import { emptySnapshot, type VehicleSnapshot } from "../model/snapshot.ts";
import type { Vehicle } from "../model/vehicle.ts";
import { SnapshotColumns } from "../snapshot/snapshot-columns.ts";
import type { CompiledRule } from "./compiler.ts";
import type { EvalContext } from "./conditions.ts";
import { RuleContractError } from "./errors.ts";
import {
  changesNothing,
  type EvaluateOptions,
  type Evaluation,
  type EvaluationInput,
  evaluate,
  tick,
} from "./evaluator.ts";
import { FleetTriggers, TRIGGER_RECORD } from "./fleet-triggers.ts";
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
 * kept beside those triggers' tests as data (FleetTriggers). An event that moves no
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
  /** The rules' level triggers as data, and the rule numbering (FleetTriggers.ruleIndex). */
  private readonly triggers: FleetTriggers;
  private readonly states: (RuleState | undefined)[];

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
    this.triggers = new FleetTriggers(this.rules);
    this.states = new Array<RuleState | undefined>(this.triggers.ruleTotal).fill(undefined);
    // Each level trigger's phase is kept as its FleetTriggers state (0: idle, as in
    // initialRuleState) and an open episode as its rule's mark (none to start with).
  }

  /** Vehicle v's snapshot after the events so far (built when asked, once per change). */
  snapshot(v: number): VehicleSnapshot {
    return this.columns.snapshot(v);
  }

  /** The state of vehicle v's i-th rule (undefined until something happened to it). */
  stateAt(v: number, i: number): RuleState | undefined {
    return this.states[this.triggers.ruleNumber(v, i)];
  }

  /**
   * The event consumer's step for vehicle v: applies the event to its snapshot, then
   * evaluates every rule, at processing time `now` (lateness is measured against it).
   * An event refused before any rule is evaluated (an unknown signal) changes nothing. If a
   * rule's evaluation throws, the snapshot already holds the event and the earlier rules'
   * states moved: unlike the consumer, which stores nothing then, the fleet is not fit to
   * go on (replay stops there).
   */
  observe(v: number, event: VehicleEvent, now: number | string | Date): LiveOutcome {
    // The id from the vehicle's columns, which the event touches anyway (one cache miss fewer).
    if (event.vehicleId !== this.columns.vehicleId(v) || v >= this.vehicles.length) {
      throw new RuleContractError(`event ${event.id} is not for vehicle ${this.vehicles[v]?.id ?? `#${v}`}`);
    }
    const { triggers } = this;
    const first = triggers.ruleNumber(v, 0);
    const count = triggers.ruleCount(v);
    const changed = this.columns.stage(v, event);
    // An event that changed a signal is new to this vehicle (a redelivery changes none, and
    // here states and snapshot move together), so no firing of it can be replayed: the
    // phases kept with the tests decide alone. Anything else takes the full check, on built snapshots.
    // Bit i of `decided`: rule i was told apart by its phases, quiet if bit i of `quiet` is set.
    let decided = 0;
    let quiet = 0;
    if (changed !== 0) {
      for (let i = 0; i < count && i < 31; i++) {
        const rule = triggers.rule(v, i);
        if (triggers.firstTrigger(rule) < 0) continue;
        decided |= 1 << i;
        if (this.levelsQuiet(rule, changed)) quiet |= 1 << i;
      }
      if (count < 31 && quiet === (1 << count) - 1) {
        this.columns.commit();
        return NOTHING;
      }
    }
    const vehicle = this.vehicles[v] as Vehicle;
    const rules = this.rules[v] as readonly CompiledRule[];
    const changedNames = this.columns.stagedNames();
    const dataArrived = this.columns.stagedIsLatest();
    // The snapshot before the event serves only a `for` timer that elapsed before it: built when
    // a rule to evaluate has a pending trigger, or is one the phases do not describe.
    const before = this.needsBefore(v, count, decided, quiet) ? this.columns.snapshot(v) : undefined;
    this.columns.commit();
    const after = this.columns.snapshot(v);
    const input: EvaluationInput = {
      event,
      get snapshotBefore(): VehicleSnapshot {
        if (before === undefined) throw new RuleContractError(`the snapshot before event ${event.id} was not kept`);
        return before;
      },
      snapshotAfter: after,
      vehicle,
      changed: changedNames,
      dataArrived,
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
      outcome = this.absorb(first + i, evaluate(rule, state, input, now, NOT_QUIET), outcome);
    }
    return outcome;
  }

  /** Whether a rule about to be evaluated could read the snapshot before the event (see observe). */
  private needsBefore(v: number, count: number, decided: number, quiet: number): boolean {
    const { triggers } = this;
    for (let i = 0; i < count; i++) {
      const bit = i < 31 ? 1 << i : 0;
      if ((decided & bit) === 0) return true;
      if ((quiet & bit) !== 0) continue;
      const rule = triggers.rule(v, i);
      const first = triggers.firstTrigger(rule);
      for (let k = 0; k < triggers.triggersOf(rule); k++) {
        if (triggers.stateOf(first + TRIGGER_RECORD * k) === PENDING) return true;
      }
    }
    return false;
  }

  /** The tick handler at `now` for vehicle v's i-th rule (every rule when omitted): due timers, schedules. */
  tick(v: number, now: number | string | Date, index?: number): LiveOutcome {
    const rules = this.rules[v] as readonly CompiledRule[];
    const vehicle = this.vehicles[v] as Vehicle;
    const first = this.triggers.ruleNumber(v, 0);
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
    const { triggers, columns } = this;
    const rule = triggers.rule(v, i);
    const first = triggers.firstTrigger(rule);
    if (first >= 0) {
      const end = first + TRIGGER_RECORD * triggers.triggersOf(rule);
      let holds = false;
      for (let t = first; t < end && !holds; t += TRIGGER_RECORD) {
        const slot = triggers.slot(t);
        holds = triggers.isCircle(t)
          ? columns.hasValue(v, slot) &&
            triggers.holdsAtPosition(t, columns.latitude(v, slot), columns.longitude(v, slot))
          : triggers.holds(t, columns.value(v, slot));
      }
      if (!holds) return false;
      if (!triggers.hasConditions(rule)) return true;
    }
    const compiled = (this.rules[v] as readonly CompiledRule[])[i] as CompiledRule;
    const ctx: EvalContext = {
      vehicle: this.vehicles[v] as Vehicle,
      snapshot: this.snapshot(v),
      event: undefined,
      atMs,
    };
    return compiled.holdsNow(ctx);
  }

  /**
   * isQuiet() of the evaluator for a rule of level triggers, read from the phases kept with the tests and
   * the staged samples instead of state objects and snapshots: true when no trigger moves and
   * no active trigger without an open episode could fire now.
   */
  private levelsQuiet(rule: number, changed: number): boolean {
    const { triggers, columns } = this;
    const first = triggers.firstTrigger(rule);
    const end = first + TRIGGER_RECORD * triggers.triggersOf(rule);
    let active = false;
    for (let t = first; t < end; t += TRIGGER_RECORD) {
      const phase = triggers.stateOf(t);
      if (phase === PENDING) return false;
      const slot = triggers.slot(t);
      if ((changed & (1 << slot)) === 0) {
        if (phase === ACTIVE) active = true;
        continue;
      }
      const value = columns.stagedValue(slot);
      if (phase === IDLE) {
        if (triggers.holds(t, value)) return false;
      } else {
        if (triggers.clears(t, value)) return false;
        active = true;
      }
    }
    return !active || triggers.isMarked(rule);
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

  /** Stores a rule's new state, and its phases and open episode with the tests. */
  private keep(index: number, state: RuleState): void {
    this.states[index] = state;
    const { triggers } = this;
    const rule = triggers.ruleByNumber(index);
    const first = triggers.firstTrigger(rule);
    if (first < 0) return;
    state.triggers.forEach((ts, t) => {
      triggers.setStateOf(first + TRIGGER_RECORD * t, ts.kind === "level" ? PHASES[ts.phase] : IDLE);
    });
    triggers.mark(rule, state.open !== null);
  }
}

/** Rules reach evaluate() here only once found not quiet (by their phases or changesNothing). */
const NOT_QUIET: EvaluateOptions = Object.freeze({ notQuiet: true });
const IDLE = 0;
const PENDING = 1;
const ACTIVE = 2;
const PHASES = { idle: IDLE, pending: PENDING, active: ACTIVE } as const;
