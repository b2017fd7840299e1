import type { VehicleEvent } from "../model/event.ts";
import { compareInstants } from "../model/instant.ts";
import type { SignalName, SignalSamples } from "../model/signals.ts";
import type { VehicleSnapshot } from "../model/snapshot.ts";

export type SnapshotChange = {
  snapshot: VehicleSnapshot;
  /** Signals whose sample this event replaced (newer than what the snapshot held). */
  changed: SignalName[];
  /** Signals this event carried that were older than the snapshot's sample and so were ignored. */
  stale: SignalName[];
};

type Sample = { observedAt: string };

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
  const stale: SignalName[] = [];
  const held = snapshot.signals as Record<string, Sample | undefined>;
  const heldEventIds = snapshot.sourceEventIds as Record<string, string | undefined>;
  const incoming = event.signals as Record<string, Sample>;
  // Object.keys is exactly sized and, in the common case where every sample is newer, is
  // `changed` itself: no array grown by push (16 slots for a handful of names) per event.
  const names = Object.keys(incoming) as SignalName[];
  let changed = names;
  for (let i = 0; i < names.length; i++) {
    const name = names[i] as SignalName;
    const sample = incoming[name] as Sample;
    const heldSample = held[name];
    if (heldSample !== undefined && !isNewer(sample.observedAt, event.id, heldSample.observedAt, heldEventIds[name])) {
      if (changed === names) changed = names.slice(0, i);
      stale.push(name);
      continue;
    }
    if (changed !== names) changed.push(name);
    signals[name] = sample;
    sourceEventIds[name] = event.id;
  }
  const lastEventAt =
    snapshot.lastEventAt === undefined || compareInstants(event.occurredAt, snapshot.lastEventAt) > 0
      ? event.occurredAt
      : snapshot.lastEventAt;
  return {
    snapshot: { ...snapshot, signals: signals as SignalSamples, sourceEventIds, lastEventAt },
    changed,
    stale,
  };
};

const isNewer = (observedAt: string, eventId: string, heldAt: string, heldEventId: string | undefined): boolean => {
  // Compared as text when both are canonical ISO strings (see instant.ts): no Date.parse per sample.
  const order = compareInstants(observedAt, heldAt);
  if (order !== 0) return order > 0;
  // Same instant: the same event applied again changes nothing; two events tie-break by id.
  return heldEventId === undefined || eventId > heldEventId;
};
