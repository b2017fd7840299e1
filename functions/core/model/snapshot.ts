import type { SignalName, SignalSamples } from "./signals.ts";
import type { VehicleId } from "./vehicle.ts";

/**
 * The latest known value of each signal of one vehicle. Each signal keeps its
 * own observation time, so an older sample never replaces a newer one.
 */
export type VehicleSnapshot = {
  vehicleId: VehicleId;
  signals: SignalSamples;
  /** Id of the event that last changed each signal, for explanations. */
  sourceEventIds: Partial<Record<SignalName, string>>;
  /** Event time of the newest event applied, ISO 8601 UTC. */
  lastEventAt?: string;
  /**
   * Ids of the events applied most recently (oldest first, a bounded window), so
   * an event redelivered after it was fully applied is recognised and skipped.
   */
  appliedEventIds?: string[];
  /** Optimistic-concurrency version; 0 means never stored. */
  version: number;
};

export const emptySnapshot = (vehicleId: VehicleId): VehicleSnapshot => ({
  vehicleId,
  signals: {},
  sourceEventIds: {},
  version: 0,
});
