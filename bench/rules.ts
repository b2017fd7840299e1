// `npm run bench:rules`: Dashlight's rule evaluator beside json-rules-engine, @marcbachmann/cel-js
// and a hand-written closure baseline, on one deterministic vehicle-alert workload, in one run.
// Ratios are to the baseline of the same run. Workload and rules follow ../shared/bench/rules-peers
// (4 rules per vehicle: speeding, check engine, geofence exit, low charge), generated here so
// that `npm run bench:rules` needs nothing outside this repository.
//
//   npm run bench:rules -- [--vehicles 2000] [--events 200000] [--seed 42] [--engines a,b]
// For steadier numbers: node --expose-gc --import tsx bench/rules.ts
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Environment } from "@marcbachmann/cel-js";
import { Engine, Fact } from "json-rules-engine";
import { haversineM } from "../functions/core/rules/geo.ts";

// Heap figures need gc(): re-run this file once under --expose-gc when it is missing.
if ((globalThis as { gc?: unknown }).gc === undefined && process.env.DASHLIGHT_BENCH_CHILD === undefined) {
  const child = spawnSync(
    process.execPath,
    ["--expose-gc", "--import", "tsx", fileURLToPath(import.meta.url), ...process.argv.slice(2)],
    { stdio: "inherit", env: { ...process.env, DASHLIGHT_BENCH_CHILD: "1" } },
  );
  process.exit(child.status ?? 1);
}

// The adapter is plain JS shared with ../shared/bench/rules-peers; a variable specifier keeps it untyped.
const adapterPath = "./rules-peers-adapter.mjs";
const { buildEvaluator } = (await import(adapterPath)) as {
  buildEvaluator: (vehicles: BenchVehicle[], mode: AdapterMode) => Built;
};

type Rule =
  | { kind: "speeding"; thresholdKph: number }
  | { kind: "check_engine" }
  | { kind: "geofence_exit"; lat: number; lon: number; radiusM: number }
  | { kind: "low_charge"; thresholdPct: number };
type BenchVehicle = { id: number; rules: Rule[] };
type BenchEvent = {
  vehicleId: number;
  ts: number;
  speed_kph: number;
  lat: number;
  lon: number;
  soc_pct: number;
  is_charging: boolean;
  mil: boolean;
};
type AdapterMode = "conditions" | "stateful" | "snapshot" | "floor";
type Built = { evalEvent(e: BenchEvent): number | Promise<number> };
type EngineSpec = { name: string; async: boolean; build(vehicles: BenchVehicle[]): Built };

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const engineFilter = (() => {
  const i = process.argv.indexOf("--engines");
  return i >= 0 ? new Set((process.argv[i + 1] ?? "").split(",")) : undefined;
})();

/** mulberry32: small, fast, deterministic. */
const rngOf = (seed: number) => {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
};

const METROS = [
  [37.7749, -122.4194],
  [40.7128, -74.006],
  [52.52, 13.405],
  [48.1351, 11.582],
  [51.5074, -0.1278],
  [35.6762, 139.6503],
] as const;
const M_PER_DEG = 111_320;
const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

