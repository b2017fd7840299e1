import * as z from "zod";

/*
 * Automatic real-time events, from ../shared/seeds/automatic-api.txt ("Receiving Webhooks",
 * "Webhook Discrepancies from REST" and each event's examples). Two shapes reach the same endpoint:
 * - webhook: epoch-millisecond times, imperial units (speed_mph, fuel_volume_gal), user.v2_id,
 *   full vehicle object, trip with start_time/end_time;
 * - websocket: ISO 8601 times, metric units (velocity_kph), vehicle as id + url, trip as the REST Trip object.
 * Unknown extra fields are allowed: Automatic adds fields without notice and we keep the raw payload anyway.
 */

export const AUTOMATIC_EVENT_TYPES = [
  "trip:finished",
  "ignition:on",
  "ignition:off",
  "notification:speeding",
  "notification:hard_brake",
  "notification:hard_accel",
  "mil:on",
  "mil:off",
  "location:updated",
] as const;
export type AutomaticEventType = (typeof AUTOMATIC_EVENT_TYPES)[number];

/** Just enough to route a payload: its id and type. */
/** id and type make the delivery's archive key: bounded so it stays within DynamoDB's key size (a 400, not a 500). */
export const AutomaticEnvelope = z.object({ id: z.string().min(1).max(200), type: z.string().min(1).max(100) });

// The largest time a JavaScript Date can hold, so a valid value always converts.
const EpochMs = z.number().int().nonnegative().max(8.64e15);
const IsoTime = z.iso.datetime({ offset: true });

const Coordinates = {
  lat: z.number().min(-90).max(90),
  lon: z.number().min(-180).max(180),
  accuracy_m: z.number().nonnegative().optional(),
};

const WebhookLocation = z.object({ ...Coordinates, ts: EpochMs.optional() });
const WebsocketLocation = z.object({ ...Coordinates, created_at: IsoTime.optional() });

const WebhookVehicle = z.object({
  id: z.string().min(1),
  display_name: z.string().nullish(),
  make: z.string().nullish(),
  model: z.string().nullish(),
  year: z.string().nullish(),
});
const WebsocketVehicle = z.object({ id: z.string().min(1), url: z.string().optional() });

const WebhookDtc = z.object({ code: z.string().min(1), description: z.string().nullish(), start: EpochMs.optional() });
const WebsocketDtc = z.object({
  code: z.string().min(1),
  description: z.string().nullish(),
  created_at: IsoTime.optional(),
});

const webhookBase = {
  id: z.string().min(1),
  user: z.object({ id: z.string(), v2_id: z.string().optional() }),
  created_at: EpochMs,
  time_zone: z.string().optional(),
  location: WebhookLocation.optional(),
  vehicle: WebhookVehicle,
};
const websocketBase = {
  id: z.string().min(1),
  user: z.object({ id: z.string(), url: z.string().optional() }),
  created_at: IsoTime,
  time_zone: z.string().optional(),
  location: WebsocketLocation.optional(),
  vehicle: WebsocketVehicle,
};

const WebhookTripLocation = z.object({ ...Coordinates, ts: EpochMs.optional() });
/** The webhook's own trip format (differs from REST). */
const WebhookTrip = z.object({
  id: z.string().min(1),
  start_location: WebhookTripLocation.nullish(),
  end_location: WebhookTripLocation.nullish(),
  start_time: EpochMs,
  end_time: EpochMs,
  distance_m: z.number().nonnegative(),
  fuel_volume_gal: z.number().nonnegative().nullish(),
  hard_accels: z.number().int().nonnegative().nullish(),
  hard_brakes: z.number().int().nonnegative().nullish(),
  idling_time_s: z.number().nonnegative().nullish(),
});
/** The REST Trip object, which websocket trip:finished events carry. */
const RestTrip = z.object({
  id: z.string().min(1),
  started_at: IsoTime,
  ended_at: IsoTime,
  distance_m: z.number().nonnegative(),
  duration_s: z.coerce.number().nonnegative().nullish(),
  start_location: z.object(Coordinates).nullish(),
  end_location: z.object(Coordinates).nullish(),
  fuel_volume_l: z.number().nonnegative().nullish(),
  hard_accels: z.number().int().nonnegative().nullish(),
  hard_brakes: z.number().int().nonnegative().nullish(),
  idling_time_s: z.number().nonnegative().nullish(),
});

const GForce = z.number().nonnegative();

export const AutomaticWebhookEvent = z.discriminatedUnion("type", [
  z.object({ ...webhookBase, type: z.literal("trip:finished"), trip: WebhookTrip }),
  z.object({ ...webhookBase, type: z.literal("ignition:on") }),
  z.object({ ...webhookBase, type: z.literal("ignition:off") }),
  z.object({ ...webhookBase, type: z.literal("notification:speeding"), speed_mph: z.number().nonnegative() }),
  z.object({ ...webhookBase, type: z.literal("notification:hard_brake"), g_force: GForce }),
  z.object({ ...webhookBase, type: z.literal("notification:hard_accel"), g_force: GForce }),
  z.object({ ...webhookBase, type: z.literal("mil:on"), dtcs: z.array(WebhookDtc) }),
  z.object({
    ...webhookBase,
    type: z.literal("mil:off"),
    dtcs: z.array(WebhookDtc),
    user_cleared: z.boolean().optional(),
  }),
  // The seed says location:updated is websocket-only; accept the webhook shape too rather than drop data.
  z.object({ ...webhookBase, type: z.literal("location:updated"), location: WebhookLocation }),
]);
export type AutomaticWebhookEvent = z.infer<typeof AutomaticWebhookEvent>;

export const AutomaticWebsocketEvent = z.discriminatedUnion("type", [
  z.object({ ...websocketBase, type: z.literal("trip:finished"), trip: RestTrip }),
  z.object({ ...websocketBase, type: z.literal("ignition:on") }),
  z.object({ ...websocketBase, type: z.literal("ignition:off") }),
  z.object({ ...websocketBase, type: z.literal("notification:speeding"), velocity_kph: z.number().nonnegative() }),
  z.object({ ...websocketBase, type: z.literal("notification:hard_brake"), g_force: GForce }),
  z.object({ ...websocketBase, type: z.literal("notification:hard_accel"), g_force: GForce }),
  z.object({ ...websocketBase, type: z.literal("mil:on"), dtcs: z.array(WebsocketDtc) }),
  z.object({
    ...websocketBase,
    type: z.literal("mil:off"),
    dtcs: z.array(WebsocketDtc),
    user_cleared: z.boolean().optional(),
  }),
  z.object({ ...websocketBase, type: z.literal("location:updated"), location: WebsocketLocation }),
]);
export type AutomaticWebsocketEvent = z.infer<typeof AutomaticWebsocketEvent>;
