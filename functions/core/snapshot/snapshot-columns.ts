import type { VehicleEvent } from "../model/event.ts";
import { canonicalInstantMs, compareInstants, instantMs, isoOf } from "../model/instant.ts";
import { SIGNAL_NAMES, type SignalName, type SignalSamples } from "../model/signals.ts";
import type { VehicleSnapshot } from "../model/snapshot.ts";

/** A signal's column: its index in SIGNAL_NAMES. */
export type SignalSlot = number;

const SLOTS = SIGNAL_NAMES.length;
/** Without a prototype: "constructor" or "__proto__" must not look like a signal. */
const SLOT_OF: Readonly<Record<string, SignalSlot | undefined>> = Object.assign(
  Object.create(null) as Record<string, SignalSlot>,
  Object.fromEntries(SIGNAL_NAMES.map((name, i) => [name, i])),
);
const LOCATION_SLOT = SLOT_OF.location as SignalSlot;

/**
 * The slot of a signal name, for callers that read columns by slot.
 *
 * @example slotOf("speed_kph") // 0
 */
export const slotOf = (name: SignalName): SignalSlot => SLOT_OF[name] as SignalSlot;

// Row layouts (see SnapshotColumns.numbers and .references).
const LAST_EVENT_MS = 0;
const LONGITUDE = 1;
const SIGNAL_NUMBERS = 2;
const NUMBER_ROW = SIGNAL_NUMBERS + 2 * SLOTS;
const VEHICLE_ID = 0;
const LAST_EVENT_AT = 1;
const BUILT = 2;
const SIGNAL_REFERENCES = 3;
const OBSERVED_AT = 1;
const SOURCE_EVENT_ID = 2;
const REFERENCE_ROW = SIGNAL_REFERENCES + 3 * SLOTS;

/** Markers for a signal's value: read it from the numbers (a position: latitude, then the longitude). */
const NUMBER = Symbol("number");
const POSITION = Symbol("position");
/** Marker for a signal's time text: it was canonical, and isoOf rebuilds it exactly from the number. */
const CANONICAL = Symbol("canonical");

/** Thrown when an event or snapshot names a signal the canonical model does not have. */
export class UnknownSignalError extends Error {
  constructor(name: string, where: string) {
    super(`unknown signal ${JSON.stringify(name)} in ${where}`);
    this.name = "UnknownSignalError";
  }
}

type Sample = { value: unknown; observedAt: string };
const EMPTY: Sample = Object.freeze({ value: undefined, observedAt: "" });

/**
 * The snapshots of a fleet, in columns: applyEventToSnapshot's rule (per signal, only a
 * later observation replaces the held one, a tie going to the later event id), applied in
 * place. The common event then allocates nothing and keeps none of its objects alive
 * (numbers and positions are copied into typed arrays), which across a fleet is most of
 * what an immutable snapshot per event costs: each one outlives the young generation.
 * A VehicleSnapshot is built only when asked for, equal to what applyEventToSnapshot
 * would have produced from the same events.
 *
 * An update is staged, then committed: stage() says what the event would change, so a
 * caller can test the new values (and build the snapshot before the event) first.
 *
 * @example
 * const columns = new SnapshotColumns([emptySnapshot("dimo:1")]);
 * const changed = columns.stage(0, event); // bit slotOf(name) set per replaced signal
 * columns.commit(0);
 * columns.snapshot(0).signals.speed_kph // the event's sample
 */
export class SnapshotColumns {
  /**
   * One row of numbers per vehicle (NUMBER_ROW wide): the newest event's time in epoch ms,
   * the location's longitude, then per signal its observation time in epoch ms (NaN if
   * unparseable, never newer, as in compareInstants) and its value (a number, or the
   * location's latitude). A vehicle's numbers share a few adjacent cache lines: across a
   * fleet, every separate array an event touches is another cache miss.
   */
  private readonly numbers: Float64Array;
  /**
   * One row of references per vehicle (REFERENCE_ROW wide): the vehicle id, the newest
   * event's time as given (or CANONICAL, as below), the snapshot last built (or given) until the next commit, then
   * per signal: its value, or NUMBER / POSITION to read the numbers; its time as given, or
   * CANONICAL (then not kept: an event's time string would otherwise outlive the young
   * generation), undefined when the vehicle has no sample; the id of the event that set it.
   */
  private readonly references: unknown[];
  /** Per vehicle, the slots in the order their first sample or id arrived (the snapshot's key order). */
  private readonly orders: SignalSlot[][];
  /** Each vehicle's snapshot as given: the fields no event changes (vehicleId, version, applied ids). */
  private readonly bases: VehicleSnapshot[];

