import type { VehicleEvent } from "../model/event.ts";
import { instantMs, isCanonicalInstant, isoOf } from "../model/instant.ts";
import { SIGNAL_NAMES, type SignalName, type SignalSamples } from "../model/signals.ts";
import type { VehicleSnapshot } from "../model/snapshot.ts";

/** A signal's column: its index in SIGNAL_NAMES. */
export type SignalSlot = number;

const SLOTS = SIGNAL_NAMES.length;
const SLOT_OF: Readonly<Record<string, SignalSlot>> = Object.fromEntries(SIGNAL_NAMES.map((name, i) => [name, i]));
const LOCATION_SLOT = SLOT_OF.location as SignalSlot;

/**
 * The slot of a signal name, for callers that read columns by slot.
 *
 * @example slotOf("speed_kph") // 0
 */
export const slotOf = (name: SignalName): SignalSlot => SLOT_OF[name] as SignalSlot;

/** Markers in `values`: the value is the number column (and, for a position, the longitude column). */
const NUMBER = Symbol("number");
const POSITION = Symbol("position");
/** Marker in `observedAts`: the time was canonical text, rebuilt exactly by isoOf from the time column. */
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
   * Per vehicle and signal, two numbers side by side (one cache line): the observation time
   * in epoch ms (NaN if unparseable, never newer, as in compareInstants), then the value
   * (a number, or a position's latitude).
   */
  private readonly cells: Float64Array;
  /** Longitude of the location signal, per vehicle (the one position signal). */
  private readonly longitudes: Float64Array;
  /** NUMBER or POSITION (read the typed arrays), or the value itself (text, boolean, lists). */
  private readonly values: unknown[];
  /**
   * The sample's time as given, or CANONICAL (then not kept: an event's time string would
   * otherwise outlive the young generation); undefined when the vehicle has no sample.
   */
  private readonly observedAts: (string | typeof CANONICAL | undefined)[];
  private readonly sourceEventIds: (string | undefined)[];
  /** Per vehicle, the slots in the order their first sample or id arrived (the snapshot's key order). */
  private readonly orders: SignalSlot[][];
  private readonly lastEventAts: (string | undefined)[];
  private readonly lastEventMs: Float64Array;
  /** Each vehicle's snapshot as given: the fields no event changes (vehicleId, version, applied ids). */
  private readonly bases: VehicleSnapshot[];
  /** The snapshot last built (or given), until the next commit. */
  private readonly built: (VehicleSnapshot | undefined)[];

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

  constructor(snapshots: readonly VehicleSnapshot[]) {
    const size = snapshots.length;
    this.cells = new Float64Array(size * SLOTS * 2);
    this.longitudes = new Float64Array(size);
    this.values = new Array<unknown>(size * SLOTS).fill(undefined);
    this.observedAts = new Array<string | typeof CANONICAL | undefined>(size * SLOTS).fill(undefined);
    this.sourceEventIds = new Array<string | undefined>(size * SLOTS).fill(undefined);
    this.orders = snapshots.map(() => []);
    this.lastEventAts = snapshots.map((s) => s.lastEventAt);
    this.lastEventMs = Float64Array.from(snapshots, (s) =>
      s.lastEventAt === undefined ? Number.NaN : instantMs(s.lastEventAt),
    );
    this.bases = snapshots.slice();
    this.built = snapshots.slice();
    snapshots.forEach((snapshot, v) => {
      const where = `the snapshot of ${snapshot.vehicleId}`;
      for (const [name, sample] of Object.entries(snapshot.signals as Record<string, Sample>)) {
        const slot = this.slotIn(name, where);
        this.note(v, slot);
        const ms = instantMs(sample.observedAt);
        this.write(v, slot, sample, ms, rebuildsExactly(sample.observedAt, ms));
      }
      for (const [name, id] of Object.entries(snapshot.sourceEventIds as Record<string, string>)) {
        const slot = this.slotIn(name, where);
        this.note(v, slot);
        this.sourceEventIds[v * SLOTS + slot] = id;
      }
    });
  }

  /**
   * What the event would change for vehicle `v`: a bit (1 << slot) per signal whose sample
   * it replaces. Nothing is written until commit(); staging again drops the last stage.
   */
  stage(v: number, event: VehicleEvent): number {
    this.stagedVehicle = v;
    this.stagedEvent = event;
    this.stagedCount = 0;
    const incoming = event.signals as Record<string, Sample>;
    const row = v * SLOTS;
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
        lastMs = instantMs(lastText);
        lastCanonical = rebuildsExactly(lastText, lastMs);
      }
      const ms = lastMs;
      if (
        this.observedAts[row + slot] !== undefined &&
        !isNewer(ms, event.id, this.cells[2 * (row + slot)] as number, this.sourceEventIds[row + slot])
      ) {
        continue;
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
    this.stagedEventMs = event.occurredAt === lastText ? lastMs : instantMs(event.occurredAt);
    return changed;
  }

  /** Whether the staged event is newer than every event the vehicle had (data arrived). */
  stagedIsLatest(): boolean {
    const v = this.stagedVehicle;
    return this.lastEventAts[v] === undefined || this.stagedEventMs > (this.lastEventMs[v] as number);
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
    for (let i = 0; i < this.stagedCount; i++) {
      const slot = this.stagedSlots[i] as SignalSlot;
      if (this.observedAts[v * SLOTS + slot] === undefined && this.sourceEventIds[v * SLOTS + slot] === undefined) {
        this.note(v, slot);
      }
      this.write(v, slot, this.stagedSamples[i] as Sample, this.stagedMs[i] as number, this.stagedCanonical[i] === 1);
      this.sourceEventIds[v * SLOTS + slot] = event.id;
    }
    if (this.stagedIsLatest()) {
      this.lastEventAts[v] = event.occurredAt;
      this.lastEventMs[v] = this.stagedEventMs;
    }
    this.built[v] = undefined;
    this.stagedEvent = undefined;
    this.stagedVehicle = -1;
    // Keep no event alive past its commit.
    for (let i = 0; i < this.stagedCount; i++) {
      this.stagedSamples[i] = EMPTY;
      this.stagedBySlot[this.stagedSlots[i] as SignalSlot] = undefined;
    }
    this.stagedCount = 0;
  }

  /** Whether vehicle `v` has a sample of the signal. */
  has(v: number, slot: SignalSlot): boolean {
    return this.observedAts[v * SLOTS + slot] !== undefined;
  }

  /** The value held for the signal (undefined when none): a position is built, so prefer latitude/longitude. */
  value(v: number, slot: SignalSlot): unknown {
    const i = v * SLOTS + slot;
    const value = this.values[i];
    if (value === NUMBER) return this.cells[2 * i + 1];
    if (value === POSITION) return { lat: this.cells[2 * i + 1], lon: this.longitudes[v] };
    return value;
  }

  /** The held position's latitude (NaN when no position is held). */
  latitude(v: number, slot: SignalSlot): number {
    const i = v * SLOTS + slot;
    const value = this.values[i];
    if (value === POSITION) return this.cells[2 * i + 1] as number;
    return value === undefined ? Number.NaN : (value as { lat: number }).lat;
  }

  /** The held position's longitude (NaN when no position is held). */
  longitude(v: number, slot: SignalSlot): number {
    const value = this.values[v * SLOTS + slot];
    if (value === POSITION) return this.longitudes[v] as number;
    return value === undefined ? Number.NaN : (value as { lon: number }).lon;
  }

  /** Vehicle `v`'s snapshot, built once per change. */
  snapshot(v: number): VehicleSnapshot {
    const built = this.built[v];
    if (built !== undefined) return built;
    const signals: Record<string, Sample> = {};
    const ids: Record<string, string> = {};
    for (const slot of this.orders[v] as SignalSlot[]) {
      const i = v * SLOTS + slot;
      const name = SIGNAL_NAMES[slot] as SignalName;
      const text = this.observedAts[i];
      if (text !== undefined) {
        const observedAt = text === CANONICAL ? isoOf(this.cells[2 * i] as number) : text;
        signals[name] = { value: this.value(v, slot), observedAt };
      }
      const id = this.sourceEventIds[i];
      if (id !== undefined) ids[name] = id;
    }
    const snapshot: VehicleSnapshot = {
      ...(this.bases[v] as VehicleSnapshot),
      signals: signals as SignalSamples,
      sourceEventIds: ids,
      lastEventAt: this.lastEventAts[v],
    };
    this.built[v] = snapshot;
    return snapshot;
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
    const i = v * SLOTS + slot;
    const value = sample.value;
    this.cells[2 * i] = ms;
    this.observedAts[i] = canonical ? CANONICAL : sample.observedAt;
    if (typeof value === "number") {
      this.cells[2 * i + 1] = value;
      this.values[i] = NUMBER;
    } else if (slot === LOCATION_SLOT && isPlainPosition(value)) {
      this.cells[2 * i + 1] = value.lat;
      this.longitudes[v] = value.lon;
      this.values[i] = POSITION;
    } else {
      this.values[i] = value;
    }
  }
}

/** Whether isoOf(ms) gives back exactly this time text, so the text need not be kept. */
const rebuildsExactly = (text: string, ms: number): boolean =>
  isCanonicalInstant(text) && !Number.isNaN(ms) && isoOf(ms) === text;

/** `{ lat, lon }` and nothing else: copied into the columns (anything richer is kept as given). */
const isPlainPosition = (value: unknown): value is { lat: number; lon: number } => {
  if (typeof value !== "object" || value === null) return false;
  let keys = 0;
  for (const key in value) {
    if (key !== "lat" && key !== "lon") return false;
    keys++;
  }
  const { lat, lon } = value as { lat: unknown; lon: unknown };
  return keys === 2 && typeof lat === "number" && typeof lon === "number";
};

/**
 * applyEventToSnapshot's isNewer on epoch ms: compareInstants orders at millisecond precision
 * too, and an unparseable time (NaN here) is never newer there either.
 */
const isNewer = (ms: number, eventId: string, heldMs: number, heldEventId: string | undefined): boolean => {
  if (ms !== heldMs) return ms > heldMs;
  return heldEventId === undefined || eventId > heldEventId;
};
