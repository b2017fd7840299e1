// Dashlight's evaluator as an adapter for ../shared/bench/rules-peers (see its README):
//   node run.mjs --extra /path/to/dashlight/bench/rules-peers-adapter.mjs
// Each vehicle's four rules are written as Dashlight YAML, compiled with the real
// compiler, and evaluated with the real evaluator. evalEvent returns the bitmask of
// the vehicle's rules whose condition holds for the event.
//
// DASHLIGHT_BENCH_MODE=conditions (default): holdsNow() per rule on the event's values (SlotValues,
//   numbers unboxed): the fleet's level triggers as data (FleetTriggers, what LiveFleet's quiet path reads), and the
//   rule's compiled closures on a snapshot view of the event for its conditions once a trigger holds.
// DASHLIGHT_BENCH_MODE=stateful: one LiveFleet (what `rules replay` runs): the canonical
//   event applied to the vehicle's snapshot columns, then evaluate()'s decisions for every
//   rule with its state in memory (edge, hysteresis bands, cooldown, timers, versions,
//   redelivery ids); then the fleet's holdsNow() for the reported bitmask (the raw
//   conditions the harness checks, which hysteresis does not change).
// DASHLIGHT_BENCH_MODE=snapshot: the event consumer's immutable snapshot per event
//   (canonical event + applyEventToSnapshot + holdsNow), no rule states: what the columns save.
// DASHLIGHT_BENCH_MODE=floor: not Dashlight, the yardstick for stateful (buildFloor): the same
//   per-signal ordering and edge detection on canonical events, by hand, with nothing else.
// Imports the TypeScript sources directly (Node >= 22.18 strips types).

import { canonicalInstantMs, isoOf } from "../functions/core/model/instant.ts";
import { emptySnapshot } from "../functions/core/model/snapshot.ts";
import { haversineM } from "../functions/core/rules/geo.ts";
import {
  compileRuleSources,
  FleetTriggers,
  formatProblem,
  LiveFleet,
  SlotValues,
} from "../functions/core/rules/index.ts";
import { applyEventToSnapshot } from "../functions/core/snapshot/apply-event.ts";
import { slotOf } from "../functions/core/snapshot/snapshot-columns.ts";

const MODES = ["conditions", "stateful", "snapshot", "floor"];
const [SPEED, LOCATION, SOC, CHARGE_STATE, MIL] = ["speed_kph", "location", "soc_pct", "charge_state", "mil_on"].map(
  slotOf,
);
const MODE = MODES.includes(process.env.DASHLIGHT_BENCH_MODE) ? process.env.DASHLIGHT_BENCH_MODE : "conditions";
const num = (x) => String(x);

/**
 * The YAML of one vehicle's four rules (and its fence), in the benchmark's rule order.
 * Re-arm bands and a cooldown make the stateful mode do real hysteresis and cooldown
 * bookkeeping; they leave the conditions (holdsNow, the reported bitmask) unchanged.
 */
export function vehicleYaml(vehicle) {
  const vid = `dimo:${vehicle.id}`;
  const zones = [];
  const rules = [];
  for (const r of vehicle.rules) {
    const head = `  - id: v${vehicle.id}-${r.kind.replaceAll("_", "-")}\n    scope: { vehicles: ["${vid}"] }\n    cooldown: 10m\n    actions: []\n`;
    switch (r.kind) {
      case "speeding":
        rules.push(
          `${head}    triggers: [{ signal: speed_kph, above: ${num(r.thresholdKph)}, rearm_below: ${num(r.thresholdKph - 10)} }]\n`,
        );
        break;
      case "check_engine":
        rules.push(`${head}    triggers: [{ signal: mil_on, is: true }]\n`);
        break;
      case "geofence_exit":
        zones.push(
          `  fence-${vehicle.id}:\n    circle: { lat: ${num(r.lat)}, lon: ${num(r.lon)}, radius_m: ${num(r.radiusM)} }\n`,
        );
        rules.push(`${head}    triggers: [{ outside: fence-${vehicle.id} }]\n`);
        break;
      case "low_charge":
        rules.push(
          `${head}    triggers: [{ signal: soc_pct, below: ${num(r.thresholdPct)}, rearm_above: ${num(r.thresholdPct + 5)} }]\n    conditions: [{ not: { signal: charge_state, is: charging } }]\n`,
        );
        break;
      default:
        throw new Error(`unknown rule kind ${r.kind}`);
    }
  }
  return { zones: zones.join(""), rules: rules.join("") };
}

/** Compiles every vehicle's rules; returns them per vehicle index, in the benchmark's order. */
export function compileFleet(vehicles) {
  const parts = vehicles.map(vehicleYaml);
  const text = `zones:\n${parts.map((p) => p.zones).join("")}rules:\n${parts.map((p) => p.rules).join("")}`;
  const result = compileRuleSources([{ file: "bench.yaml", text }]);
  if (!result.ok) throw new Error(result.problems.slice(0, 5).map(formatProblem).join("\n"));
  const byId = new Map(result.ruleSet.rules.map((r) => [r.id, r]));
  return vehicles.map((v) => v.rules.map((r) => byId.get(`v${v.id}-${r.kind.replaceAll("_", "-")}`)));
}

