import type { VehicleEvent } from "../model/event.ts";
import { knownTimeZone, type Vehicle, withUsableTimeZone } from "../model/vehicle.ts";
import type { RuleSet } from "../rules/compiler.ts";
import { evaluateEvent, rulesForVehicle } from "../rules/engine.ts";
import { applyEventToSnapshot } from "../snapshot/apply-event.ts";
import { StateConflictError } from "./errors.ts";
import type { ActionQueue, AppliedEvent, EventStore, FiringStore, VehicleStore } from "./ports.ts";

const MAX_ATTEMPTS = 5;
/** How many applied event ids a snapshot remembers: far more than a provider redelivers at once. */
const APPLIED_EVENTS_REMEMBERED = 64;

export type EventProcessingPorts = {
  events: EventStore;
  vehicles: VehicleStore;
  firings: FiringStore;
  actions: ActionQueue;
};

/**
 * Stores one canonical event, evaluates the vehicle's rules on it and applies it
 * to the snapshot, creating the vehicle on first sight.
 *
 * Writes go in the order that lets a redelivery heal any crash: the event, the
 * firings (put-if-absent), the actions (the dispatcher claims each id once), the
 * rule states (conditional on version), and the snapshot last, which records the
 * event as applied. Until then a redelivery evaluates the event again, and the
 * rule states recognise it and return the same firings and actions; after it, a
 * redelivery (even past the queue's 5-minute de-duplication) is skipped.
 */
export const processEvent = async (
  event: VehicleEvent,
  ruleSet: RuleSet,
  ports: EventProcessingPorts,
  now: () => Date,
): Promise<AppliedEvent> => {
  const stored = await ports.events.putEvent(event);
  for (let attempt = 1; ; attempt++) {
    try {
      return await applyOnce(event, stored === "stored", ruleSet, ports, now());
    } catch (error) {
      // The per-vehicle FIFO group makes a conflict rare: a redelivery or the tick got there first.
      if (!(error instanceof StateConflictError) || attempt >= MAX_ATTEMPTS) throw error;
    }
  }
};

const applyOnce = async (
  event: VehicleEvent,
  firstDelivery: boolean,
  ruleSet: RuleSet,
  ports: EventProcessingPorts,
  now: Date,
): Promise<AppliedEvent> => {
  const state = await ports.vehicles.loadVehicleState(event.vehicleId);
  const registered = state.vehicle ?? (await ports.vehicles.registerVehicle(firstSighting(event, now)));
  const vehicle = withUsableTimeZone(registered, event.vehicleHints?.timeZone);
  const before = state.snapshot;
  if (!firstDelivery && before.appliedEventIds?.includes(event.id)) {
    // Fully applied before (its snapshot write was the last step): nothing to evaluate or write again.
    return { event, vehicle, before, after: before, staleSignals: [], firstDelivery, firings: [], actions: [] };
  }
  const change = applyEventToSnapshot(before, event);
  const evaluation = evaluateEvent(
    rulesForVehicle(ruleSet, vehicle),
    state.ruleStates,
    { event, snapshotBefore: before, snapshotAfter: change.snapshot, vehicle, changed: change.changed },
    now,
  );
  await ports.firings.putFirings(evaluation.firings);
  await ports.actions.enqueue(evaluation.actions);
  await ports.vehicles.saveRuleStates(evaluation.states);
  // Written for every event, changed signals or not: it records the event as applied.
  const after = await ports.vehicles.saveSnapshot({
    ...change.snapshot,
    appliedEventIds: [...(before.appliedEventIds ?? []), event.id].slice(-APPLIED_EVENTS_REMEMBERED),
  });
  return {
    event,
    vehicle,
    before,
    after,
    staleSignals: change.stale,
    firstDelivery,
    firings: evaluation.firings,
    actions: evaluation.actions,
  };
};

/** The registration of a vehicle seen for the first time, from what its provider said about it. */
const firstSighting = (event: VehicleEvent, now: Date): Vehicle => ({
  id: event.vehicleId,
  provider: event.source.provider,
  providerVehicleId: event.vehicleId.slice(event.vehicleId.indexOf(":") + 1),
  displayName: event.vehicleHints?.displayName ?? event.vehicleId,
  tags: [],
  // A provider that does not say (or names no zone the runtime knows) leaves the vehicle on UTC until its owner sets one.
  timeZone: knownTimeZone(event.vehicleHints?.timeZone) ?? "UTC",
  contacts: [],
  createdAt: now.toISOString(),
});
