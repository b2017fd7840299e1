import { PayloadInvalidError, parsePayload } from "#core/ingest/errors.ts";
import type { NormalizedDelivery } from "#core/ingest/normalized-delivery.ts";
import type { EventType, TripSummary, VehicleEvent } from "#core/model/event.ts";
import { eventIdOf } from "#core/model/ids.ts";
import type { Dtc, Location, SignalSamples } from "#core/model/signals.ts";
import { vehicleIdOf } from "#core/model/vehicle.ts";
import { metresToKm, mphToKph, round3, toIsoUtc, usGallonsToLitres } from "#core/units/convert.ts";
import {
  AUTOMATIC_EVENT_TYPES,
  AutomaticEnvelope,
  type AutomaticEventType,
  AutomaticWebhookEvent,
  AutomaticWebsocketEvent,
} from "./webhook-schema.ts";

const CANONICAL_TYPE = {
  "trip:finished": "trip.finished",
  "ignition:on": "ignition.on",
  "ignition:off": "ignition.off",
  "notification:speeding": "speeding",
  "notification:hard_brake": "hard_brake",
  "notification:hard_accel": "hard_accel",
  "mil:on": "mil.on",
  "mil:off": "mil.off",
  "location:updated": "location",
} as const satisfies Record<AutomaticEventType, EventType>;

/** What both payload shapes say, in canonical units and ISO times. */
type AutomaticFacts = {
  providerEventId: string;
  type: AutomaticEventType;
  providerVehicleId: string;
  occurredAt: string;
  timeZone: string | undefined;
  displayName: string | undefined;
  position: { location: Location; observedAt: string } | undefined;
  speedKph?: number;
  gForce?: number;
  dtcs?: Dtc[];
  userCleared?: boolean;
  trip?: TripSummary;
};

const isKnownType = (type: string): type is AutomaticEventType =>
  (AUTOMATIC_EVENT_TYPES as readonly string[]).includes(type);

/**
 * Turns one Automatic webhook or websocket payload into canonical events.
 * Unknown event types are reported in `ignored`; schema violations throw PayloadInvalidError.
 *
 * @example normalizeAutomaticEvent(JSON.parse(body), new Date().toISOString()).events[0].type // "mil.on"
 */
export const normalizeAutomaticEvent = (payload: unknown, receivedAt: string): NormalizedDelivery => {
  const envelope = parsePayload(AutomaticEnvelope, payload);
  const deliveryId = `automatic:${envelope.id}:${envelope.type}`;
  if (!isKnownType(envelope.type)) {
    return {
      provider: "automatic",
      deliveryId,
      events: [],
      ignored: [{ type: envelope.type, reason: "unsupported Automatic event type" }],
    };
  }
  const facts = factsOf(payload);
  return { provider: "automatic", deliveryId, events: [toCanonicalEvent(facts, receivedAt)], ignored: [] };
};

const factsOf = (payload: unknown): AutomaticFacts => {
  const createdAt = (payload as { created_at?: unknown }).created_at;
  if (typeof createdAt === "number") return shapeFacts(parsePayload(AutomaticWebhookEvent, payload));
  if (typeof createdAt === "string") return shapeFacts(parsePayload(AutomaticWebsocketEvent, payload));
  throw new PayloadInvalidError([
    {
      path: "created_at",
      message: "expected epoch milliseconds (webhook) or an ISO 8601 string (websocket)",
    },
  ]);
};

/** Both shapes carry the same facts under different names and units; this is where they meet. */
const shapeFacts = (event: AutomaticWebhookEvent | AutomaticWebsocketEvent): AutomaticFacts => {
  const occurredAt = toIsoUtc(event.created_at);
  const location = event.location;
  const locationTime = location && timeIn(location);
  const facts: AutomaticFacts = {
    providerEventId: event.id,
    type: event.type,
    providerVehicleId: event.vehicle.id,
    occurredAt,
    timeZone: event.time_zone,
    displayName: ("display_name" in event.vehicle ? event.vehicle.display_name : undefined) ?? undefined,
    position: location && {
      location: locationOf(location),
      observedAt: locationTime === undefined ? occurredAt : toIsoUtc(locationTime),
    },
  };
  switch (event.type) {
    case "notification:speeding":
      return { ...facts, speedKph: "speed_mph" in event ? mphToKph(event.speed_mph) : round3(event.velocity_kph) };
    case "notification:hard_brake":
    case "notification:hard_accel":
      return { ...facts, gForce: event.g_force };
    case "mil:on":
    case "mil:off":
      return {
        ...facts,
        dtcs: event.dtcs.map((dtc) => dtcOf(dtc.code, dtc.description, timeIn(dtc))),
        ...("user_cleared" in event && event.user_cleared !== undefined ? { userCleared: event.user_cleared } : {}),
      };
    case "trip:finished": {
      const trip = "start_time" in event.trip ? webhookTrip(event.trip) : restTrip(event.trip);
      return {
        ...facts,
        // A trip happened when it ended, not when Automatic got round to sending it.
        occurredAt: trip.endedAt,
        position: trip.end ? { location: locationOf(trip.end), observedAt: trip.endedAt } : undefined,
        trip: tripOf(trip),
      };
    }
    default:
      return facts;
  }
};

/** The time a location or DTC carries: epoch ms (`ts`, `start`) in webhooks, ISO `created_at` in websockets. */
const timeIn = (value: { ts?: number; start?: number; created_at?: string }): number | string | undefined =>
  value.ts ?? value.start ?? value.created_at;