  // The staged update (one at a time): the event, its vehicle, and per replaced signal its sample.
  private stagedVehicle = -1;
  private stagedEvent: VehicleEvent | undefined;
  private stagedCount = 0;
  private readonly stagedSlots = new Int32Array(SLOTS);
  private readonly stagedMs = new Float64Array(SLOTS);
  private readonly stagedCanonical = new Uint8Array(SLOTS);
  private readonly stagedSamples: Sample[] = [];
  private readonly stagedBySlot: (Sample | undefined)[] = new Array<Sample | undefined>(SLOTS).fill(undefined);
  private stagedEventMs = 0;
  private stagedEventCanonical = false;

  constructor(snapshots: readonly VehicleSnapshot[]) {
    this.numbers = new Float64Array(snapshots.length * NUMBER_ROW);
    this.references = new Array<unknown>(snapshots.length * REFERENCE_ROW).fill(undefined);
    this.orders = snapshots.map(() => []);
    this.bases = snapshots.slice();
    snapshots.forEach((snapshot, v) => {
      const where = `the snapshot of ${snapshot.vehicleId}`;
      const refs = v * REFERENCE_ROW;
      this.references[refs + VEHICLE_ID] = snapshot.vehicleId;
      this.references[refs + BUILT] = snapshot;
      this.references[refs + LAST_EVENT_AT] = snapshot.lastEventAt;
      this.numbers[v * NUMBER_ROW + LAST_EVENT_MS] =
        snapshot.lastEventAt === undefined ? Number.NaN : instantMs(snapshot.lastEventAt);
      for (const [name, sample] of Object.entries(snapshot.signals as Record<string, Sample>)) {
        const slot = this.slotIn(name, where);
        this.note(v, slot);
        const ms = canonicalInstantMs(sample.observedAt);
        const canonical = !Number.isNaN(ms);
        this.write(v, slot, sample, canonical ? ms : Date.parse(sample.observedAt), canonical);
      }
      for (const [name, id] of Object.entries(snapshot.sourceEventIds as Record<string, string>)) {
        const slot = this.slotIn(name, where);
        this.note(v, slot);
        this.references[refs + SIGNAL_REFERENCES + 3 * slot + SOURCE_EVENT_ID] = id;
      }
    });
  }

  /** The id of vehicle v (of the snapshot it was given). */
  vehicleId(v: number): string {
    return this.references[v * REFERENCE_ROW + VEHICLE_ID] as string;
  }

  /**
   * What the event would change for vehicle `v`: a bit (1 << slot) per signal whose sample
   * it replaces. Nothing is written until commit(); staging again drops the last stage.
   */
  stage(v: number, event: VehicleEvent): number {
    if (this.stagedEvent !== undefined) this.dropStage(); // staged, then not committed (or thrown out of)
    this.stagedVehicle = v;
    this.stagedEvent = event;
    this.stagedCount = 0;
    const incoming = event.signals as Record<string, Sample>;
    const numbers = v * NUMBER_ROW + SIGNAL_NUMBERS;
    const refs = v * REFERENCE_ROW + SIGNAL_REFERENCES;
    let changed = 0;
    let lastText = "";
    let lastMs = Number.NaN;
    let lastCanonical = false;
    for (const name in incoming) {
      const slot = SLOT_OF[name];
      if (slot === undefined) throw new UnknownSignalError(name, `event ${event.id}`);
      const sample = incoming[name] as Sample;
      // One event's samples usually share one time string: parse it once.
      if (sample.observedAt !== lastText) {
        lastText = sample.observedAt;
        lastMs = canonicalInstantMs(lastText);
        lastCanonical = !Number.isNaN(lastMs);
        if (!lastCanonical) lastMs = Date.parse(lastText);
      }
      const ms = lastMs;
      const heldText = this.references[refs + 3 * slot + OBSERVED_AT] as string | typeof CANONICAL | undefined;
      if (heldText !== undefined) {
        const heldMs = this.numbers[numbers + 2 * slot] as number;
        // Both canonical: milliseconds order them as their texts do. Otherwise compareInstants itself.
        const order =
          lastCanonical && heldText === CANONICAL
            ? ms > heldMs
              ? 1
              : ms < heldMs
                ? -1
                : 0
            : compareInstants(lastText, heldText === CANONICAL ? isoOf(heldMs) : heldText);
        const heldId = this.references[refs + 3 * slot + SOURCE_EVENT_ID] as string | undefined;
        // Same instant: the same event applied again changes nothing; two events tie-break by id.
        if (order < 0 || (order === 0 && heldId !== undefined && !(event.id > heldId))) continue;
      }
      this.stagedSlots[this.stagedCount] = slot;
      this.stagedMs[this.stagedCount] = ms;
      this.stagedCanonical[this.stagedCount] = lastCanonical ? 1 : 0;
      this.stagedSamples[this.stagedCount] = sample;
      this.stagedBySlot[slot] = sample;
      this.stagedCount++;
      changed |= 1 << slot;
    }
    // Usually the samples' own time: parsed once.
    if (event.occurredAt === lastText) {
      this.stagedEventMs = lastMs;
      this.stagedEventCanonical = lastCanonical;
    } else {
      this.stagedEventMs = canonicalInstantMs(event.occurredAt);
      this.stagedEventCanonical = !Number.isNaN(this.stagedEventMs);
      if (!this.stagedEventCanonical) this.stagedEventMs = Date.parse(event.occurredAt);
    }
    return changed;
  }