const vehicleOf = (id) => ({
  id: `dimo:${id}`,
  provider: "dimo",
  providerVehicleId: String(id),
  displayName: `Vehicle ${id}`,
  tags: [],
  timeZone: "UTC",
  contacts: [],
  createdAt: "2026-01-01T00:00:00.000Z",
});

/**
 * A snapshot view of the benchmark event (conditions mode). One scratch object, refilled per
 * event, so the pass measures evaluation rather than allocation; safe because the evaluator
 * never keeps its inputs and these rules have no CEL (whose context cache is per snapshot).
 */
const scratch = {
  vehicleId: "",
  signals: {
    speed_kph: { value: 0, observedAt: "" },
    location: { value: { lat: 0, lon: 0 }, observedAt: "" },
    soc_pct: { value: 0, observedAt: "" },
    charge_state: { value: "not_charging", observedAt: "" },
    mil_on: { value: false, observedAt: "" },
  },
  sourceEventIds: {},
  version: 0,
};
const fill = (e, vehicleId) => {
  const s = scratch.signals;
  scratch.vehicleId = vehicleId;
  s.speed_kph.value = e.speed_kph;
  s.location.value.lat = e.lat;
  s.location.value.lon = e.lon;
  s.soc_pct.value = e.soc_pct;
  s.charge_state.value = e.is_charging ? "charging" : "not_charging";
  s.mil_on.value = e.mil;
  return scratch;
};

/** The canonical event the consumer would parse for a benchmark event (one per input, as from a queue). */
const canonicalEventOf = (e, vehicleId, id) => {
  const observedAt = isoOf(e.ts);
  return {
    id,
    vehicleId,
    type: "signals",
    occurredAt: observedAt,
    receivedAt: observedAt,
    source: { provider: "dimo" },
    data: {},
    signals: {
      speed_kph: { value: e.speed_kph, observedAt },
      location: { value: { lat: e.lat, lon: e.lon }, observedAt },
      soc_pct: { value: e.soc_pct, observedAt },
      charge_state: { value: e.is_charging ? "charging" : "not_charging", observedAt },
      mil_on: { value: e.mil, observedAt },
    },
  };
};

/**
 * DASHLIGHT_BENCH_MODE=floor: not Dashlight but a yardstick for the stateful mode: the same
 * per-signal ordering and edge detection written by hand for this workload, with nothing else.
 * Per event: build the canonical event (canonicalEventOf), read its samples' time text once
 * (canonicalInstantMs; canonical times only, as this workload has), keep the newest sample per
 * signal (time, value, source event id; ties to the later id, as Dashlight) in typed rows, test
 * the four conditions on the held values and keep one edge bit per rule. No unknown-signal
 * check, cooldown, episodes, timers, explanations, firings or redelivery ids. An evaluator with
 * other rules (ties by arrival, say) might keep less; this one keeps what Dashlight's semantics need.
 */
function buildFloor(vehicles) {
  const SIGNALS = ["speed_kph", "location", "soc_pct", "charge_state", "mil_on"];
  const SLOT = Object.assign(Object.create(null), Object.fromEntries(SIGNALS.map((name, i) => [name, i])));
  // Per vehicle: per signal (time ms, value), then the longitude; values of text or truth as 0/1.
  const ROW = 2 * SIGNALS.length + 1;
  const LON = ROW - 1;
  const held = new Float64Array(vehicles.length * ROW).fill(Number.NEGATIVE_INFINITY);
  const sourceIds = new Array(vehicles.length * SIGNALS.length).fill(undefined);
  const RULES = 4;
  if (vehicles.some((v) => v.rules.length !== RULES))
    throw new Error(`the floor is written for ${RULES} rules a vehicle`);
  const edges = new Uint8Array(vehicles.length * RULES);
  const vehicleIds = vehicles.map((v) => `dimo:${v.id}`);
  const test = (r) => {
    switch (r.kind) {
      case "speeding": {
        const th = r.thresholdKph;
        return (row) => held[row + 1] > th;
      }
      case "check_engine":
        return (row) => held[row + 9] === 1;
      case "geofence_exit": {
        const { lat, lon, radiusM } = r;
        return (row) => haversineM(lat, lon, held[row + 3], held[row + LON]) > radiusM;
      }
      case "low_charge": {
        const th = r.thresholdPct;
        return (row) => held[row + 5] < th && held[row + 7] === 0;
      }
      default:
        throw new Error(`unknown rule kind ${r.kind}`);
    }
  };
  const tests = vehicles.map((v) => v.rules.map(test));
  let seq = 0;
  return {
    evalEvent(e) {
      const v = e.vehicleId;
      const event = canonicalEventOf(e, vehicleIds[v], `b${seq++}`);
      const row = v * ROW;
      let text = "";
      let ms = Number.NaN;
      for (const name in event.signals) {
        const sample = event.signals[name];
        const slot = SLOT[name];
        if (sample.observedAt !== text) {
          text = sample.observedAt;
          ms = canonicalInstantMs(text);
        }
        const heldMs = held[row + 2 * slot];
        // Only a later sample replaces the held one; the same instant goes to the later event id.
        if (ms < heldMs || (ms === heldMs && !(event.id > sourceIds[v * SIGNALS.length + slot]))) continue;
        held[row + 2 * slot] = ms;
        const value = sample.value;
        if (typeof value === "number") held[row + 2 * slot + 1] = value;
        else if (typeof value === "object") {
          held[row + 2 * slot + 1] = value.lat;
          held[row + LON] = value.lon;
        } else held[row + 2 * slot + 1] = value === true || value === "charging" ? 1 : 0;
        sourceIds[v * SIGNALS.length + slot] = event.id;
      }
      const rules = tests[v];
      let m = 0;
      for (let k = 0; k < rules.length; k++) {
        const holds = rules[k](row) ? 1 : 0;
        if (holds !== edges[v * RULES + k]) edges[v * RULES + k] = holds;
        m |= holds << k;
      }
      return m;
    },
  };
}

