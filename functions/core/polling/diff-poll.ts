import type { VehicleEvent } from "../model/event.ts";
import { eventIdOf } from "../model/ids.ts";
import type { ChargeState, Dtc, SignalName, SignalSamples } from "../model/signals.ts";
import type { VehicleSnapshot } from "../model/snapshot.ts";
import type { Provider } from "../model/vehicle.ts";
import type { PollSample } from "../providers/ports.ts";

/**
 * Turns one poll of a vehicle into canonical events by comparing it with the
 * snapshot: only samples newer than what the snapshot holds count. A fresh
 * position is a `location` event; every fresh sample goes into one `signals`
 * event; a DTC that appeared is `mil.on`, DTCs cleared is `mil.off`; a charge
 * state change is `charge.started`, `charge.completed` or `charge.stopped`.
 *
 * Event ids derive from the vehicle, the kind of event and its time, so
 * running the same poll job twice (a redelivery) yields the same ids.
 *
 * @example diffPoll(snapshot, { signals: { soc_pct: … }, requestsUsed: 1 }, "smartcar", now).map((e) => e.type) // ["signals"]
 */
export const diffPoll = (
  snapshot: VehicleSnapshot,
  sample: PollSample,
  provider: Provider,
  polledAt: Date,
): VehicleEvent[] => {
  const vehicleId = snapshot.vehicleId;
  const receivedAt = polledAt.toISOString();
  const fresh = freshSamples(snapshot, withDtcSignals(sample));
  const names = Object.keys(fresh) as SignalName[];
  if (names.length === 0) return [];
  const newest = names
    .map((name) => (fresh[name] as { observedAt: string }).observedAt)
    .reduce((latest, at) => (Date.parse(at) > Date.parse(latest) ? at : latest));
  // Two polls can bring different fresh samples with the same newest time: the id names the samples too,
  // or the queue's de-duplication would drop the second as a repeat.
  const sampled = names.map((name) => `${name}@${(fresh[name] as { observedAt: string }).observedAt}`).join(",");
  const make = <E extends VehicleEvent>(type: E["type"], occurredAt: string, data: E["data"], signals: SignalSamples) =>
    ({
      id: eventIdOf(provider, [vehicleId, "poll", type, occurredAt, sampled]),
      vehicleId,
      type,
      occurredAt,
      receivedAt,
      source: { provider },
      data,
      signals,
    }) as E;

  const events: VehicleEvent[] = [];
  if (fresh.location) {
    events.push(make("location", fresh.location.observedAt, {}, { location: fresh.location }));
  }
  const dtcEvent = dtcTransition(snapshot, fresh);
  if (dtcEvent) events.push(make(dtcEvent.type, dtcEvent.at, { dtcs: dtcEvent.dtcs }, dtcEvent.signals));
  const charge = chargeTransition(snapshot, fresh);
  if (charge) {
    events.push(
      make(
        charge.type,
        charge.at,
        {},
        { charge_state: fresh.charge_state as { value: ChargeState; observedAt: string } },
      ),
    );
  }
  events.push(make("signals", newest, {}, fresh));
  return events;
};

/** DTCs the provider reported, as the `dtcs` and `mil_on` signals at the time of the poll's newest sample. */
const withDtcSignals = (sample: PollSample): SignalSamples => {
  if (sample.dtcs === undefined) return sample.signals;
  const times = Object.values(sample.signals).map((signal) => (signal as { observedAt: string }).observedAt);
  const at = times.length > 0 ? times.reduce((a, b) => (Date.parse(b) > Date.parse(a) ? b : a)) : undefined;
  if (at === undefined) return sample.signals;
  return {
    ...sample.signals,
    dtcs: { value: sample.dtcs, observedAt: at },
    mil_on: { value: sample.dtcs.length > 0, observedAt: at },
  };
};

const freshSamples = (snapshot: VehicleSnapshot, signals: SignalSamples): SignalSamples => {
  const fresh: Record<string, unknown> = {};
  for (const [name, sample] of Object.entries(signals) as [SignalName, { observedAt: string }][]) {
    const held = snapshot.signals[name] as { observedAt: string } | undefined;
    if (held === undefined || Date.parse(sample.observedAt) > Date.parse(held.observedAt)) fresh[name] = sample;
  }
  return fresh as SignalSamples;
};

const dtcTransition = (
  snapshot: VehicleSnapshot,
  fresh: SignalSamples,
): { type: "mil.on" | "mil.off"; at: string; dtcs: Dtc[]; signals: SignalSamples } | undefined => {
  if (!fresh.dtcs) return undefined;
  const before = snapshot.signals.dtcs?.value ?? [];
  const known = new Set(before.map((dtc) => dtc.code));
  const appeared = fresh.dtcs.value.filter((dtc) => !known.has(dtc.code));
  const signals: SignalSamples = {
    dtcs: fresh.dtcs,
    mil_on: { value: fresh.dtcs.value.length > 0, observedAt: fresh.dtcs.observedAt },
  };
  if (appeared.length > 0) return { type: "mil.on", at: fresh.dtcs.observedAt, dtcs: appeared, signals };
  if (before.length > 0 && fresh.dtcs.value.length === 0) {
    return { type: "mil.off", at: fresh.dtcs.observedAt, dtcs: before, signals };
  }
  return undefined;
};

const chargeTransition = (
  snapshot: VehicleSnapshot,
  fresh: SignalSamples,
): { type: "charge.started" | "charge.completed" | "charge.stopped"; at: string } | undefined => {
  const now = fresh.charge_state;
  const before = snapshot.signals.charge_state?.value;
  if (!now || before === undefined || now.value === before) return undefined;
  if (now.value === "charging") return { type: "charge.started", at: now.observedAt };
  if (before !== "charging") return undefined;
  return { type: now.value === "fully_charged" ? "charge.completed" : "charge.stopped", at: now.observedAt };
};
