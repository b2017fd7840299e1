import type { VehicleEvent } from "../model/event.ts";
import type { VehicleSnapshot } from "../model/snapshot.ts";
import type { Vehicle, VehicleId } from "../model/vehicle.ts";
import type { Action, Firing, RuleState } from "../rules/state.ts";

export interface EventStore {
  /** Stores the event under its vehicle and event time; "duplicate" when it was already stored. */
  putEvent(event: VehicleEvent): Promise<"stored" | "duplicate">;
}

/** Everything the evaluation of one vehicle's event needs, read together. */
export type VehicleState = {
  /** Undefined when the vehicle was never seen. */
  vehicle: Vehicle | undefined;
  /** An empty one (version 0) when none is stored. */
  snapshot: VehicleSnapshot;
  /** By rule id; absent when the rule has never seen the vehicle. */
  ruleStates: ReadonlyMap<string, RuleState>;
};

export interface VehicleStore {
  loadVehicleState(vehicleId: VehicleId): Promise<VehicleState>;
  /**
   * Stores the snapshot if the stored version still equals `snapshot.version`;
   * returns it with the new version. Throws StateConflictError otherwise.
   */
  saveSnapshot(snapshot: VehicleSnapshot): Promise<VehicleSnapshot>;
  /**
   * Registers the vehicle unless it is already registered, and returns the
   * registration that is stored (an existing one is never overwritten).
   */
  registerVehicle(vehicle: Vehicle): Promise<Vehicle>;
  /**
   * Stores each rule state if the stored one has version `state.version - 1`
   * (none for version 1). Throws StateConflictError when another writer got there first.
   */
  saveRuleStates(states: readonly RuleState[]): Promise<void>;
}

export interface FiringStore {
  /** Stores each firing unless one with its id is stored (ids are deterministic, so repeats are no-ops). */
  putFirings(firings: readonly Firing[]): Promise<void>;
}

export interface ActionQueue {
  /** Enqueues actions for dispatch; the dispatcher performs each action id once. */
  enqueue(actions: readonly Action[]): Promise<void>;
}

/** What happened when one event was applied. */
export type AppliedEvent = {
  event: VehicleEvent;
  vehicle: Vehicle;
  before: VehicleSnapshot;
  after: VehicleSnapshot;
  /** Signals the event carried that were older than the snapshot's and so changed nothing. */
  staleSignals: readonly string[];
  /** False when the event had been stored before (a redelivery). */
  firstDelivery: boolean;
  firings: readonly Firing[];
  actions: readonly Action[];
};

export interface DueTimerIndex {
  /** Vehicles with at least one rule state whose `dueAt` is at or before `now`. */
  dueVehicles(now: Date): Promise<string[]>;
}
