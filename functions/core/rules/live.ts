import type { VehicleEvent } from "../model/event.ts";
import type { SignalName } from "../model/signals.ts";
import { emptySnapshot, type VehicleSnapshot } from "../model/snapshot.ts";
import type { Vehicle } from "../model/vehicle.ts";
import { applyEventToSnapshot } from "../snapshot/apply-event.ts";
import type { CompiledRule, CompiledTrigger } from "./compiler.ts";
import { RuleContractError } from "./errors.ts";
import { changesNothing, type Evaluation, type EvaluationInput, evaluate, tick } from "./evaluator.ts";
import type { Action, Firing, RuleState } from "./state.ts";

/** What one event (or tick) did to a live vehicle: the states it changed, its firings and actions. */
export type LiveOutcome = {
  readonly states: readonly RuleState[];
  readonly firings: readonly Firing[];
  readonly actions: readonly Action[];
};

/** Shared by every event that changed nothing for any rule: the common case allocates no outcome. */
const NOTHING: LiveOutcome = Object.freeze({
  states: Object.freeze([]),
  firings: Object.freeze([]),
  actions: Object.freeze([]),
});

/**
 * One vehicle's rules run in memory over a stream of events: what `rules replay` and the
 * benchmarks use. Every decision is evaluate()'s or tick()'s, as in the event consumer;
 * what differs is where state lives. The consumer reads and writes a stored snapshot and
 * stored rule states per event; here they stay in memory, and for rules of level triggers
 * the trigger phases are also kept packed in one array, so an event that changes nothing
 * for such a rule (nearly every event, for nearly every rule) is told apart from that
 * array and the snapshot alone, without reading the rule's state objects.
 *
 * @example
 * const car = new LiveVehicle(rulesForVehicle(ruleSet, vehicle), vehicle);
 * car.observe(event, event.receivedAt).firings // what the consumer would have stored
 */
export class LiveVehicle {
  /** The vehicle's snapshot: a new one after every observe(). */
  get snapshot(): VehicleSnapshot {
    return this.current;
  }
  private current: VehicleSnapshot;
  readonly rules: readonly CompiledRule[];
  readonly vehicle: Vehicle;
  private readonly states: (RuleState | undefined)[];
  /**
   * For rules whose triggers are all levels (thresholds and zones), their states' trigger
   * phases and open flag, packed: rule i's triggers at phases[offsets[i]…], then 1 if an
   * episode is open. −1 in offsets: the rule has other triggers and is checked in full.
   */
  private readonly offsets: number[];
  private readonly phases: number[];

  // Plain fields, no parameter properties: the benchmarks import this file with Node's type stripping.
  constructor(rules: readonly CompiledRule[], vehicle: Vehicle, snapshot: VehicleSnapshot = emptySnapshot(vehicle.id)) {
    this.rules = rules;
    this.vehicle = vehicle;
    if (snapshot.vehicleId !== vehicle.id) {
      throw new RuleContractError(`snapshot of ${snapshot.vehicleId} passed for vehicle ${vehicle.id}`);
    }
    this.current = snapshot;
    this.states = rules.map(() => undefined);
    let size = 0;
    this.offsets = rules.map((rule) => {
      if (rule.explainAll || !rule.triggers.every(isLevel)) return -1;
      const offset = size;
      size += rule.triggers.length + 1;
      return offset;
    });
    // Every level trigger starts idle and no episode is open (initialRuleState).
    this.phases = new Array<number>(size).fill(IDLE);
  }

  /** The state of the i-th rule (undefined until something happened to it). */
  stateAt(index: number): RuleState | undefined {
    return this.states[index];
  }

  /**
   * The event consumer's step: applies the event to the snapshot, then evaluates every
   * rule, at processing time `now` (lateness is measured against it).
   */
  observe(event: VehicleEvent, now: number | string | Date): LiveOutcome {
    if (event.vehicleId !== this.vehicle.id) {
      throw new RuleContractError(`event ${event.id} is not for vehicle ${this.vehicle.id}`);
    }
    const { rules, states } = this;
    const before = this.current;
    // A new snapshot per event, as the consumer makes: updating one in place was slower, its
    // old objects then pointing at each event's young values (write barriers, promotions).
    const change = applyEventToSnapshot(before, event);
    const { changed } = change;
    this.current = change.snapshot;
    let input: EvaluationInput | undefined;
    let outcome = NOTHING;
    for (let i = 0; i < rules.length; i++) {
      const rule = rules[i] as CompiledRule;
      const offset = this.offsets[i] as number;
      // An event that changed a signal is new to this vehicle (a redelivery changes none, and
      // here states and snapshot move together), so no firing of it can be replayed: the
      // packed phases decide alone. Anything else takes the full check.
      const quiet =
        offset >= 0 && changed.length > 0
          ? this.levelsQuiet(rule, offset, changed)
          : !rule.explainAll &&
            changesNothing(
              rule,
              states[i],
              event,
              change.snapshot,
              changed,
              change.snapshot.lastEventAt !== before.lastEventAt,
            );
      if (quiet) continue;
      const state = states[i];
      input ??= { event, snapshotBefore: before, snapshotAfter: change.snapshot, vehicle: this.vehicle, changed };
      outcome = this.absorb(i, evaluate(rule, state, input, now), outcome);
    }
    return outcome;
  }

  /** The tick handler at `now` for the i-th rule (every rule when omitted): due timers, schedules. */
  tick(now: number | string | Date, index?: number): LiveOutcome {
    let outcome = NOTHING;
    for (let i = 0; i < this.rules.length; i++) {
      if (index !== undefined && i !== index) continue;
      const rule = this.rules[i] as CompiledRule;
      outcome = this.absorb(i, tick(rule, this.states[i], this.vehicle, this.current, now), outcome);
    }
    return outcome;
  }

  /**
   * isQuiet() of the evaluator for a rule of level triggers, read from the packed phases
   * instead of the state objects (which, across a fleet, are cache misses): true when no
   * trigger moves and no active trigger without an open episode could fire now.
   */
  private levelsQuiet(rule: CompiledRule, offset: number, changed: readonly SignalName[]): boolean {
    const { phases, current: snapshot } = this;
    const triggers = rule.triggers;
    let active = false;
    for (let t = 0; t < triggers.length; t++) {
      const trigger = triggers[t] as LevelTrigger;
      const phase = phases[offset + t];
      if (phase === PENDING) return false;
      if (!changed.includes(trigger.kind === "threshold" ? trigger.signal : "location")) {
        if (phase === ACTIVE) active = true;
        continue;
      }
      if (phase === IDLE) {
        if (trigger.holdsOn(snapshot)) return false;
      } else {
        if (trigger.clearsOn(snapshot)) return false;
        active = true;
      }
    }
    return !active || phases[offset + triggers.length] === 1;
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
const IDLE = 0;
const PENDING = 1;
const ACTIVE = 2;
const PHASES = { idle: IDLE, pending: PENDING, active: ACTIVE } as const;
