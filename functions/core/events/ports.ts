import type { VehicleEvent } from "../model/event.ts";
import type { VehicleSnapshot } from "../model/snapshot.ts";
import type { Vehicle, VehicleId } from "../model/vehicle.ts";

export interface EventStore {
  /** Stores the event under its vehicle and event time; "duplicate" when it was already stored. */
  putEvent(event: VehicleEvent): Promise<"stored" | "duplicate">;
}

export interface VehicleStore {
  /**
   * The vehicle's registration (undefined when never seen) and its snapshot
   * (an empty one, version 0, when none is stored), read together.
   */
  loadVehicleState(vehicleId: VehicleId): Promise<{ vehicle: Vehicle | undefined; snapshot: VehicleSnapshot }>;
  /**
   * Stores the snapshot if the stored version still equals `snapshot.version`;
   * returns it with the new version. Throws SnapshotConflictError otherwise.
   */
  saveSnapshot(snapshot: VehicleSnapshot): Promise<VehicleSnapshot>;
  /**
   * Registers the vehicle unless it is already registered, and returns the
   * registration that is stored (an existing one is never overwritten).
   */
  registerVehicle(vehicle: Vehicle): Promise<Vehicle>;
}

/** What happened when one event was applied; handed to observers such as the rule evaluator. */
export type AppliedEvent = {
  event: VehicleEvent;
  vehicle: Vehicle;
  before: VehicleSnapshot;
  after: VehicleSnapshot;
  /** Signals the event carried that were older than the snapshot's and so changed nothing. */
  staleSignals: readonly string[];
  /** False when the event had been stored before (a redelivery). */
  firstDelivery: boolean;
};

export interface AppliedEventObserver {
  onEventApplied(applied: AppliedEvent): Promise<void>;
}
