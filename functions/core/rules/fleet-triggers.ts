import type { SignalName } from "../model/signals.ts";
import { type SignalSlot, slotOf } from "../snapshot/snapshot-columns.ts";
import type { CompiledRule, CompiledTrigger } from "./compiler.ts";
import type { EvalContext } from "./conditions.ts";
import { haversineM } from "./geo.ts";

export type LevelTrigger = Extract<CompiledTrigger, { kind: "threshold" | "zone" }>;

export const isLevel = (trigger: CompiledTrigger): trigger is LevelTrigger =>
  trigger.kind === "threshold" || trigger.kind === "zone";

/** The signal a level trigger reads. */
export const signalOf = (trigger: LevelTrigger): SignalName =>
  trigger.kind === "threshold" ? trigger.signal : "location";

/** Per rule: where its triggers start (−1: not all level triggers), how many, whether it has conditions. */
const SPAN = 3;
/** Per trigger: how it tests a value (TEST_*), the slot it reads, and three bounds. */
const DATA = 5;

/**
 * The level triggers (thresholds and zones) of a fleet's rules as data: per trigger, how it
 * tests a value and its bounds, in one array with each vehicle's triggers side by side.
 * A test reads a few adjacent numbers instead of following rule, trigger and closure
 * objects, which across a fleet are each a cache miss. The tests mirror the compiler's
 * closures (holds / clears / zone.contains), which remain the fallback for any other
 * shape; the differential tests of LiveFleet hold the two equal.
 *
 * Rules are numbered across the fleet: vehicle v's i-th rule is ruleIndex(v, i).
 *
 * @example
 * const tests = new FleetTriggers([rulesForVehicle(ruleSet, vehicle)]);
 * tests.holdsOnValues(0, 0, valuesBySlot, () => ctx) // rule.holdsNow(ctx), read from the values
 */
export class FleetTriggers {
  /** Each vehicle's rules, in the order rule indexes refer to. */
  readonly rules: readonly (readonly CompiledRule[])[];
  /** Where vehicle v's rules start; one more entry closes the last vehicle. */
  private readonly firstRule: Int32Array;
  private readonly spans: Int32Array;
  private readonly data: Float64Array;
  /** The trigger itself, for tests kept as closures. */
  private readonly closures: (LevelTrigger | undefined)[];
  /** How many triggers the level rules have in all (the size of per-trigger arrays). */
  readonly triggerCount: number;

  constructor(rulesByVehicle: readonly (readonly CompiledRule[])[]) {
    this.rules = rulesByVehicle;
    const firstRule: number[] = [];
    const spans: number[] = [];
    const data: number[] = [];
    const closures: (LevelTrigger | undefined)[] = [];
    for (const rules of rulesByVehicle) {
      firstRule.push(spans.length / SPAN);
      for (const rule of rules) {
        const conditions = rule.spec.conditions === undefined || rule.spec.conditions.length === 0 ? 0 : 1;
        if (rule.explainAll || !rule.triggers.every(isLevel)) {
          spans.push(-1, 0, conditions);
          continue;
        }
        spans.push(closures.length, rule.triggers.length, conditions);
        for (const trigger of rule.triggers as readonly LevelTrigger[]) {
          const [test, a, b, c] = testOf(trigger);
          data.push(test, slotOf(signalOf(trigger)), a, b, c);
          closures.push(test === TEST_CLOSURE ? trigger : undefined);
        }
      }
    }
    firstRule.push(spans.length / SPAN);
    this.firstRule = Int32Array.from(firstRule);
    this.spans = Int32Array.from(spans);
    this.data = Float64Array.from(data);
    this.closures = closures;
    this.triggerCount = closures.length;
  }

  /** How many rules vehicle v has. */
  ruleCount(v: number): number {
    return (this.firstRule[v + 1] as number) - (this.firstRule[v] as number);
  }

  /** The fleet-wide number of vehicle v's i-th rule. */
  ruleIndex(v: number, i: number): number {
    return (this.firstRule[v] as number) + i;
  }

  /** Where the rule's triggers start in per-trigger arrays, or −1 when not all are level triggers. */
  firstTrigger(rule: number): number {
    return this.spans[SPAN * rule] as number;
  }

  /** How many triggers a rule of level triggers has. */
  triggersOf(rule: number): number {
    return this.spans[SPAN * rule + 1] as number;
  }

  /** The slot of the signal trigger j reads. */
  slot(j: number): SignalSlot {
    return this.data[DATA * j + 1] as number;
  }