/** Mean-reverting random walks per vehicle, as in rules-peers' gen.mjs (simplified). */
const generate = (vehicleCount: number, eventCount: number, seed: number) => {
  const rnd = rngOf(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
  const gauss = () => Math.sqrt(-2 * Math.log(rnd() || 1e-12)) * Math.cos(2 * Math.PI * rnd());
  const vehicles: BenchVehicle[] = [];
  const dyn: {
    speed: number;
    mean: number;
    dx: number;
    dy: number;
    sd: number;
    soc: number;
    charging: boolean;
    mil: boolean;
  }[] = [];
  for (let v = 0; v < vehicleCount; v++) {
    const metro = METROS[int(0, METROS.length - 1)] ?? METROS[0];
    const lat = round(metro[0] + (rnd() - 0.5) * 0.4, 6);
    const lon = round(metro[1] + (rnd() - 0.5) * 0.4, 6);
    const radiusM = int(200, 5000);
    vehicles.push({
      id: v,
      rules: [
        { kind: "speeding", thresholdKph: int(100, 130) },
        { kind: "check_engine" },
        { kind: "geofence_exit", lat, lon, radiusM },
        { kind: "low_charge", thresholdPct: int(10, 25) },
      ],
    });
    const mean = 50 + rnd() * 35;
    dyn.push({
      speed: mean,
      mean,
      dx: 0,
      dy: 0,
      sd: radiusM * (0.3 + rnd() * 0.15),
      soc: 45 + rnd() * 30,
      charging: false,
      mil: false,
    });
  }
  const events: BenchEvent[] = [];
  let ts = Date.parse("2026-01-01T00:00:00Z");
  for (let i = 0; i < eventCount; i++) {
    const vehicleId = int(0, vehicleCount - 1);
    const d = dyn[vehicleId] as (typeof dyn)[number];
    const fence = vehicles[vehicleId]?.rules[2] as Extract<Rule, { kind: "geofence_exit" }>;
    d.speed = Math.max(0, d.mean + 0.8 * (d.speed - d.mean) + 11 * gauss());
    d.dx = 0.95 * d.dx + 0.31 * d.sd * gauss();
    d.dy = 0.95 * d.dy + 0.31 * d.sd * gauss();
    d.soc = Math.min(100, Math.max(0, 60 + 0.97 * (d.soc - 60) + 4.5 * gauss()));
    d.charging = d.charging ? rnd() > 0.1 : rnd() < (d.soc < 25 ? 0.15 : 0.01);
    d.mil = d.mil ? rnd() > 0.08 : rnd() < 0.003;
    ts += 1 + Math.floor(rnd() * 20);
    events.push({
      vehicleId,
      ts,
      speed_kph: d.charging ? 0 : round(d.speed, 1),
      lat: round(fence.lat + d.dy / M_PER_DEG, 6),
      lon: round(fence.lon + d.dx / (M_PER_DEG * Math.cos((fence.lat * Math.PI) / 180)), 6),
      soc_pct: round(d.soc, 1),
      is_charging: d.charging,
      mil: d.mil,
    });
  }
  return { vehicles, events };
};

const baseline: EngineSpec = {
  name: "baseline (closures)",
  async: false,
  build(vehicles) {
    const make = (r: Rule): ((e: BenchEvent) => boolean) => {
      switch (r.kind) {
        case "speeding": {
          const th = r.thresholdKph;
          return (e) => e.speed_kph > th;
        }
        case "check_engine":
          return (e) => e.mil === true;
        case "geofence_exit": {
          const { lat, lon, radiusM } = r;
          return (e) => haversineM(lat, lon, e.lat, e.lon) > radiusM;
        }
        case "low_charge": {
          const th = r.thresholdPct;
          return (e) => e.soc_pct < th && e.is_charging === false;
        }
      }
    };
    const byVehicle = vehicles.map((v) => v.rules.map(make));
    return {
      evalEvent(e) {
        const rs = byVehicle[e.vehicleId] as ((e: BenchEvent) => boolean)[];
        let m = 0;
        for (let k = 0; k < rs.length; k++) if ((rs[k] as (e: BenchEvent) => boolean)(e)) m |= 1 << k;
        return m;
      },
    };
  },
};

const celDouble = (x: number) => (/[.eE]/.test(String(x)) ? String(x) : `${x}.0`);
const celSource = (r: Rule): string => {
  switch (r.kind) {
    case "speeding":
      return `speed_kph > ${celDouble(r.thresholdKph)}`;
    case "check_engine":
      return "mil == true";
    case "geofence_exit":
      return `haversine_m(${celDouble(r.lat)}, ${celDouble(r.lon)}, lat, lon) > ${celDouble(r.radiusM)}`;
    case "low_charge":
      return `soc_pct < ${celDouble(r.thresholdPct)} && is_charging == false`;
  }
};

const cel: EngineSpec = {
  name: "@marcbachmann/cel-js",
  async: false,
  build(vehicles) {
    const env = new Environment()
      .registerVariable("speed_kph", "double")
      .registerVariable("lat", "double")
      .registerVariable("lon", "double")
      .registerVariable("soc_pct", "double")
      .registerVariable("is_charging", "bool")
      .registerVariable("mil", "bool")
      .registerFunction("haversine_m(double, double, double, double): double", haversineM);
    const byVehicle = vehicles.map((v) => v.rules.map((r) => env.parse(celSource(r))));
    return {
      evalEvent(e) {
        const rs = byVehicle[e.vehicleId] ?? [];
        let m = 0;
        for (let k = 0; k < rs.length; k++) if ((rs[k] as (c: unknown) => unknown)(e) === true) m |= 1 << k;
        return m;
      },
    };
  },
};

const jre: EngineSpec = {
  name: "json-rules-engine",
  async: true,
  build(vehicles) {
    const opt = { cache: false };
    const conditions = (r: Rule) => {
      switch (r.kind) {
        case "speeding":
          return { all: [{ fact: "speed_kph", operator: "greaterThan", value: r.thresholdKph }] };
        case "check_engine":
          return { all: [{ fact: "mil", operator: "equal", value: true }] };
        case "geofence_exit":
          return {
            all: [
              {
                fact: "geofence_distance_m",
                params: { lat: r.lat, lon: r.lon },
                operator: "greaterThan",
                value: r.radiusM,
              },
            ],
          };
        case "low_charge":
          return {
            all: [
              { fact: "soc_pct", operator: "lessThan", value: r.thresholdPct },
              { fact: "is_charging", operator: "equal", value: false },
            ],
          };
      }
    };
    const distance = (p: { lat: number; lon: number }, a: { factValue(n: string): Promise<unknown> }) =>
      Promise.all([a.factValue("lat"), a.factValue("lon")]).then(([la, lo]) =>
        haversineM(p.lat, p.lon, la as number, lo as number),
      );
    const engines = vehicles.map((v) => {
      const engine = new Engine(
        v.rules.map((r, k) => ({ conditions: conditions(r), event: { type: r.kind, params: { bit: 1 << k } } })),
      );
      engine.addFact("geofence_distance_m", distance as never, opt);
      return engine;
    });
    return {
      evalEvent(e) {
        return (engines[e.vehicleId] as Engine)
          .run({
            speed_kph: new Fact("speed_kph", e.speed_kph, opt),
            mil: new Fact("mil", e.mil, opt),
            soc_pct: new Fact("soc_pct", e.soc_pct, opt),
            is_charging: new Fact("is_charging", e.is_charging, opt),
            lat: new Fact("lat", e.lat, opt),
            lon: new Fact("lon", e.lon, opt),
          } as never)
          .then((r) => r.results.reduce((m, x) => m | ((x.event?.params?.bit as number | undefined) ?? 0), 0));
      },
    };
  },
};

const dashlight = (mode: AdapterMode): EngineSpec => ({
  name: mode === "floor" ? "floor for stateful (by hand)" : `dashlight (${mode})`,
  async: false,
  build: (vehicles) => buildEvaluator(vehicles, mode),
});

const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});

