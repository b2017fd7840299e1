import { Environment } from "@marcbachmann/cel-js";
import type { SignalName } from "../model/signals.ts";
import { haversineM } from "./geo.ts";

/** CEL type of each signal as a top-level variable of rule expressions. */
const SIGNAL_CEL_TYPES: Record<SignalName, string> = {
  speed_kph: "double",
  location: "map",
  odometer_km: "double",
  soc_pct: "double",
  range_km: "double",
  is_plugged_in: "bool",
  charge_state: "string",
  charge_limit_pct: "double",
  fuel_pct: "double",
  fuel_l: "double",
  oil_life_pct: "double",
  dtcs: "list",
  mil_on: "bool",
  is_locked: "bool",
  doors: "map",
  tire_pressure_kpa: "map",
  battery_12v_v: "double",
  ignition_on: "bool",
};

/**
 * The one CEL environment of rule expressions: every signal as a typed variable
 * (missing signals make the expression unknown, hence false), `vehicle` and `event`
 * as maps, `now` as a timestamp in event time, and `haversine(lat1, lon1, lat2, lon2)`
 * in metres. Built once per process: environments are expensive.
 */
const environment = (() => {
  let env = new Environment({ limits: { maxAstNodes: 2_000, maxDepth: 50 } })
    .registerVariable("vehicle", "map")
    .registerVariable("event", "map")
    .registerVariable("now", "google.protobuf.Timestamp")
    .registerFunction("haversine(double, double, double, double): double", haversineM);
  for (const [name, type] of Object.entries(SIGNAL_CEL_TYPES)) env = env.registerVariable(name, type);
  return env;
})();

export type CelProgram = (context: Record<string, unknown>) => unknown;

export type CelCheck = { ok: true; program: CelProgram } | { ok: false; message: string; offset: number };

const cache = new Map<string, CelCheck>();

/**
 * Parses and type-checks a CEL expression that must yield a bool. Results are cached by
 * source text, so 40,000 rules sharing `mil_on == true` compile it once.
 *
 * @example checkCel("speed_kph > 120.0") // { ok: true, program }
 */
export const checkCel = (source: string): CelCheck => {
  const hit = cache.get(source);
  if (hit !== undefined) return hit;
  const result = compile(source);
  cache.set(source, result);
  return result;
};

const firstLine = (message: string): string => message.split("\n")[0] ?? message;

const compile = (source: string): CelCheck => {
  let program: ReturnType<typeof environment.parse>;
  try {
    program = environment.parse(source);
  } catch (error) {
    const range = (error as { range?: { start: number } }).range;
    return { ok: false, message: `invalid CEL: ${firstLine((error as Error).message)}`, offset: range?.start ?? 0 };
  }
  const checked = program.check();
  if (!checked.valid) {
    const range = (checked.error as { range?: { start: number } } | undefined)?.range;
    const message = checked.error?.message ?? "type error";
    return { ok: false, message: `invalid CEL: ${firstLine(message)}`, offset: range?.start ?? 0 };
  }
  if (checked.type !== "bool") {
    return { ok: false, message: `CEL expression must be a bool, it is ${checked.type}`, offset: 0 };
  }
  return { ok: true, program: program as unknown as CelProgram };
};

/** Runs a checked program; an evaluation error (e.g. a signal the snapshot lacks) makes it unknown. */
export const runCel = (program: CelProgram, context: Record<string, unknown>): boolean | undefined => {
  try {
    const value = program(context);
    return typeof value === "boolean" ? value : undefined;
  } catch {
    return undefined;
  }
};