  /** Whether trigger j tests a circle zone (then read positions with holdsAtPosition). */
  isCircle(j: number): boolean {
    const test = this.data[DATA * j];
    return test === TEST_INSIDE_CIRCLE || test === TEST_OUTSIDE_CIRCLE;
  }

  /** Trigger j's holdsOn() on a snapshot whose sample of its signal has this value (undefined: none). */
  holds(j: number, value: unknown): boolean {
    const { data } = this;
    const a = data[DATA * j + 2] as number;
    switch (data[DATA * j]) {
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
        return this.holdsAtPosition(j, lat, lon);
      }
      default:
        return closureHolds(this.closures[j] as LevelTrigger, value);
    }
  }

  /** Trigger j's clearsOn() on a snapshot whose sample of its signal has this value (undefined: none). */
  clears(j: number, value: unknown): boolean {
    const { data } = this;
    const a = data[DATA * j + 2] as number;
    switch (data[DATA * j]) {
      case TEST_ABOVE:
        return typeof value === "number" && value <= a;
      case TEST_ABOVE_BAND:
        return typeof value === "number" && value < (data[DATA * j + 3] as number);
      case TEST_BELOW:
        return typeof value === "number" && value >= a;
      case TEST_BELOW_BAND:
        return typeof value === "number" && value > (data[DATA * j + 3] as number);
      case TEST_IS_TRUE:
        return value !== undefined && value !== true;
      case TEST_IS_FALSE:
        return value !== undefined && value !== false;
      case TEST_INSIDE_CIRCLE:
      case TEST_OUTSIDE_CIRCLE: {
        if (value === undefined) return false;
        const { lat, lon } = value as { lat: number; lon: number };
        return !this.holdsAtPosition(j, lat, lon);
      }
      default:
        return closureClears(this.closures[j] as LevelTrigger, value);
    }
  }

  /** Whether zone trigger j (a circle) holds at a known position: inside or outside, as it wants. */
  holdsAtPosition(j: number, lat: number, lon: number): boolean {
    const { data } = this;
    const o = DATA * j;
    const inside = haversineM(data[o + 2] as number, data[o + 3] as number, lat, lon) <= (data[o + 4] as number);
    return inside === (data[o] === TEST_INSIDE_CIRCLE);
  }

  /**
   * holdsNow() of vehicle v's i-th rule (a level trigger holds and so do the conditions),
   * on samples whose values are given by slot (valuesBySlot[slotOf(name)]): the rule's
   * compiled closures run only for its conditions once a trigger holds, or for rules
   * with other triggers, on `contextOf(v)`: the same samples as a snapshot, built only then.
   */
  holdsOnValues(
    v: number,
    i: number,
    valuesBySlot: ArrayLike<unknown>,
    contextOf: (v: number) => EvalContext,
  ): boolean {
    const rule = this.ruleIndex(v, i);
    const first = this.spans[SPAN * rule] as number;
    if (first >= 0) {
      const end = first + (this.spans[SPAN * rule + 1] as number);
      let holds = false;
      for (let j = first; j < end && !holds; j++) holds = this.holds(j, valuesBySlot[this.slot(j)]);
      if (!holds) return false;
      if (this.spans[SPAN * rule + 2] === 0) return true;
    }
    return ((this.rules[v] as readonly CompiledRule[])[i] as CompiledRule).holdsNow(contextOf(v));
  }

  /** Whether the rule has conditions (beyond its triggers). */
  hasConditions(rule: number): boolean {
    return this.spans[SPAN * rule + 2] === 1;
  }
}

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
 * closures (a band re-arms strictly past `rearm`; without one, at the threshold itself);
 * any other shape keeps its closures (TEST_CLOSURE).
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

/** The trigger's holdsOn() through its closures, on a snapshot whose sample of its signal has this value. */
const closureHolds = (trigger: LevelTrigger, value: unknown): boolean => {
  if (trigger.kind === "threshold") return trigger.holds(value);
  const loc = value as { lat: number; lon: number } | undefined;
  return loc !== undefined && trigger.zone.contains(loc.lat, loc.lon) === (trigger.want === "inside");
};

/** The trigger's clearsOn() through its closures. */
const closureClears = (trigger: LevelTrigger, value: unknown): boolean => {
  if (trigger.kind === "threshold") return trigger.clears(value);
  const loc = value as { lat: number; lon: number } | undefined;
  return loc !== undefined && trigger.zone.contains(loc.lat, loc.lon) !== (trigger.want === "inside");
};
