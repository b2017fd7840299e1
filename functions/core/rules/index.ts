/**
 * Dashlight rules: the public API the event consumer, the tick handler, the CLI and
 * `cdk synth` use. Everything here is pure except `loadRuleSet` / `readRuleSources`
 * (file reading, in load.ts).
 *
 * @example
 * const ruleSet = await loadRuleSet("rules");                       // once per cold start
 * const rules = rulesForVehicle(ruleSet, vehicle);
 * const change = applyEventToSnapshot(snapshot, event);
 * const out = evaluateEvent(rules, states, { event, snapshotBefore: snapshot,
 *   snapshotAfter: change.snapshot, vehicle, changed: change.changed }, Date.now());
 * // put out.firings (by id), enqueue out.actions, write out.states (version − 1), write the snapshot
 */
export {
  type CompiledAction,
  type CompiledRule,
  type CompiledTrigger,
  type CompileResult,
  compileRuleSources,
  compileRuleSourcesOrThrow,
  DEFAULT_MAX_EVENT_DELAY_MS,
  type Recipient,
  type RuleSet,
} from "./compiler.ts";
export type { ConditionTrace, EvalContext } from "./conditions.ts";
export { evaluateEvent, type RuleStates, rulesForVehicle, tickVehicle, type VehicleEvaluation } from "./engine.ts";
export {
  formatProblem,
  type Problem,
  RuleContractError,
  RuleError,
  RuleSourceError,
  RuleValidationError,
} from "./errors.ts";
export {
  changesNothing,
  type EvaluateOptions,
  type Evaluation,
  type EvaluationInput,
  evaluate,
  holdsNow,
  initialRuleState,
  ruleAppliesTo,
  tick,
} from "./evaluator.ts";
export { type FixtureResult, type LoadedFixture, parseFixtureSources, runFixture } from "./fixtures.ts";
export { FleetTriggers, SlotValues } from "./fleet-triggers.ts";
export { LiveVehicle } from "./live.ts";
export { type FleetMember, LiveFleet, type LiveOutcome } from "./live-fleet.ts";
export { loadRuleSet, readRuleSources } from "./load.ts";
export { type RuleSpec, ruleFileJsonSchema } from "./schema.ts";
export type {
  Action,
  Explanation,
  Firing,
  FiringStatus,
  OpenEpisode,
  RuleState,
  TriggerState,
  TriggerTrace,
} from "./state.ts";
export type { SourceFile } from "./yaml-issues.ts";
