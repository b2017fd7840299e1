import type { VehicleEvent } from "../model/event.ts";
import type { SignalName, SignalSamples } from "../model/signals.ts";
import type { VehicleSnapshot } from "../model/snapshot.ts";

export type SnapshotChange = {
  snapshot: VehicleSnapshot;
  /** Signals whose sample this event replaced (newer than what the snapshot held). */
  changed: SignalName[];
  /** Signals this event carried that were older than the snapshot's sample and so were ignored. */
  stale: SignalName[];
};

/**
 * Applies an event's signal samples to a snapshot, per signal: a sample replaces
 * the held one only when it was observed later (or at the same time by a later
 * event id, so replays are deterministic). Never mutates its inputs.
 *
 * @example applyEventToSnapshot(emptySnapshot("automatic:C_1"), event).changed // ["location"]
 */
export const applyEventToSnapshot = (snapshot: VehicleSnapshot, event: VehicleEvent): SnapshotChange => {
  const signals: Record<string, unknown> = { ...snapshot.signals };
  const sourceEventIds: Record<string, string> = { ...snapshot.sourceEventIds };
  const changed: SignalName[] = [];
  const stale: SignalName[] = [];
  for (const [name, sample] of Object.entries(event.signals) as [SignalName, { observedAt: string }][]) {
    const held = snapshot.signals[name] as { observedAt: string } | undefined;
    if (held !== undefined && !isNewer(sample.observedAt, event.id, held.observedAt, snapshot.sourceEventIds[name])) {
      stale.push(name);
      continue;
    }
    signals[name] = sample;
    sourceEventIds[name] = event.id;
    changed.push(name);
  }
  const lastEventAt =
    snapshot.lastEventAt === undefined || Date.parse(event.occurredAt) > Date.parse(snapshot.lastEventAt)
      ? event.occurredAt
      : snapshot.lastEventAt;
  return {
    snapshot: { ...snapshot, signals: signals as SignalSamples, sourceEventIds, lastEventAt },
    changed,
    stale,
  };
};

const isNewer = (observedAt: string, eventId: string, heldAt: string, heldEventId: string | undefined): boolean => {
  const delta = Date.parse(observedAt) - Date.parse(heldAt);
  if (delta !== 0) return delta > 0;
  // Same instant: the same event applied again changes nothing; two events tie-break by id.
  return heldEventId === undefined || eventId > heldEventId;
};
