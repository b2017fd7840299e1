import * as z from "zod";
import { Dtc, Location, SignalSamples } from "./signals.ts";
import { Provider, VehicleId } from "./vehicle.ts";

export const EVENT_TYPES = [
  "ignition.on",
  "ignition.off",
  "trip.finished",
  "speeding",
  "hard_brake",
  "hard_accel",
  "mil.on",
  "mil.off",
  "location",
  "charge.started",
  "charge.stopped",
  "charge.completed",
  "signals",
  "vehicle.error",
] as const;
export const EventType = z.enum(EVENT_TYPES);
export type EventType = z.infer<typeof EventType>;

const NoData = z.object({}).strict();

export const TripSummary = z
  .object({
    tripId: z.string(),
    startedAt: z.iso.datetime(),
    endedAt: z.iso.datetime(),
    distance_km: z.number().nonnegative(),
    duration_s: z.number().nonnegative().optional(),
    start: Location.optional(),
    end: Location.optional(),
    fuel_l: z.number().nonnegative().optional(),
    hard_brakes: z.number().int().nonnegative().optional(),
    hard_accels: z.number().int().nonnegative().optional(),
    idling_s: z.number().nonnegative().optional(),
  })
  .strict();
export type TripSummary = z.infer<typeof TripSummary>;

/** Type-specific fields of each event type; what rule filters and templates see as `event.data`. */
export const EventData = {
  "ignition.on": NoData,
  "ignition.off": NoData,
  "trip.finished": TripSummary,
  /** `max_speed_kph` is the highest speed of the episode the provider reported. */
  speeding: z.object({ max_speed_kph: z.number().nonnegative() }).strict(),
  hard_brake: z.object({ g_force: z.number().nonnegative() }).strict(),
  hard_accel: z.object({ g_force: z.number().nonnegative() }).strict(),
  "mil.on": z.object({ dtcs: z.array(Dtc) }).strict(),
  "mil.off": z.object({ dtcs: z.array(Dtc), user_cleared: z.boolean().optional() }).strict(),
  location: NoData,
  "charge.started": NoData,
  "charge.stopped": NoData,
  "charge.completed": NoData,
  signals: NoData,
  "vehicle.error": z.object({ code: z.string(), message: z.string() }).strict(),
} as const satisfies Record<EventType, z.ZodType>;

const eventOf = <T extends EventType>(type: T) =>
  z
    .object({
      /** Stable across redeliveries of the same provider event. */
      id: z.string().min(1),
      vehicleId: VehicleId,
      type: z.literal(type),
      /** When it happened at the vehicle (event time), ISO 8601 UTC. */
      occurredAt: z.iso.datetime(),
      /** When Dashlight received it, ISO 8601 UTC. */
      receivedAt: z.iso.datetime(),
      source: z.object({ provider: Provider, providerEventId: z.string().optional() }).strict(),
      data: EventData[type],
      /** Signal samples this event carries, each with its own observation time. */
      signals: SignalSamples,
      /** What the provider said about the vehicle, used when a vehicle is first seen. */
      vehicleHints: z
        .object({ displayName: z.string().optional(), timeZone: z.string().optional() })
        .strict()
        .optional(),
    })
    .strict();

export const VehicleEvent = z.discriminatedUnion(
  "type",
  EVENT_TYPES.map((type) => eventOf(type)) as unknown as [
    ReturnType<typeof eventOf<EventType>>,
    ...ReturnType<typeof eventOf<EventType>>[],
  ],
);

type EventOf<T extends EventType> = Omit<z.infer<ReturnType<typeof eventOf<T>>>, "type" | "data"> & {
  type: T;
  data: z.infer<(typeof EventData)[T]>;
};
/** A canonical event: one thing that happened to one vehicle, in SI units. */
export type VehicleEvent = { [T in EventType]: EventOf<T> }[EventType];
