import type { VehicleEvent } from "../model/event.ts";
import type { SignalName } from "../model/signals.ts";
import type { VehicleSnapshot } from "../model/snapshot.ts";
import type { Vehicle } from "../model/vehicle.ts";
import { type CelProgram, checkCel, runCel } from "./cel.ts";
import { localTime, minutesOf } from "./clock.ts";
import { RuleContractError } from "./errors.ts";
import type { ConditionSpec } from "./schema.ts";
import { WEEKDAYS } from "./schema.ts";
import type { CompiledZone } from "./zones.ts";

/** What conditions, filters and templates see: one vehicle at one instant of event time. */
export type EvalContext = {
  readonly vehicle: Vehicle;
  readonly snapshot: VehicleSnapshot;
  readonly event: VehicleEvent | undefined;
  /** The instant being evaluated, epoch ms (event time, or a timer's due time). */
  readonly atMs: number;
};

/** Three-valued: a predicate over a signal the snapshot lacks is unknown, and an unknown rule does not fire. */
export type Truth = boolean | "unknown";

/** One condition's outcome with the value it saw, for explanations. */
export type ConditionTrace = {
  condition: string;
  result: Truth;
  value?: unknown;
  children?: ConditionTrace[];
};

export type CompiledCondition = {
  readonly description: string;
  /** Signals whose change can change the outcome. "all" for CEL expressions. */
  readonly signals: readonly SignalName[] | "all";
  readonly test: (ctx: EvalContext) => Truth;
  readonly trace: (ctx: EvalContext) => ConditionTrace;
};

const and = (values: Truth[]): Truth =>
  values.includes(false) ? false : values.includes("unknown") ? "unknown" : true;
const or = (values: Truth[]): Truth => (values.includes(true) ? true : values.includes("unknown") ? "unknown" : false);
const not = (value: Truth): Truth => (value === "unknown" ? value : !value);

export const signalValue = (snapshot: VehicleSnapshot, signal: SignalName): unknown =>
  (snapshot.signals[signal] as { value: unknown } | undefined)?.value;

/** One reader per signal: a fixed property access stays monomorphic in hot loops. */
const READERS: { [K in SignalName]: (s: VehicleSnapshot) => unknown } = {
  speed_kph: (s) => s.signals.speed_kph?.value,
  location: (s) => s.signals.location?.value,
  odometer_km: (s) => s.signals.odometer_km?.value,
  soc_pct: (s) => s.signals.soc_pct?.value,
  range_km: (s) => s.signals.range_km?.value,
  is_plugged_in: (s) => s.signals.is_plugged_in?.value,
  charge_state: (s) => s.signals.charge_state?.value,
  charge_limit_pct: (s) => s.signals.charge_limit_pct?.value,
  fuel_pct: (s) => s.signals.fuel_pct?.value,
  fuel_l: (s) => s.signals.fuel_l?.value,
  oil_life_pct: (s) => s.signals.oil_life_pct?.value,
  dtcs: (s) => s.signals.dtcs?.value,
  mil_on: (s) => s.signals.mil_on?.value,
  is_locked: (s) => s.signals.is_locked?.value,
  doors: (s) => s.signals.doors?.value,
  tire_pressure_kpa: (s) => s.signals.tire_pressure_kpa?.value,
  battery_12v_v: (s) => s.signals.battery_12v_v?.value,
  ignition_on: (s) => s.signals.ignition_on?.value,
};
export const readerOf = (signal: SignalName): ((s: VehicleSnapshot) => unknown) => READERS[signal];

const celContexts = new WeakMap<VehicleSnapshot, Map<string, Record<string, unknown>>>();