  /** Whether the staged event is newer than every event the vehicle had (data arrived). */
  stagedIsLatest(): boolean {
    const v = this.stagedVehicle;
    const held = this.references[v * REFERENCE_ROW + LAST_EVENT_AT] as string | typeof CANONICAL | undefined;
    if (held === undefined) return true;
    if (this.stagedEventCanonical && held === CANONICAL) {
      return this.stagedEventMs > (this.numbers[v * NUMBER_ROW + LAST_EVENT_MS] as number);
    }
    const heldText = held === CANONICAL ? isoOf(this.numbers[v * NUMBER_ROW + LAST_EVENT_MS] as number) : held;
    return compareInstants((this.stagedEvent as VehicleEvent).occurredAt, heldText) > 0;
  }

  /** The staged value of a signal the stage reported as replaced. */
  stagedValue(slot: SignalSlot): unknown {
    return (this.stagedBySlot[slot] as Sample).value;
  }

  /** The names of the signals the staged event replaces, in the event's order (SnapshotChange.changed). */
  stagedNames(): SignalName[] {
    const names: SignalName[] = [];
    for (let i = 0; i < this.stagedCount; i++)
      names.push(SIGNAL_NAMES[this.stagedSlots[i] as SignalSlot] as SignalName);
    return names;
  }

  /** Writes the staged event into its vehicle's columns. */
  commit(): void {
    const v = this.stagedVehicle;
    const event = this.stagedEvent as VehicleEvent;
    const refs = v * REFERENCE_ROW;
    for (let i = 0; i < this.stagedCount; i++) {
      const slot = this.stagedSlots[i] as SignalSlot;
      const at = refs + SIGNAL_REFERENCES + 3 * slot;
      if (this.references[at + OBSERVED_AT] === undefined && this.references[at + SOURCE_EVENT_ID] === undefined) {
        this.note(v, slot);
      }
      this.write(v, slot, this.stagedSamples[i] as Sample, this.stagedMs[i] as number, this.stagedCanonical[i] === 1);
      this.references[at + SOURCE_EVENT_ID] = event.id;
    }
    if (this.stagedIsLatest()) {
      this.references[refs + LAST_EVENT_AT] = this.stagedEventCanonical ? CANONICAL : event.occurredAt;
      this.numbers[v * NUMBER_ROW + LAST_EVENT_MS] = this.stagedEventMs;
    }
    this.references[refs + BUILT] = undefined;
    this.dropStage();
  }

  /** Forgets the staged event (no event stays referenced past its commit). */
  private dropStage(): void {
    this.stagedEvent = undefined;
    this.stagedVehicle = -1;
    for (let i = 0; i < this.stagedCount; i++) {
      this.stagedSamples[i] = EMPTY;
      this.stagedBySlot[this.stagedSlots[i] as SignalSlot] = undefined;
    }
    this.stagedCount = 0;
  }

  /** Whether vehicle `v` has a sample of the signal. */
  has(v: number, slot: SignalSlot): boolean {
    return this.references[v * REFERENCE_ROW + SIGNAL_REFERENCES + 3 * slot + OBSERVED_AT] !== undefined;
  }

  /** Whether vehicle `v`'s sample of the signal has a value other than undefined. */
  hasValue(v: number, slot: SignalSlot): boolean {
    return this.references[v * REFERENCE_ROW + SIGNAL_REFERENCES + 3 * slot] !== undefined;
  }

  /** The value held for the signal (undefined when none): a position is built, so prefer latitude/longitude. */
  value(v: number, slot: SignalSlot): unknown {
    const value = this.references[v * REFERENCE_ROW + SIGNAL_REFERENCES + 3 * slot];
    const number = this.numbers[v * NUMBER_ROW + SIGNAL_NUMBERS + 2 * slot + 1];
    if (value === NUMBER) return number;
    if (value === POSITION) return { lat: number, lon: this.numbers[v * NUMBER_ROW + LONGITUDE] };
    return value;
  }