export function buildEvaluator(vehicles, mode = MODE) {
  if (mode === "floor") return buildFloor(vehicles);
  const rulesByVehicle = compileFleet(vehicles);
  const vehicleObjects = vehicles.map((v) => vehicleOf(v.id));
  if (mode === "conditions") {
    // The fleet's level triggers as data (what LiveFleet's quiet path reads), the rules'
    // compiled closures for their conditions once a trigger holds: holdsNow() per rule.
    const triggers = new FleetTriggers(rulesByVehicle);
    const vehicleIds = vehicleObjects.map((v) => v.id);
    const ctx = { vehicle: vehicleObjects[0], snapshot: scratch, event: undefined, atMs: 0 };
    const values = new SlotValues();
    let current;
    // The snapshot view, filled only for a rule whose conditions are to be tested.
    const contextOf = (v) => {
      ctx.vehicle = vehicleObjects[v];
      ctx.atMs = current.ts;
      fill(current, vehicleIds[v]);
      return ctx;
    };
    return {
      evalEvent(e) {
        const v = e.vehicleId;
        current = e;
        values.setNumber(SPEED, e.speed_kph);
        values.setPosition(LOCATION, e.lat, e.lon);
        values.setNumber(SOC, e.soc_pct);
        values.set(CHARGE_STATE, e.is_charging ? "charging" : "not_charging");
        values.set(MIL, e.mil);
        return triggers.holdingMask(v, values, contextOf);
      },
    };
  }
  const fleet = new LiveFleet(vehicleObjects.map((vehicle, i) => ({ vehicle, rules: rulesByVehicle[i] })));
  const snapshots = vehicleObjects.map((v) => emptySnapshot(v.id));
  const ctx = { vehicle: vehicleObjects[0], snapshot: snapshots[0], event: undefined, atMs: 0 };
  const totals = { events: 0, stateWrites: 0, firings: 0, resolved: 0, cooldown: 0 };
  let seq = 0;
  return {
    totals,
    evalEvent(e) {
      const v = e.vehicleId;
      const vehicle = vehicleObjects[v];
      const event = canonicalEventOf(e, vehicle.id, `b${seq++}`);
      totals.events++;
      const rules = rulesByVehicle[v];
      let m = 0;
      if (mode === "stateful") {
        const out = fleet.observe(v, event, e.ts);
        if (out.firings.length > 0 || out.states.length > 0) {
          totals.stateWrites += out.states.length;
          for (const f of out.firings) {
            if (f.kind === "resolved") totals.resolved++;
            else totals.firings++;
            if (f.status === "cooldown") totals.cooldown++;
          }
        }
        // Bits 0..30, as the conditions mode (FleetTriggers.holdingMask) reports them.
        for (let k = 0; k < rules.length && k < 31; k++) if (fleet.holdsNow(v, k, e.ts)) m |= 1 << k;
        return m;
      }
      const snapshot = applyEventToSnapshot(snapshots[v], event).snapshot;
      snapshots[v] = snapshot;
      ctx.vehicle = vehicle;
      ctx.snapshot = snapshot;
      ctx.atMs = e.ts;
      for (let k = 0; k < rules.length; k++) if (rules[k].holdsNow(ctx)) m |= 1 << k;
      return m;
    },
  };
}

export default {
  name: { conditions: "dashlight", floor: "floor-for-dashlight-stateful" }[MODE] ?? `dashlight-${MODE}`,
  version: "dashlight 0.1.0",
  async: false,
  notes: {
    conditions:
      "YAML rules, real compiler; FleetTriggers.holdingMask on SlotValues (level triggers as data, conditions by closure)",
    stateful:
      "YAML rules, real compiler; LiveFleet.observe (snapshot columns + evaluate() per rule, states in memory) + holdsNow()",
    snapshot: "canonical event + applyEventToSnapshot + holdsNow(), no rule states: the snapshot's share of stateful",
    floor:
      "not Dashlight: canonical event + newest sample per signal + an edge bit per rule, by hand: stateful's floor",
  }[MODE],
  build(vehicles) {
    return buildEvaluator(vehicles, MODE);
  },
};
