import type { VehicleEvent } from "#core/model/event.ts";
import type { ProviderVehicleRef } from "#core/providers/ports.ts";
import type { RequestMeter } from "../http/fetch-json.ts";
import { normalizeAutomaticEvent } from "./normalize-webhook.ts";
import type { AutomaticRestClient } from "./rest-client.ts";
import { type AutomaticMilHistoryEntry, type AutomaticRestTrip, idFromUri } from "./rest-schema.ts";

/*
 * Backfill: the seed calls REST the source of truth and says webhooks neither guarantee delivery
 * nor arrive only once, so we poll /trip/ and /vehicle/{id}/mil/ and emit what webhooks missed.
 *
 * How event ids line up with the webhook normalizer (eventIdOf("automatic", [vehicle, providerEventId, type])):
 * - Every backfilled object is dressed as the websocket event Automatic would have sent (REST and
 *   websocket share shapes and units) and run through normalizeAutomaticEvent, so conversions and
 *   the id formula are the webhook's own, never a copy that could drift.
 * - The webhook's providerEventId is the delivery envelope's `id`, which REST never exposes. The
 *   provider id REST *does* share with the webhook is the trip id (`trip.id` in trip:finished). So a
 *   backfilled trip gets providerEventId = trip id, and MIL rows (which have no id at all) get
 *   "mil:<code>:<created_at>", both stable across backfill runs: backfill never duplicates itself.
 * - To line up with events webhooks already delivered, pass them as `received` (the vehicle's stored
 *   events over the window): a backfilled event with the same natural key takes the received event's id,
 *   so the event store and queue see the very same id and drop it. Natural keys: trip.finished by trip
 *   id; mil.on/mil.off by type, DTC code and DTC time to the second (REST MIL times have whole seconds,
 *   webhook DTC `start` has milliseconds).
 * Where they cannot line up:
 * - A trip:finished webhook that arrives *after* the backfill (Automatic sends them hours or days late)
 *   gets the envelope id and duplicates the backfilled trip, unless the webhook normalizer keys
 *   trip:finished by trip id too (a one-line change there: use `trip.id` as its id part).
 * - A webhook mil:on listing several codes is one event; REST has one row per code. Each row adopts
 *   that event's id, so they collapse into it; a code the webhook did not list stays a new event.
 * - A mil webhook whose DTCs carry no time cannot be matched.
 * - Hard brakes/accels and speeding are not backfilled: REST keeps only post-processed trip
 *   `vehicle_events` (false positives removed) with no id, and the trip's counts already hold them.
 */

export type AutomaticBackfillRequest = {
  client: AutomaticRestClient;
  vehicle: ProviderVehicleRef;
  /** Trips that ended and MIL changes that happened in [since, until]. */
  since: Date;
  until: Date;
  receivedAt: string;
  /** Events already stored for this vehicle over the window (from webhooks); see the id notes above. */
  received?: readonly VehicleEvent[];
};

export type AutomaticBackfill = {
  /** Canonical events in event-time order, ids aligned with `received` where the natural key matches. */
  events: VehicleEvent[];
  /** Ids in `events` that were already in `received`: the caller may skip enqueueing these. */
  alreadyReceived: ReadonlySet<string>;
  requestsUsed: number;
};

/**
 * Trips and MIL history of one vehicle over a window, as canonical events.
 *
 * @example const { events, alreadyReceived } = await backfillAutomaticEvents({ client, vehicle, since, until, receivedAt, received });
 */
export const backfillAutomaticEvents = async (request: AutomaticBackfillRequest): Promise<AutomaticBackfill> => {
  const { client, vehicle, since, until, receivedAt } = request;
  const meter: RequestMeter = { requests: 0 };
  const vehicleId = vehicle.providerVehicleId;
  const trips = await client.listTrips(
    vehicle.credentialsRef,
    { vehicle: vehicleId, endedAtGte: since, endedAtLte: until },
    meter,
  );
  const mil = (await client.listMilHistory(vehicle.credentialsRef, vehicleId, meter)).filter((row) => {
    const at = Date.parse(row.created_at);
    return at >= since.getTime() && at <= until.getTime();
  });

  const fresh = [
    // The /trip/ vehicle filter is the API's; a trip of another vehicle would be an API bug, not ours to store here.
    ...trips
      .filter((trip) => idFromUri(trip.vehicle) === vehicleId)
      .map((trip) => tripEvent(vehicleId, trip, receivedAt)),
    ...mil.map((row) => milEvent(vehicleId, row, receivedAt)),
  ];

  const receivedIdByKey = new Map<string, string>();
  for (const event of request.received ?? []) for (const key of naturalKeys(event)) receivedIdByKey.set(key, event.id);

  const seen = new Set<string>();
  const alreadyReceived = new Set<string>();
  const events: VehicleEvent[] = [];
  for (const event of fresh) {
    const adopted = naturalKeys(event)
      .map((key) => receivedIdByKey.get(key))
      .find((id) => id !== undefined);
    const id = adopted ?? event.id;
    if (seen.has(id)) continue;
    seen.add(id);
    if (adopted) alreadyReceived.add(adopted);
    events.push(adopted ? { ...event, id: adopted } : event);
  }
  events.sort((a, b) => a.occurredAt.localeCompare(b.occurredAt) || a.id.localeCompare(b.id));
  return { events, alreadyReceived, requestsUsed: meter.requests };
};

const userOf = (uri: string | null | undefined): { id: string } => ({ id: (uri && idFromUri(uri)) || "unknown" });

/** A REST trip as the websocket trip:finished that carries it. */
const tripEvent = (vehicleId: string, trip: AutomaticRestTrip, receivedAt: string): VehicleEvent =>
  only(
    normalizeAutomaticEvent(
      {
        id: trip.id,
        type: "trip:finished",
        created_at: trip.ended_at,
        user: userOf(trip.user),
        vehicle: { id: vehicleId },
        ...(trip.end_timezone ? { time_zone: trip.end_timezone } : {}),
        trip,
      },
      receivedAt,
    ).events,
  );

/** A MIL history row as the websocket mil:on / mil:off of that one code. */
const milEvent = (vehicleId: string, row: AutomaticMilHistoryEntry, receivedAt: string): VehicleEvent => {
  const createdAt = new Date(row.created_at).toISOString();
  return only(
    normalizeAutomaticEvent(
      {
        id: `mil:${row.code}:${createdAt}`,
        type: row.on ? "mil:on" : "mil:off",
        created_at: createdAt,
        user: { id: "unknown" },
        vehicle: { id: vehicleId },
        dtcs: [
          {
            code: row.code,
            ...(row.description == null ? {} : { description: row.description }),
            created_at: createdAt,
          },
        ],
      },
      receivedAt,
    ).events,
  );
};

const only = (events: readonly VehicleEvent[]): VehicleEvent => {
  const [event] = events;
  if (!event || events.length !== 1) throw new Error(`expected one event from the normalizer, got ${events.length}`);
  return event;
};

/** What identifies an event across webhook and REST (see the notes at the top). */
const naturalKeys = (event: VehicleEvent): string[] => {
  if (event.type === "trip.finished") return [`${event.vehicleId}|trip|${event.data.tripId}`];
  if (event.type === "mil.on" || event.type === "mil.off") {
    return event.data.dtcs.flatMap((dtc) =>
      dtc.occurredAt ? [`${event.vehicleId}|${event.type}|${dtc.code}|${dtc.occurredAt.slice(0, 19)}`] : [],
    );
  }
  return [];
};
