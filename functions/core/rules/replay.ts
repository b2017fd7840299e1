import type { VehicleEvent } from "../model/event.ts";
import { compareInstants, instantMs } from "../model/instant.ts";
import type { Vehicle } from "../model/vehicle.ts";
import type { CompiledRule, RuleSet } from "./compiler.ts";
import { rulesForVehicle } from "./engine.ts";
import { type LiveOutcome, LiveVehicle } from "./live.ts";
import type { Firing } from "./state.ts";

/**
 * Backtesting: what the current rules would have done with events already stored.
 * Pure and in memory (a LiveVehicle each): fresh rule states (every rule armed) and an
 * empty snapshot per vehicle, events applied in event-time order, and the tick run for every timer that
 * falls due before the next event and up to the end of the window, so `for` deadlines,
 * staleness and schedules fire when the runtime (which ticks every minute) would have
 * fired them. Nothing is written and no action is performed: firings say what would
 * have happened, with the status the runtime would have given them.
 *
 * @example
 * const window = { from: "2026-05-01T00:00:00.000Z", to: "2026-05-02T00:00:00.000Z" };
 * const firings = replayVehicle(ruleSet, vehicle, events, window);
 * firings.map((f) => `${f.at} ${f.ruleId} ${f.kind}`) // ["2026-05-01T08:00:10.000Z speeding fired"]
 */
export const replayVehicle = (
  ruleSet: RuleSet,
  vehicle: Vehicle,
  events: readonly VehicleEvent[],
  window: { readonly from: string; readonly to: string },
  onEvent: () => void = () => {},
): Firing[] => {
  const rules = rulesForVehicle(ruleSet, vehicle);
  const run = new VehicleReplay(rules, vehicle);
  run.tickAt(window.from); // starts the schedules, as the first tick after a deploy does
  for (const event of inEventTimeOrder(events)) {
    // No timer fires past the window's end, even before an event dated later (a clock ahead).
    run.tickDueUntil(compareInstants(event.occurredAt, window.to) < 0 ? event.occurredAt : window.to);
    run.apply(event);
    onEvent();
  }
  run.tickDueUntil(window.to);
  return run.firings;
};

/** One vehicle's replay: a live vehicle, and when the runtime would have learnt each rule's state. */
class VehicleReplay {
  readonly firings: Firing[] = [];
  private readonly live: LiveVehicle;
  /** Per rule (by index), when the runtime learnt its current state (processing time, ms): no tick acts earlier. */
  private readonly knownAtMs: number[];

  constructor(rules: readonly CompiledRule[], vehicle: Vehicle) {
    this.live = new LiveVehicle(rules, vehicle);
    this.knownAtMs = rules.map(() => 0);
  }

  /** The tick handler at `at`, for every rule (starts schedules). */
  tickAt(at: string): void {
    this.absorb(this.live.tick(at), instantMs(at));
  }

  /**
   * Every timer due up to `until` (event time), each ticked when the minute-by-minute
   * tick would have served it: at its due time, or when the event that set it was
   * received if that was later (a `for` started by a late event fires late). A tick moves
   * the `dueAt` it served; the guard stops at one that would not move.
   */
  tickDueUntil(until: string): void {
    const untilMs = instantMs(until);
    const served = new Set<string>();
    for (let next = this.nextTimer(); next !== undefined && next.atMs <= untilMs; next = this.nextTimer()) {
      const key = `${next.index}@${next.atMs}`;
      if (served.has(key)) return;
      served.add(key);
      this.absorb(this.live.tick(next.atMs, next.index), next.atMs);
    }
  }

  /**
   * The event consumer's step. Processing time is the event's `receivedAt`, so an event
   * that arrived late then is late now (recorded, not actioned), as it was.
   */
  apply(event: VehicleEvent): void {
    this.absorb(this.live.observe(event, event.receivedAt), instantMs(event.receivedAt));
  }

  private nextTimer(): { index: number; atMs: number } | undefined {
    let next: { index: number; atMs: number } | undefined;
    for (let index = 0; index < this.knownAtMs.length; index++) {
      const dueAt = this.live.stateAt(index)?.dueAt ?? null;
      if (dueAt === null) continue;
      const atMs = Math.max(instantMs(dueAt), this.knownAtMs[index] ?? 0);
      if (next === undefined || atMs < next.atMs) next = { index, atMs };
    }
    return next;
  }

  private absorb(out: LiveOutcome, processedAtMs: number): void {
    for (const state of out.states) {
      this.knownAtMs[this.live.rules.findIndex((rule) => rule.id === state.ruleId)] = processedAtMs;
    }
    this.firings.push(...out.firings);
  }
}

/** Event time, then id: the order the store's sort key gives, also for non-canonical times. */
const inEventTimeOrder = (events: readonly VehicleEvent[]): VehicleEvent[] =>
  events
    .map((event) => ({ event, ms: instantMs(event.occurredAt) }))
    .sort((a, b) => a.ms - b.ms || (a.event.id < b.event.id ? -1 : a.event.id > b.event.id ? 1 : 0))
    .map(({ event }) => event);

/**
 * One line per firing for people: time, vehicle, rule, what happened, status, why.
 *
 * @example formatReplayFiring(firing)
 * // "2026-05-01T08:00:10.000Z  automatic:C_1  speeding  fired  actioned  Speeding fired on speed_kph above 120 for 10s"
 */
export const formatReplayFiring = (firing: Firing): string =>
  [firing.at, firing.vehicleId, firing.ruleId, firing.kind, firing.status, firing.explanation.summary].join("  ");

/** Firings of several vehicles in one timeline: by time, then vehicle, rule and id. */
export const byFiringTime = (a: Firing, b: Firing): number =>
  instantMs(a.at) - instantMs(b.at) ||
  compareText(a.vehicleId, b.vehicleId) ||
  compareText(a.ruleId, b.ruleId) ||
  compareText(a.id, b.id);

const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
