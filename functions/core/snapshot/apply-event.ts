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

type Sample = { value: unknown; observedAt: string };

/**
 * Applies an event's signal samples to a snapshot, per signal: a sample replaces
 * the held one only when it was observed later (or at the same time by a later
 * event id, so replays are deterministic). Never mutates its inputs.
 *
 * @example applyEventToSnapshot(emptySnapshot("automatic:C_1"), event).changed // ["location"]
 */
export const applyEventToSnapshot = (snapshot: VehicleSnapshot, event: VehicleEvent): SnapshotChange => {
  const signals: Record<string, Sample | undefined> = { ...snapshot.signals };
  const sourceEventIds: Record<string, string> = { ...snapshot.sourceEventIds };
  const stale: SignalName[] = [];
  // The copy's samples are the snapshot's own, shared: a newer sample replaces the reference.
  const changed = mergeSamples(signals, sourceEventIds, event, stale, (name, sample) => {
    signals[name] = sample;
  });
  return {
    snapshot: {
      ...snapshot,
      signals: signals as SignalSamples,
      sourceEventIds,
      lastEventAt: laterEventAt(snapshot.lastEventAt, event.occurredAt),
    },
    changed,
    stale,
  };
};

/**
 * A copy of a snapshot that owns every sample object, for applyEventInPlace (values, which
 * events never mutate, stay shared).
 *
 * @example const live = ownedSnapshot(stored); applyEventInPlace(live, event);
 */
export const ownedSnapshot = (snapshot: VehicleSnapshot): VehicleSnapshot => {
  const signals: Record<string, Sample> = {};
  for (const [name, sample] of Object.entries(snapshot.signals as Record<string, Sample>)) {
    signals[name] = { value: sample.value, observedAt: sample.observedAt };
  }
  return { ...snapshot, signals: signals as SignalSamples, sourceEventIds: { ...snapshot.sourceEventIds } };
};

/**
 * applyEventToSnapshot's rule, applied to `snapshot` itself: for callers that keep one
 * snapshot per vehicle in memory (LiveVehicle), where a copy per event is only garbage.
 * The snapshot must own its samples (made by ownedSnapshot or emptySnapshot): held samples
 * are updated in place, never the event's. Returns the signals the event changed.
 *
 * @example applyEventInPlace(live, event) // ["speed_kph"]; live.signals.speed_kph.value is the new speed
 */
export const applyEventInPlace = (snapshot: VehicleSnapshot, event: VehicleEvent): SignalName[] => {
  const signals = snapshot.signals as Record<string, Sample | undefined>;
  const changed = mergeSamples(signals, snapshot.sourceEventIds, event, undefined, (name, sample) => {
    const held = signals[name];
    if (held === undefined) {
      signals[name] = { value: sample.value, observedAt: sample.observedAt };
    } else {
      held.value = sample.value;
      held.observedAt = sample.observedAt;
    }
  });
  snapshot.lastEventAt = laterEventAt(snapshot.lastEventAt, event.occurredAt);
  return changed;
};

/**
 * The one merge rule of both: for each sample of the event newer than the held one,
 * `place` it and record the event as its source. Returns the changed names; older
 * samples go to `stale` when given.
 */
const mergeSamples = (
  held: Readonly<Record<string, Sample | undefined>>,
  sourceEventIds: Record<string, string | undefined>,
  event: VehicleEvent,
  stale: SignalName[] | undefined,
  place: (name: string, sample: Sample) => void,
): SignalName[] => {
  const incoming = event.signals as Record<string, Sample>;
  // Object.keys is exactly sized and, in the common case where every sample is newer, is
  // `changed` itself: no array grown by push (16 slots for a handful of names) per event.
  const names = Object.keys(incoming) as SignalName[];
  let changed = names;
  for (let i = 0; i < names.length; i++) {
    const name = names[i] as SignalName;
    const sample = incoming[name] as Sample;
    const heldSample = held[name];
    if (
      heldSample !== undefined &&
      !isNewer(sample.observedAt, event.id, heldSample.observedAt, sourceEventIds[name])
    ) {
      if (changed === names) changed = names.slice(0, i);
      stale?.push(name);
      continue;
    }
    if (changed !== names) changed.push(name);
    place(name, sample);
    sourceEventIds[name] = event.id;
  }
  return changed;
};

const laterEventAt = (held: string | undefined, occurredAt: string): string =>
  held === undefined || compareInstants(occurredAt, held) > 0 ? occurredAt : held;

const isNewer = (observedAt: string, eventId: string, heldAt: string, heldEventId: string | undefined): boolean => {
  // Compared as text when both are canonical ISO strings (see instant.ts): no Date.parse per sample.
  const order = compareInstants(observedAt, heldAt);
  if (order !== 0) return order > 0;
  // Same instant: the same event applied again changes nothing; two events tie-break by id.
  return heldEventId === undefined || eventId > heldEventId;
};
