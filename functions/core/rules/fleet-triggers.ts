import { SIGNAL_NAMES, type SignalName } from "../model/signals.ts";
import { isPlainPosition, type SignalSlot, slotOf } from "../snapshot/snapshot-columns.ts";
import type { CompiledRule, CompiledTrigger } from "./compiler.ts";
import type { EvalContext } from "./conditions.ts";
import { haversineM } from "./geo.ts";

export type LevelTrigger = Extract<CompiledTrigger, { kind: "threshold" | "zone" }>;

export const isLevel = (trigger: CompiledTrigger): trigger is LevelTrigger =>
  trigger.kind === "threshold" || trigger.kind === "zone";

/** The signal a level trigger reads. */
export const signalOf = (trigger: LevelTrigger): SignalName =>
  trigger.kind === "threshold" ? trigger.signal : "location";

/** Per vehicle, at the start of its region: how many rules it has, and its first rule's fleet-wide number. */
const VEHICLE_HEADER = 2;
/**
 * Per rule: where its trigger records start (−1: not all level triggers), how many, whether
 * it has conditions, and the owner's mark (see isMarked).
 */
const RULE_HEADER = 4;
/**
 * Per trigger: how it tests a value (TEST_*), the slot it reads, three bounds, its closures'
 * index (TEST_CLOSURE), and the owner's number (see stateOf).
 */
export const TRIGGER_RECORD = 7;

/**
 * The level triggers (thresholds and zones) of a fleet's rules as data. Each vehicle has
 * one region of numbers: its rules' headers, then a record per trigger saying how it tests
 * a value, with its bounds. Testing a vehicle's rules reads that region (a few adjacent
 * cache lines) instead of following rule, trigger and closure objects, which across a
 * fleet are each a cache miss. The tests mirror the compiler's closures (holds / clears /
 * zone.contains), which remain the fallback for any other shape; LiveFleet's differential
 * tests hold the two equal.
 *
 * A rule is addressed by its header (rule(v, i)), a trigger by its record (from
 * firstTrigger(header), TRIGGER_RECORD apart). Rules and triggers also have fleet-wide
 * numbers, for arrays kept beside them (ruleNumber). An owner may keep a
 * number per trigger and a flag per rule in the region itself (stateOf, isMarked).
 *
 * @example
 * const tests = new FleetTriggers([rulesForVehicle(ruleSet, vehicle)]);
 * tests.holdsOnValues(0, 0, values, () => ctx) // rule.holdsNow(ctx), read from SlotValues
 */
export class FleetTriggers {
  /** Each vehicle's rules, in the order rule indexes refer to. */
  readonly rules: readonly (readonly CompiledRule[])[];
  /** Where each vehicle's region starts in `data`. */
  private readonly regions: Int32Array;
  private readonly data: Float64Array;
  /** Per rule number, its header in `data`. */
  private readonly headers: Int32Array;
  /** Per trigger number, the trigger itself when its test is kept as closures. */
  private readonly closures: (LevelTrigger | undefined)[];
  /** How many rules the fleet has (the size of arrays kept beside them). */
  readonly ruleTotal: number;

  constructor(rulesByVehicle: readonly (readonly CompiledRule[])[]) {
    this.rules = rulesByVehicle;
    const regions: number[] = [];
    const data: number[] = [];
    const headers: number[] = [];
    const closures: (LevelTrigger | undefined)[] = [];
    for (const rules of rulesByVehicle) {
      const base = data.length;
      regions.push(base);
      data.push(rules.length, headers.length);
      // Headers first, trigger records after them: a rule's header says where its records are.
      let record = base + VEHICLE_HEADER + RULE_HEADER * rules.length;
      const records: number[] = [];
      for (const rule of rules) {
        headers.push(data.length);
        const conditions = rule.spec.conditions === undefined || rule.spec.conditions.length === 0 ? 0 : 1;
        if (rule.explainAll || !rule.triggers.every(isLevel)) {
          data.push(-1, 0, conditions, 0);
          continue;
        }
        data.push(record, rule.triggers.length, conditions, 0);
        record += TRIGGER_RECORD * rule.triggers.length;
        for (const trigger of rule.triggers as readonly LevelTrigger[]) {
          const [test, a, b, c] = testOf(trigger);
          records.push(test, slotOf(signalOf(trigger)), a, b, c, closures.length, 0);
          closures.push(test === TEST_CLOSURE ? trigger : undefined);
        }
      }
      for (const value of records) data.push(value);
    }
    this.regions = Int32Array.from(regions);
    this.data = Float64Array.from(data);
    this.headers = Int32Array.from(headers);
    this.closures = closures;
    this.ruleTotal = headers.length;
  }