  /** The held position's latitude (NaN when no position is held). */
  latitude(v: number, slot: SignalSlot): number {
    const value = this.references[v * REFERENCE_ROW + SIGNAL_REFERENCES + 3 * slot];
    if (value === POSITION) return this.numbers[v * NUMBER_ROW + SIGNAL_NUMBERS + 2 * slot + 1] as number;
    return value === undefined ? Number.NaN : (value as { lat: number }).lat;
  }

  /** The held position's longitude (NaN when no position is held). */
  longitude(v: number, slot: SignalSlot): number {
    const value = this.references[v * REFERENCE_ROW + SIGNAL_REFERENCES + 3 * slot];
    if (value === POSITION) return this.numbers[v * NUMBER_ROW + LONGITUDE] as number;
    return value === undefined ? Number.NaN : (value as { lon: number }).lon;
  }

  /** Vehicle `v`'s snapshot, built once per change. */
  snapshot(v: number): VehicleSnapshot {
    const refs = v * REFERENCE_ROW;
    const built = this.references[refs + BUILT] as VehicleSnapshot | undefined;
    if (built !== undefined) return built;
    const signals: Record<string, Sample> = {};
    const ids: Record<string, string> = {};
    for (const slot of this.orders[v] as SignalSlot[]) {
      const at = refs + SIGNAL_REFERENCES + 3 * slot;
      const name = SIGNAL_NAMES[slot] as SignalName;
      const text = this.references[at + OBSERVED_AT] as string | typeof CANONICAL | undefined;
      if (text !== undefined) {
        const ms = this.numbers[v * NUMBER_ROW + SIGNAL_NUMBERS + 2 * slot] as number;
        signals[name] = { value: this.value(v, slot), observedAt: text === CANONICAL ? isoOf(ms) : text };
      }
      const id = this.references[at + SOURCE_EVENT_ID] as string | undefined;
      if (id !== undefined) ids[name] = id;
    }
    const snapshot: VehicleSnapshot = {
      ...(this.bases[v] as VehicleSnapshot),
      signals: signals as SignalSamples,
      sourceEventIds: ids,
      lastEventAt: this.lastEventAt(v),
    };
    this.references[refs + BUILT] = snapshot;
    return snapshot;
  }

  /** The newest event's time as given (rebuilt when it was canonical). */
  private lastEventAt(v: number): string | undefined {
    const text = this.references[v * REFERENCE_ROW + LAST_EVENT_AT] as string | typeof CANONICAL | undefined;
    return text === CANONICAL ? isoOf(this.numbers[v * NUMBER_ROW + LAST_EVENT_MS] as number) : text;
  }

  private slotIn(name: string, where: string): SignalSlot {
    const slot = SLOT_OF[name];
    if (slot === undefined) throw new UnknownSignalError(name, where);
    return slot;
  }

  private note(v: number, slot: SignalSlot): void {
    const order = this.orders[v] as SignalSlot[];
    if (!order.includes(slot)) order.push(slot);
  }

  private write(v: number, slot: SignalSlot, sample: Sample, ms: number, canonical: boolean): void {
    const numbers = v * NUMBER_ROW + SIGNAL_NUMBERS + 2 * slot;
    const at = v * REFERENCE_ROW + SIGNAL_REFERENCES + 3 * slot;
    const value = sample.value;
    this.numbers[numbers] = ms;
    this.references[at + OBSERVED_AT] = canonical ? CANONICAL : sample.observedAt;
    if (typeof value === "number") {
      this.numbers[numbers + 1] = value;
      this.references[at] = NUMBER;
    } else if (slot === LOCATION_SLOT && isPlainPosition(value)) {
      this.numbers[numbers + 1] = value.lat;
      this.numbers[v * NUMBER_ROW + LONGITUDE] = value.lon;
      this.references[at] = POSITION;
    } else {
      this.references[at] = value;
    }
  }
}

/**
 * A plain `{ lat, lon }`, in that order, and nothing else: copied into the columns and built
 * again the same (anything else is kept as given, so its JSON stays the same too).
 */
export const isPlainPosition = (value: unknown): value is { lat: number; lon: number } => {
  if (typeof value !== "object" || value === null || Object.getPrototypeOf(value) !== Object.prototype) return false;
  let keys = 0;
  for (const key in value) {
    if (key !== (keys === 0 ? "lat" : "lon")) return false;
    keys++;
  }
  const { lat, lon } = value as { lat: unknown; lon: unknown };
  return keys === 2 && typeof lat === "number" && typeof lon === "number";
};