const measure = async (spec: EngineSpec, vehicles: BenchVehicle[], events: BenchEvent[]) => {
  gc();
  const heap0 = process.memoryUsage().heapUsed;
  const t = performance.now();
  const built = spec.build(vehicles);
  const buildMs = performance.now() - t;
  gc();
  const heapMiB = (process.memoryUsage().heapUsed - heap0) / 2 ** 20;
  const perRule = [0, 0, 0, 0];
  const pass = async (engine: Built, count: boolean) => {
    const start = performance.now();
    for (const e of events) {
      const m = spec.async ? await engine.evalEvent(e) : (engine.evalEvent(e) as number);
      if (count) for (let k = 0; k < 4; k++) if (m & (1 << k)) perRule[k] = (perRule[k] ?? 0) + 1;
    }
    return performance.now() - start;
  };
  // A first pass warms the JIT; the measured pass runs on a fresh build (stateful engines start empty).
  await pass(built, false);
  const fresh = spec.build(vehicles);
  gc();
  const wallMs = await pass(fresh, true);
  return { buildMs, heapMiB, wallMs, perRule };
};

const main = async () => {
  const vehicleCount = arg("vehicles", 2000);
  const eventCount = arg("events", 200_000);
  const seed = arg("seed", 42);
  const { vehicles, events } = generate(vehicleCount, eventCount, seed);
  const engines = [
    baseline,
    dashlight("conditions"),
    dashlight("snapshot"),
    dashlight("stateful"),
    dashlight("floor"),
    cel,
    jre,
  ].filter((e) => engineFilter === undefined || e === baseline || [...engineFilter].some((f) => e.name.includes(f)));
  const evaluations = eventCount * 4;
  console.log(
    `workload: ${vehicleCount} vehicles x 4 rules, ${eventCount} events (seed ${seed}), ${evaluations} evaluations; node ${process.versions.node}`,
  );
  const rows: { name: string; buildMs: number; heapMiB: number; wallMs: number; perRule: number[] }[] = [];
  for (const spec of engines) {
    process.stderr.write(`  ${spec.name}...\n`);
    rows.push({ name: spec.name, ...(await measure(spec, vehicles, events)) });
  }
  const base = rows[0]?.wallMs ?? 1;
  const reference = JSON.stringify(rows[0]?.perRule);
  console.log("\n| engine | build ms | heap MiB | pass ms | ns/eval | x baseline | true per rule |");
  console.log("|:--|--:|--:|--:|--:|--:|:--|");
  let mismatch = false;
  for (const r of rows) {
    const agree = JSON.stringify(r.perRule) === reference;
    mismatch ||= !agree;
    console.log(
      `| ${r.name} | ${r.buildMs.toFixed(0)} | ${r.heapMiB.toFixed(1)} | ${r.wallMs.toFixed(0)} | ${((r.wallMs * 1e6) / evaluations).toFixed(0)} | ${(r.wallMs / base).toFixed(1)} | ${r.perRule.join(" ")}${agree ? "" : " MISMATCH"} |`,
    );
  }
  console.log(
    "\nSecond pass measured on a fresh build (a first pass warms up). dashlight (conditions) = holdsNow() per rule, level triggers read as data (FleetTriggers), conditions by the compiled closures;" +
      " (snapshot) = canonical event + applyEventToSnapshot (the consumer's immutable snapshot) + holdsNow();" +
      " (stateful) = LiveFleet.observe (snapshot columns, then evaluate()'s decisions for every rule, states in" +
      " memory) + the fleet's holdsNow(). floor for stateful = not Dashlight: the same per-signal ordering and edge" +
      " detection on canonical events by hand (build the event, parse its time, keep the newest sample per signal," +
      " an edge bit per rule), nothing else.",
  );
  if (mismatch) {
    console.error("engines disagree on the per-rule true counts");
    process.exitCode = 1;
  }
};

await main();