/** The CEL variables of a context, built once per (snapshot, event, instant) and shared by all rules. */
export const celContextOf = (ctx: EvalContext): Record<string, unknown> => {
  const key = `${ctx.event?.id ?? ""}@${ctx.atMs}@${ctx.vehicle.id}`;
  let byKey = celContexts.get(ctx.snapshot);
  const hit = byKey?.get(key);
  if (hit !== undefined) return hit;
  const vars: Record<string, unknown> = {
    vehicle: {
      id: ctx.vehicle.id,
      name: ctx.vehicle.displayName,
      tags: ctx.vehicle.tags,
      time_zone: ctx.vehicle.timeZone,
    },
    event:
      ctx.event === undefined
        ? {}
        : { id: ctx.event.id, type: ctx.event.type, occurred_at: ctx.event.occurredAt, data: ctx.event.data },
    now: new Date(ctx.atMs),
  };
  for (const [name, sample] of Object.entries(ctx.snapshot.signals)) vars[name] = (sample as { value: unknown }).value;
  if (byKey === undefined) {
    byKey = new Map();
    celContexts.set(ctx.snapshot, byKey);
  }
  if (byKey.size > 8) byKey.clear();
  byKey.set(key, vars);
  return vars;
};

export const compileCelProgram = (source: string): CelProgram => {
  const checked = checkCel(source);
  if (!checked.ok) throw new RuleContractError(`CEL expression was not validated: ${checked.message}`);
  return checked.program;
};

const leaf = (
  description: string,
  signals: readonly SignalName[] | "all",
  observe: (ctx: EvalContext) => { result: Truth; value?: unknown },
  /** Same answer as observe(ctx).result without allocating: the hot path. */
  test: (ctx: EvalContext) => Truth = (ctx) => observe(ctx).result,
): CompiledCondition => ({
  description,
  signals,
  test,
  trace: (ctx) => ({ condition: description, ...observe(ctx) }),
});

/** Compiles a condition tree to closures; zones must already be compiled. */
export const compileCondition = (spec: ConditionSpec, zones: ReadonlyMap<string, CompiledZone>): CompiledCondition => {
  if ("signal" in spec) {
    const { signal } = spec;
    const parts: string[] = [];
    const checks: ((v: unknown) => boolean)[] = [];
    if (spec.above !== undefined) {
      const x = spec.above;
      parts.push(`above ${x}`);
      checks.push((v) => typeof v === "number" && v > x);
    }
    if (spec.below !== undefined) {
      const x = spec.below;
      parts.push(`below ${x}`);
      checks.push((v) => typeof v === "number" && v < x);
    }
    if (spec.is !== undefined) {
      const x = spec.is;
      parts.push(`is ${String(x)}`);
      checks.push((v) => v === x);
    }
    if (spec.in !== undefined) {
      const xs = spec.in;
      parts.push(`in [${xs.join(", ")}]`);
      checks.push((v) => typeof v === "string" && xs.includes(v));
    }
    const read = readerOf(signal);
    return leaf(
      `${signal} ${parts.join(" and ")}`,
      [signal],
      (ctx) => {
        const value = read(ctx.snapshot);
        if (value === undefined) return { result: "unknown" };
        return { result: checks.every((c) => c(value)), value };
      },
      fastSignalTest(spec, read) ??
        ((ctx) => {
          const value = read(ctx.snapshot);
          return value === undefined ? "unknown" : checks.every((c) => c(value));
        }),
    );
  }
  if ("inside" in spec || "outside" in spec) {
    const want = "inside" in spec ? "inside" : "outside";
    const zoneName = "inside" in spec ? spec.inside : spec.outside;
    const zone = zoneOf(zones, zoneName);
    const wantInside = want === "inside";
    return leaf(
      `${want} zone ${zoneName}`,
      ["location"],
      (ctx) => {
        const loc = ctx.snapshot.signals.location?.value;
        if (loc === undefined) return { result: "unknown" };
        const inside = zone.contains(loc.lat, loc.lon);
        return { result: inside === wantInside, value: inside ? "inside" : "outside" };
      },
      (ctx) => {
        const loc = ctx.snapshot.signals.location?.value;
        return loc === undefined ? "unknown" : zone.contains(loc.lat, loc.lon) === wantInside;
      },
    );
  }
  if ("time" in spec) {
    const { after, before, weekdays } = spec.time;
    const from = after === undefined ? 0 : minutesOf(after);
    const to = before === undefined ? 24 * 60 : minutesOf(before);
    const days = weekdays === undefined ? undefined : new Set(weekdays.map((d) => WEEKDAYS.indexOf(d)));
    const wraps = from >= to;
    const description = [
      after === undefined && before === undefined ? "" : `time ${after ?? "00:00"}–${before ?? "24:00"}`,
      weekdays === undefined ? "" : `on ${weekdays.join(", ")}`,
    ]
      .filter((s) => s !== "")
      .join(" ");
    return leaf(description, [], (ctx) => {
      const local = localTime(ctx.atMs, ctx.vehicle.timeZone);
      const m = local.minuteOfDay;
      const inWindow = wraps ? m >= from || m < to : m >= from && m < to;
      // A window past midnight belongs to the day it started.
      const day = wraps && m < to ? (local.weekday + 6) % 7 : local.weekday;
      const onDay = days === undefined || days.has(day);
      return { result: inWindow && onDay, value: `${WEEKDAYS[local.weekday]} ${local.hhmm}` };
    });
  }
  if ("expression" in spec) {
    const program = compileCelProgram(spec.expression);
    return leaf(`expression ${spec.expression}`, "all", (ctx) => {
      const result = runCel(program, celContextOf(ctx));
      return { result: result ?? "unknown" };
    });
  }
  if ("not" in spec) {
    const inner = compileCondition(spec.not, zones);
    const innerTest = inner.test;
    return {
      description: `not (${inner.description})`,
      signals: inner.signals,
      test: (ctx) => {
        const r = innerTest(ctx);
        return r === "unknown" ? r : !r;
      },
      trace: (ctx) => {
        const child = inner.trace(ctx);
        return { condition: `not`, result: not(child.result), children: [child] };
      },
    };
  }
  const isAll = "all" in spec;
  const children = (isAll ? spec.all : spec.any).map((c) => compileCondition(c, zones));
  return compileGroup(isAll ? "all" : "any", children);
};

