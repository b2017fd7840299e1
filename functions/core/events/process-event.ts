import type { VehicleEvent } from "../model/event.ts";
import type { Vehicle } from "../model/vehicle.ts";
import { applyEventToSnapshot } from "../snapshot/apply-event.ts";
import { SnapshotConflictError } from "./errors.ts";
import type { AppliedEvent, AppliedEventObserver, EventStore, VehicleStore } from "./ports.ts";

const MAX_SNAPSHOT_ATTEMPTS = 5;

/**
 * Stores one canonical event and applies it to its vehicle's snapshot, creating
 * the vehicle on first sight. Safe to repeat: the event is stored once, and a
 * sample already applied (or older than the held one) changes nothing.
 */
export const processEvent = async (
  event: VehicleEvent,
  ports: { events: EventStore; vehicles: VehicleStore; observers: readonly AppliedEventObserver[] },
  now: () => Date,
): Promise<AppliedEvent> => {
  const stored = await ports.events.putEvent(event);
  const applied = await applyToSnapshot(event, stored === "stored", ports.vehicles, now);
  for (const observer of ports.observers) await observer.onEventApplied(applied);
  return applied;
};

const applyToSnapshot = async (
  event: VehicleEvent,
  firstDelivery: boolean,
  vehicles: VehicleStore,
  now: () => Date,
): Promise<AppliedEvent> => {
  for (let attempt = 1; ; attempt++) {
    const { vehicle: registered, snapshot: before } = await vehicles.loadVehicleState(event.vehicleId);
    const vehicle = registered ?? (await vehicles.registerVehicle(firstSighting(event, now())));
    const change = applyEventToSnapshot(before, event);
    const unchanged = change.changed.length === 0 && change.snapshot.lastEventAt === before.lastEventAt;
    try {
      const after = unchanged ? before : await vehicles.saveSnapshot(change.snapshot);
      return { event, vehicle, before, after, staleSignals: change.stale, firstDelivery };
    } catch (error) {
      // The per-vehicle FIFO group makes a conflict rare: another writer (a redelivery) got there first.
      if (!(error instanceof SnapshotConflictError) || attempt >= MAX_SNAPSHOT_ATTEMPTS) throw error;
    }
  }
};

/** The registration of a vehicle seen for the first time, from what its provider said about it. */
const firstSighting = (event: VehicleEvent, now: Date): Vehicle => ({
  id: event.vehicleId,
  provider: event.source.provider,
  providerVehicleId: event.vehicleId.slice(event.vehicleId.indexOf(":") + 1),
  displayName: event.vehicleHints?.displayName ?? event.vehicleId,
  tags: [],
  // A provider that does not say leaves the vehicle on UTC until its owner sets a zone.
  timeZone: event.vehicleHints?.timeZone ?? "UTC",
  contacts: [],
  createdAt: now.toISOString(),
});