  /** How many rules vehicle v has. */
  ruleCount(v: number): number {
    return this.data[this.regions[v] as number] as number;
  }

  /** The header of vehicle v's i-th rule. */
  rule(v: number, i: number): number {
    return (this.regions[v] as number) + VEHICLE_HEADER + RULE_HEADER * i;
  }

  /** The fleet-wide number of vehicle v's i-th rule. */
  ruleNumber(v: number, i: number): number {
    return (this.data[(this.regions[v] as number) + 1] as number) + i;
  }

  /** The header of the rule with this fleet-wide number. */
  ruleByNumber(number: number): number {
    return this.headers[number] as number;
  }

  /** The rule's first trigger record, or −1 when not all its triggers are level triggers. */
  firstTrigger(rule: number): number {
    return this.data[rule] as number;
  }

  /** How many triggers a rule of level triggers has. */
  triggersOf(rule: number): number {
    return this.data[rule + 1] as number;
  }

  /** Whether the rule has conditions (beyond its triggers). */
  hasConditions(rule: number): boolean {
    return this.data[rule + 2] === 1;
  }

  /** The slot of the signal the trigger reads. */
  slot(t: number): SignalSlot {
    return this.data[t + 1] as number;
  }

  /**
   * A number per trigger that the owner keeps with the tests (LiveFleet: the trigger's phase),
   * 0 to start with: beside the data the same event reads, it costs no cache miss of its own.
   */
  stateOf(t: number): number {
    return this.data[t + 6] as number;
  }

  setStateOf(t: number, state: number): void {
    this.data[t + 6] = state;
  }

  /** A flag per rule that the owner keeps with the tests (LiveFleet: an episode is open), false to start with. */
  isMarked(rule: number): boolean {
    return this.data[rule + 3] === 1;
  }

  mark(rule: number, marked: boolean): void {
    this.data[rule + 3] = marked ? 1 : 0;
  }

  /** Whether the trigger tests a circle zone (then read positions with holdsAtPosition). */
  isCircle(t: number): boolean {
    const test = this.data[t];
    return test === TEST_INSIDE_CIRCLE || test === TEST_OUTSIDE_CIRCLE;
  }

