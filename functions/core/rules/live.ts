import type { VehicleEvent } from "../model/event.ts";
import { emptySnapshot, type VehicleSnapshot } from "../model/snapshot.ts";
import type { Vehicle } from "../model/vehicle.ts";
import { applyEventInPlace, ownedSnapshot } from "../snapshot/apply-event.ts";
import type { CompiledRule } from "./compiler.ts";
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
 * stored rule states per event; here the snapshot is updated in place and each rule's state
 * sits in an array beside its rule, so an event that changes nothing for a rule (nearly
 * every event, for nearly every rule) costs a few comparisons and allocates nothing.
 *
 * @example
 * const car = new LiveVehicle(rulesForVehicle(ruleSet, vehicle), vehicle);
 * car.observe(event, event.receivedAt).firings // what the consumer would have stored
 */
export class LiveVehicle {
  /** The vehicle's snapshot, updated in place by observe(); read it, never mutate it. */
  readonly snapshot: VehicleSnapshot;
  readonly rules: readonly CompiledRule[];
  readonly vehicle: Vehicle;
  private readonly states: (RuleState | undefined)[];

  // Plain fields, no parameter properties: the benchmarks import this file with Node's type stripping.
  constructor(rules: readonly CompiledRule[], vehicle: Vehicle, snapshot: VehicleSnapshot = emptySnapshot(vehicle.id)) {
    this.rules = rules;
    this.vehicle = vehicle;
    if (snapshot.vehicleId !== vehicle.id) {
      throw new RuleContractError(`snapshot of ${snapshot.vehicleId} passed for vehicle ${vehicle.id}`);
    }
    this.snapshot = ownedSnapshot(snapshot);
    this.states = rules.map(() => undefined);
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
    const { rules, states, snapshot } = this;
    // evaluate() looks at the world before the event only for `for` timers that elapsed
    // before it: copy that world only while a rule has a timer.
    const before = states.some((s) => s !== undefined && s.dueAt !== null) ? ownedSnapshot(snapshot) : snapshot;
    const lastEventAt = snapshot.lastEventAt;
    const changed = applyEventInPlace(snapshot, event);
    const dataArrived = snapshot.lastEventAt !== lastEventAt;
    let input: EvaluationInput | undefined;
    let outcome = NOTHING;
    for (let i = 0; i < rules.length; i++) {
      const rule = rules[i] as CompiledRule;
      const state = states[i];
      if (!rule.explainAll && changesNothing(rule, state, event, snapshot, changed, dataArrived)) continue;
      input ??= { event, snapshotBefore: before, snapshotAfter: snapshot, vehicle: this.vehicle, changed, dataArrived };
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
      outcome = this.absorb(i, tick(rule, this.states[i], this.vehicle, this.snapshot, now), outcome);
    }
    return outcome;
  }

  private absorb(index: number, evaluation: Evaluation, outcome: LiveOutcome): LiveOutcome {
    if (!evaluation.changed && evaluation.firings.length === 0 && evaluation.actions.length === 0) return outcome;
    if (evaluation.changed) this.states[index] = evaluation.state;
    return {
      states: evaluation.changed ? [...outcome.states, evaluation.state] : outcome.states,
      firings: [...outcome.firings, ...evaluation.firings],
      actions: [...outcome.actions, ...evaluation.actions],
    };
  }
}
