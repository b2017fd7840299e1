import type { VehicleSnapshot } from "../model/snapshot.ts";
import type { Vehicle } from "../model/vehicle.ts";
import type { CompiledRule, RuleSet } from "./compiler.ts";
import {
  type EvaluateOptions,
  type Evaluation,
  type EvaluationInput,
  evaluate,
  ruleAppliesTo,
  tick,
} from "./evaluator.ts";
import type { Action, Explanation, Firing, RuleState } from "./state.ts";

/** States of one vehicle's rules, by rule id (absent: the rule has never seen the vehicle). */
export type RuleStates = ReadonlyMap<string, RuleState>;

/** The outcome of one event (or one tick) for every rule of a vehicle. */
export type VehicleEvaluation = {
  /** Changed states only: write each if the stored version is `state.version − 1` (absent when 1). */
  readonly states: readonly RuleState[];
  /** Store by id (put-if-absent): ids are deterministic, so redeliveries write the same records. */
  readonly firings: readonly Firing[];
  /** Enqueue for dispatch; the dispatcher claims each id once. */
  readonly actions: readonly Action[];
  /** Explanations of evaluations that did not fire, for rules with `explain: all` (or when asked). */
  readonly explanations: readonly Explanation[];
  /** Per rule, the raw evaluations (same order as the rules). */
  readonly evaluations: readonly { readonly rule: CompiledRule; readonly evaluation: Evaluation }[];
};

/**
 * The rules in scope for a vehicle (enabled, and matching its id or tags).
 *
 * @example rulesForVehicle(ruleSet, vehicle).map((r) => r.id) // ["speeding", "check-engine"]
 */
export const rulesForVehicle = (ruleSet: RuleSet, vehicle: Pick<Vehicle, "id" | "tags">): readonly CompiledRule[] =>
  ruleSet.rules.filter((rule) => ruleAppliesTo(rule, vehicle));

/**
 * Evaluates one event for every given rule of its vehicle. Suggested write order, so a
 * crash anywhere is healed by redelivery: firings (put-if-absent), then actions
 * (enqueue), then rule states (conditional on version), then the snapshot.
 *
 * @example
 * const change = applyEventToSnapshot(snapshot, event);
 * const out = evaluateEvent(rules, states, { event, snapshotBefore: snapshot, snapshotAfter: change.snapshot,
 *   vehicle, changed: change.changed }, receivedAt);
 */
export const evaluateEvent = (
  rules: readonly CompiledRule[],
  states: RuleStates,
  input: EvaluationInput,
  now: number | string | Date,
  options?: EvaluateOptions,
): VehicleEvaluation => {
  // Sized up front (a pushed array grows to 16 slots at once) and filled by index: the
  // consumer runs this for every event, and the stateful benchmark is allocation bound.
  const evaluations = new Array<RuleEvaluation>(rules.length);
  for (let i = 0; i < rules.length; i++) {
    const rule = rules[i] as CompiledRule;
    evaluations[i] = { rule, evaluation: evaluate(rule, states.get(rule.id), input, now, options) };
  }
  return collect(evaluations);
};

/**
 * Runs due timers (for-durations, staleness, schedules) of every given rule of a vehicle.
 * Call every minute for vehicles with a state whose `dueAt` ≤ now.
 *
 * @example tickVehicle(rules, states, vehicle, snapshot, Date.now()).actions
 */
export const tickVehicle = (
  rules: readonly CompiledRule[],
  states: RuleStates,
  vehicle: Vehicle,
  snapshot: VehicleSnapshot,
  now: number | string | Date,
): VehicleEvaluation =>
  collect(rules.map((rule) => ({ rule, evaluation: tick(rule, states.get(rule.id), vehicle, snapshot, now) })));

type RuleEvaluation = { rule: CompiledRule; evaluation: Evaluation };

/** Shared by every outcome without states, firings or actions: most events produce none. */
const NONE: readonly never[] = Object.freeze([]);

const collect = (evaluations: RuleEvaluation[]): VehicleEvaluation => {
  let states: readonly RuleState[] = NONE;
  let firings: readonly Firing[] = NONE;
  let actions: readonly Action[] = NONE;
  let explanations: readonly Explanation[] = NONE;
  for (let i = 0; i < evaluations.length; i++) {
    const { evaluation } = evaluations[i] as RuleEvaluation;
    // Most evaluations change nothing: test before touching the (shared, empty) result arrays.
    if (
      !evaluation.changed &&
      evaluation.firings.length === 0 &&
      evaluation.actions.length === 0 &&
      evaluation.explanation === null
    )
      continue;
    if (evaluation.changed) states = [...states, evaluation.state];
    if (evaluation.firings.length > 0) firings = [...firings, ...evaluation.firings];
    if (evaluation.actions.length > 0) actions = [...actions, ...evaluation.actions];
    if (evaluation.firings.length === 0 && evaluation.explanation !== null) {
      explanations = [...explanations, evaluation.explanation];
    }
  }
  return { states, firings, actions, explanations, evaluations };
};