/** Allocation-free tests for the common single-operator predicates. */
const fastSignalTest = (
  spec: Extract<ConditionSpec, { signal: string }>,
  read: (s: VehicleSnapshot) => unknown,
): ((ctx: EvalContext) => Truth) | undefined => {
  const ops = [spec.above, spec.below, spec.is, spec.in].filter((o) => o !== undefined).length;
  if (ops !== 1) return undefined;
  if (spec.above !== undefined) {
    const x = spec.above;
    return (ctx) => {
      const v = read(ctx.snapshot);
      return v === undefined ? "unknown" : typeof v === "number" && v > x;
    };
  }
  if (spec.below !== undefined) {
    const x = spec.below;
    return (ctx) => {
      const v = read(ctx.snapshot);
      return v === undefined ? "unknown" : typeof v === "number" && v < x;
    };
  }
  if (spec.is !== undefined) {
    const x = spec.is;
    return (ctx) => {
      const v = read(ctx.snapshot);
      return v === undefined ? "unknown" : v === x;
    };
  }
  return undefined;
};

export const compileGroup = (kind: "all" | "any", children: readonly CompiledCondition[]): CompiledCondition => {
  const only = children.length === 1 ? children[0] : undefined;
  const combine = kind === "all" ? and : or;
  const signals = children.some((c) => c.signals === "all")
    ? ("all" as const)
    : [...new Set(children.flatMap((c) => c.signals as SignalName[]))];
  return {
    description: `${kind} of (${children.map((c) => c.description).join("; ")})`,
    signals,
    test:
      children.length === 0
        ? () => kind === "all"
        : only !== undefined
          ? only.test
          : (ctx) => {
              // Short-circuit where the answer is decided; unknown still needs the rest.
              let unknown = false;
              for (const c of children) {
                const r = c.test(ctx);
                if (r === (kind === "any")) return r;
                if (r === "unknown") unknown = true;
              }
              return unknown ? "unknown" : kind === "all";
            },
    trace: (ctx) => {
      const traces = children.map((c) => c.trace(ctx));
      return { condition: kind, result: combine(traces.map((t) => t.result)), children: traces };
    },
  };
};

export const zoneOf = (zones: ReadonlyMap<string, CompiledZone>, name: string): CompiledZone => {
  const zone = zones.get(name);
  if (zone === undefined) throw new RuleContractError(`zone ${name} was not validated`);
  return zone;
};