  /** The trigger's holdsOn() on a snapshot whose sample of its signal has this value (undefined: none). */
  holds(t: number, value: unknown): boolean {
    const { data } = this;
    const a = data[t + 2] as number;
    switch ((data[t] as number) | 0) {
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
        return this.holdsAtPosition(t, lat, lon);
      }
      default:
        return closureHolds(this.closures[data[t + 5] as number] as LevelTrigger, value);
    }
  }

  /** The trigger's clearsOn() on a snapshot whose sample of its signal has this value (undefined: none). */
  clears(t: number, value: unknown): boolean {
    const { data } = this;
    const a = data[t + 2] as number;
    switch ((data[t] as number) | 0) {
      case TEST_ABOVE:
        return typeof value === "number" && value <= a;
      case TEST_ABOVE_BAND:
        return typeof value === "number" && value < (data[t + 3] as number);
      case TEST_BELOW:
        return typeof value === "number" && value >= a;
      case TEST_BELOW_BAND:
        return typeof value === "number" && value > (data[t + 3] as number);
      case TEST_IS_TRUE:
        return value !== undefined && value !== true;
      case TEST_IS_FALSE:
        return value !== undefined && value !== false;
      case TEST_INSIDE_CIRCLE:
      case TEST_OUTSIDE_CIRCLE: {
        if (value === undefined) return false;
        const { lat, lon } = value as { lat: number; lon: number };
        return !this.holdsAtPosition(t, lat, lon);
      }
      default:
        return closureClears(this.closures[data[t + 5] as number] as LevelTrigger, value);
    }
  }

  /** Whether a circle zone trigger holds at a known position: inside or outside, as it wants. */
  holdsAtPosition(t: number, lat: number, lon: number): boolean {
    const { data } = this;
    const inside = haversineM(data[t + 2] as number, data[t + 3] as number, lat, lon) <= (data[t + 4] as number);
    return inside === (data[t] === TEST_INSIDE_CIRCLE);
  }

  /**
   * Which of vehicle v's rules hold now: bit i set when holdsOnValues(v, i, …) is true
   * (rules past the 31st are not reported).
   */
  holdingMask(v: number, values: SlotValues, contextOf: (v: number) => EvalContext): number {
    const count = Math.min(this.ruleCount(v), 31);
    let mask = 0;
    for (let i = 0, rule = this.rule(v, 0); i < count; i++, rule += RULE_HEADER) {
      if (this.ruleHolds(v, i, rule, values, contextOf)) mask |= 1 << i;
    }
    return mask;
  }

  /**
   * holdsNow() of vehicle v's i-th rule (a level trigger holds and so do the conditions),
   * on the samples whose values `values` holds: the rule's compiled closures run only for
   * its conditions once a trigger holds, or for rules with other triggers, on
   * `contextOf(v)`: the same samples as a snapshot, built only then.
   */
  holdsOnValues(v: number, i: number, values: SlotValues, contextOf: (v: number) => EvalContext): boolean {
    return this.ruleHolds(v, i, this.rule(v, i), values, contextOf);
  }

  private ruleHolds(
    v: number,
    i: number,
    rule: number,
    values: SlotValues,
    contextOf: (v: number) => EvalContext,
  ): boolean {
    const first = this.firstTrigger(rule);
    if (first >= 0) {
      const end = first + TRIGGER_RECORD * this.triggersOf(rule);
      let holds = false;
      for (let t = first; t < end && !holds; t += TRIGGER_RECORD) holds = this.holdsOnSlot(t, values);
      if (!holds) return false;
      if (!this.hasConditions(rule)) return true;
    }
    return this.compiledHoldsNow(v, i, contextOf);
  }

  /** holds(t, value) with the value read from `values`, unboxed where it is a number or a position. */
  private holdsOnSlot(t: number, values: SlotValues): boolean {
    const { data } = this;
    const slot = data[t + 1] as number;
    const kind = values.kinds[slot];
    switch ((data[t] as number) | 0) {
      case TEST_ABOVE:
      case TEST_ABOVE_BAND:
        return kind === KIND_NUMBER && (values.numbers[slot] as number) > (data[t + 2] as number);
      case TEST_BELOW:
      case TEST_BELOW_BAND:
        return kind === KIND_NUMBER && (values.numbers[slot] as number) < (data[t + 2] as number);
      case TEST_IS_TRUE:
        return values.others[slot] === true;
      case TEST_IS_FALSE:
        return values.others[slot] === false;
      case TEST_INSIDE_CIRCLE:
      case TEST_OUTSIDE_CIRCLE:
        if (kind === KIND_POSITION) {
          return this.holdsAtPosition(t, values.numbers[slot] as number, values.longitudes[slot] as number);
        }
        return this.holds(t, values.valueOf(slot));
      default: {
        const trigger = this.closures[data[t + 5] as number] as LevelTrigger;
        // A polygon or H3 zone reads the position's two numbers: no object to build for it.
        if (kind === KIND_POSITION && trigger.kind === "zone") {
          return zoneHolds(trigger, values.numbers[slot] as number, values.longitudes[slot] as number);
        }
        return closureHolds(trigger, values.valueOf(slot));
      }
    }
  }

  private compiledHoldsNow(v: number, i: number, contextOf: (v: number) => EvalContext): boolean {
    return ((this.rules[v] as readonly CompiledRule[])[i] as CompiledRule).holdsNow(contextOf(v));
  }
}