/** The webhook's own trip format: epoch-ms times, US gallons. */
const webhookTrip = (trip: Extract<AutomaticWebhookEvent, { type: "trip:finished" }>["trip"]): TripFacts => ({
  id: trip.id,
  startedAt: toIsoUtc(trip.start_time),
  endedAt: toIsoUtc(trip.end_time),
  distanceM: trip.distance_m,
  durationS: (trip.end_time - trip.start_time) / 1000,
  start: trip.start_location,
  end: trip.end_location,
  fuelL: trip.fuel_volume_gal == null ? undefined : usGallonsToLitres(trip.fuel_volume_gal),
  hardBrakes: trip.hard_brakes,
  hardAccels: trip.hard_accels,
  idlingS: trip.idling_time_s,
});

/** The REST Trip object the websocket carries: ISO times, litres. */
const restTrip = (trip: Extract<AutomaticWebsocketEvent, { type: "trip:finished" }>["trip"]): TripFacts => ({
  id: trip.id,
  startedAt: toIsoUtc(trip.started_at),
  endedAt: toIsoUtc(trip.ended_at),
  distanceM: trip.distance_m,
  durationS: trip.duration_s ?? (Date.parse(trip.ended_at) - Date.parse(trip.started_at)) / 1000,
  start: trip.start_location,
  end: trip.end_location,
  fuelL: trip.fuel_volume_l == null ? undefined : round3(trip.fuel_volume_l),
  hardBrakes: trip.hard_brakes,
  hardAccels: trip.hard_accels,
  idlingS: trip.idling_time_s,
});

type Coordinates = { lat: number; lon: number; accuracy_m?: number | undefined };

const locationOf = ({ lat, lon, accuracy_m }: Coordinates): Location =>
  accuracy_m === undefined ? { lat, lon } : { lat, lon, accuracy_m };

const dtcOf = (code: string, description: string | null | undefined, start: number | string | undefined): Dtc => ({
  code,
  ...(description == null ? {} : { description }),
  ...(start === undefined ? {} : { occurredAt: toIsoUtc(start) }),
});

type TripFacts = {
  id: string;
  startedAt: string;
  endedAt: string;
  distanceM: number;
  durationS: number;
  start: Coordinates | null | undefined;
  end: Coordinates | null | undefined;
  fuelL: number | undefined;
  hardBrakes: number | null | undefined;
  hardAccels: number | null | undefined;
  idlingS: number | null | undefined;
};

const tripOf = (trip: TripFacts): TripSummary => ({
  tripId: trip.id,
  startedAt: trip.startedAt,
  endedAt: trip.endedAt,
  distance_km: metresToKm(trip.distanceM),
  duration_s: round3(trip.durationS),
  ...(trip.start ? { start: locationOf(trip.start) } : {}),
  ...(trip.end ? { end: locationOf(trip.end) } : {}),
  ...(trip.fuelL === undefined ? {} : { fuel_l: trip.fuelL }),
  ...(trip.hardBrakes == null ? {} : { hard_brakes: trip.hardBrakes }),
  ...(trip.hardAccels == null ? {} : { hard_accels: trip.hardAccels }),
  ...(trip.idlingS == null ? {} : { idling_s: trip.idlingS }),
});

const toCanonicalEvent = (facts: AutomaticFacts, receivedAt: string): VehicleEvent => {
  const type = CANONICAL_TYPE[facts.type];
  const at = facts.occurredAt;
  const signals: SignalSamples = {};
  if (facts.position) signals.location = { value: facts.position.location, observedAt: facts.position.observedAt };
  const common = {
    // A trip is identified by its trip id, the one id REST shares: a trip:finished webhook arriving after
    // a REST backfill of the same trip (see backfill.ts) then gets the same event id and is dropped.
    id: eventIdOf("automatic", [facts.providerVehicleId, facts.trip?.tripId ?? facts.providerEventId, type]),
    vehicleId: vehicleIdOf("automatic", facts.providerVehicleId),
    occurredAt: at,
    receivedAt,
    source: { provider: "automatic" as const, providerEventId: facts.providerEventId },
    ...(facts.displayName === undefined && facts.timeZone === undefined
      ? {}
      : {
          vehicleHints: {
            ...(facts.displayName === undefined ? {} : { displayName: facts.displayName }),
            ...(facts.timeZone === undefined ? {} : { timeZone: facts.timeZone }),
          },
        }),
  };
  switch (type) {
    case "ignition.on":
    case "ignition.off":
      signals.ignition_on = { value: type === "ignition.on", observedAt: at };
      return { ...common, type, data: {}, signals };
    case "speeding": {
      const speed = facts.speedKph ?? 0;
      // Automatic reports the highest speed of the episode: the best sample of speed we have at that time.
      signals.speed_kph = { value: speed, observedAt: at };
      return { ...common, type, data: { max_speed_kph: speed }, signals };
    }
    case "hard_brake":
    case "hard_accel":
      return { ...common, type, data: { g_force: facts.gForce ?? 0 }, signals };
    case "mil.on":
      signals.mil_on = { value: true, observedAt: at };
      signals.dtcs = { value: facts.dtcs ?? [], observedAt: at };
      return { ...common, type, data: { dtcs: facts.dtcs ?? [] }, signals };
    case "mil.off":
      signals.mil_on = { value: false, observedAt: at };
      signals.dtcs = { value: [], observedAt: at };
      return {
        ...common,
        type,
        data: {
          dtcs: facts.dtcs ?? [],
          ...(facts.userCleared === undefined ? {} : { user_cleared: facts.userCleared }),
        },
        signals,
      };
    case "location":
      return { ...common, type, data: {}, signals };
    case "trip.finished": {
      if (facts.trip === undefined) throw new Error("trip:finished facts without a trip");
      return { ...common, type, data: facts.trip, signals };
    }
  }
};
