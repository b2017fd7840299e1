import type { VehicleEvent } from "../model/event.ts";
import { emptySnapshot, type VehicleSnapshot } from "../model/snapshot.ts";
import type { Vehicle } from "../model/vehicle.ts";
import type { CompiledRule } from "./compiler.ts";
import { LiveFleet, type LiveOutcome } from "./live-fleet.ts";
import type { RuleState } from "./state.ts";

export type { LiveOutcome } from "./live-fleet.ts";

/**
 * One vehicle's rules run in memory over a stream of events (a LiveFleet of one): what
 * `rules replay` uses. Every decision is evaluate()'s or tick()'s, as in the event consumer.
 *
 * @example
 * const car = new LiveVehicle(rulesForVehicle(ruleSet, vehicle), vehicle);
 * car.observe(event, event.receivedAt).firings // what the consumer would have stored
 */
export class LiveVehicle {
  readonly rules: readonly CompiledRule[];
  readonly vehicle: Vehicle;
  private readonly fleet: LiveFleet;

  // Plain fields, no parameter properties: the benchmarks import this file with Node's type stripping.
  constructor(rules: readonly CompiledRule[], vehicle: Vehicle, snapshot: VehicleSnapshot = emptySnapshot(vehicle.id)) {
    this.rules = rules;
    this.vehicle = vehicle;
    this.fleet = new LiveFleet([{ vehicle, rules, snapshot }]);
  }

  /** The vehicle's snapshot after the events so far. */
  get snapshot(): VehicleSnapshot {
    return this.fleet.snapshot(0);
  }

  /** The state of the i-th rule (undefined until something happened to it). */
  stateAt(index: number): RuleState | undefined {
    return this.fleet.stateAt(0, index);
  }

  /** The event consumer's step: the event applied to the snapshot, then every rule evaluated at processing time `now`. */
  observe(event: VehicleEvent, now: number | string | Date): LiveOutcome {
    return this.fleet.observe(0, event, now);
  }

  /** The tick handler at `now` for the i-th rule (every rule when omitted): due timers, schedules. */
  tick(now: number | string | Date, index?: number): LiveOutcome {
    return this.fleet.tick(0, now, index);
  }
}