const KIND_NONE = 0;
const KIND_NUMBER = 1;
const KIND_POSITION = 2;
const KIND_OTHER = 3;

/**
 * One vehicle's values by slot (slotOf), for FleetTriggers.holdingMask: numbers and plain
 * positions unboxed in typed arrays, anything else as given. A caller refills one per
 * event (clear() forgets every slot); in a plain array each fractional number written
 * would be a fresh heap object.
 *
 * @example
 * const values = new SlotValues();
 * values.setNumber(slotOf("speed_kph"), 121);
 * triggers.holdingMask(v, values, contextOf)
 */
export class SlotValues {
  /** Per slot, what it holds: none, a number, a position, anything else. */
  readonly kinds = new Uint8Array(SIGNAL_NAMES.length);
  /** Per slot, the number, or the position's latitude. */
  readonly numbers = new Float64Array(SIGNAL_NAMES.length);
  /** Per slot, the position's longitude. */
  readonly longitudes = new Float64Array(SIGNAL_NAMES.length);
  /** Per slot, a value that is neither (text, true/false, other objects). */
  readonly others: unknown[] = new Array<unknown>(SIGNAL_NAMES.length).fill(undefined);

  setNumber(slot: SignalSlot, value: number): void {
    checkSlot(slot);
    this.kinds[slot] = KIND_NUMBER;
    this.numbers[slot] = value;
    this.others[slot] = undefined;
  }

  /** A plain { lat, lon } position. */
  setPosition(slot: SignalSlot, lat: number, lon: number): void {
    checkSlot(slot);
    this.kinds[slot] = KIND_POSITION;
    this.numbers[slot] = lat;
    this.longitudes[slot] = lon;
    this.others[slot] = undefined;
  }

  /** Any value (undefined: none): numbers and plain positions unboxed, as setNumber and setPosition. */
  set(slot: SignalSlot, value: unknown): void {
    if (typeof value === "number") this.setNumber(slot, value);
    else if (isPlainPosition(value)) this.setPosition(slot, value.lat, value.lon);
    else {
      checkSlot(slot);
      this.kinds[slot] = value === undefined ? KIND_NONE : KIND_OTHER;
      this.others[slot] = value;
    }
  }

  /** No slot holds a value. */
  clear(): void {
    this.kinds.fill(KIND_NONE);
    this.others.fill(undefined);
  }

  /** The value as given to set() (a position built anew). */
  valueOf(slot: SignalSlot): unknown {
    switch (this.kinds[slot]) {
      case KIND_NUMBER:
        return this.numbers[slot];
      case KIND_POSITION:
        return { lat: this.numbers[slot], lon: this.longitudes[slot] };
      default:
        return this.others[slot];
    }
  }
}

/** A typed array drops a write out of range without a word: refuse it instead. */
const checkSlot = (slot: SignalSlot): void => {
  if (!(slot >= 0 && slot < SIGNAL_NAMES.length && Number.isInteger(slot))) {
    throw new RangeError(`no signal slot ${slot} (slots are 0 to ${SIGNAL_NAMES.length - 1})`);
  }
};

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
  return loc !== undefined && zoneHolds(trigger, loc.lat, loc.lon);
};

/** A zone trigger holds at a position: inside or outside, as it wants. */
const zoneHolds = (trigger: Extract<LevelTrigger, { kind: "zone" }>, lat: number, lon: number): boolean =>
  trigger.zone.contains(lat, lon) === (trigger.want === "inside");

/** The trigger's clearsOn() through its closures. */
const closureClears = (trigger: LevelTrigger, value: unknown): boolean => {
  if (trigger.kind === "threshold") return trigger.clears(value);
  const loc = value as { lat: number; lon: number } | undefined;
  return loc !== undefined && trigger.zone.contains(loc.lat, loc.lon) !== (trigger.want === "inside");
};
