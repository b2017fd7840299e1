import * as z from "zod";

/*
 * Automatic REST API bodies, from ../shared/seeds/automatic-api.txt ("Rest API", "API Objects").
 * REST is metric with ISO 8601 times (unlike webhooks). Fields a token's scopes do not cover are
 * simply absent, so everything beyond the ids is optional; unknown fields pass.
 */

const IsoTime = z.iso.datetime({ offset: true });

/** Every list endpoint: `_metadata.next` is the absolute URL of the next page, null on the last. */
export const automaticPage = <T extends z.ZodType>(item: T) =>
  z.object({
    _metadata: z.object({
      count: z.number().int().nonnegative(),
      next: z.string().nullish(),
      previous: z.string().nullish(),
    }),
    results: z.array(item),
  });

export const AutomaticRestDtc = z.object({
  code: z.string().min(1),
  description: z.string().nullish(),
  created_at: IsoTime.nullish(),
});

/** Vehicle Object */
export const AutomaticRestVehicle = z.object({
  id: z.string().min(1),
  url: z.string().optional(),
  vin: z.string().nullish(),
  created_at: IsoTime.nullish(),
  updated_at: IsoTime.nullish(),
  make: z.string().nullish(),
  model: z.string().nullish(),
  year: z.number().int().nullish(),
  submodel: z.string().nullish(),
  display_name: z.string().nullish(),
  fuel_grade: z.string().nullish(),
  fuel_level_percent: z.number().nullish(),
  battery_voltage: z.number().nullish(),
  active_dtcs: z.array(AutomaticRestDtc).nullish(),
});
export type AutomaticRestVehicle = z.infer<typeof AutomaticRestVehicle>;

/** VehicleMILHistory Object: one code turning on or off; no id of its own. */
export const AutomaticMilHistoryEntry = z.object({
  code: z.string().min(1),
  on: z.boolean(),
  created_at: IsoTime,
  description: z.string().nullish(),
});
export type AutomaticMilHistoryEntry = z.infer<typeof AutomaticMilHistoryEntry>;

const Coordinates = z.object({
  lat: z.number().min(-90).max(90),
  lon: z.number().min(-180).max(180),
  accuracy_m: z.number().nonnegative().optional(),
});

/** Trip Object. `vehicle` and `user` are URIs; `duration_s` is documented as a string. */
export const AutomaticRestTrip = z.object({
  id: z.string().min(1),
  url: z.string().optional(),
  user: z.string().nullish(),
  vehicle: z.string(),
  started_at: IsoTime,
  ended_at: IsoTime,
  distance_m: z.number().nonnegative(),
  duration_s: z.union([z.number(), z.string()]).nullish(),
  start_location: Coordinates.nullish(),
  end_location: Coordinates.nullish(),
  fuel_volume_l: z.number().nonnegative().nullish(),
  hard_brakes: z.number().int().nonnegative().nullish(),
  hard_accels: z.number().int().nonnegative().nullish(),
  idling_time_s: z.number().nonnegative().nullish(),
  start_timezone: z.string().nullish(),
  end_timezone: z.string().nullish(),
  tags: z.array(z.string()).nullish(),
  vehicle_events: z.array(z.object({ type: z.string(), created_at: IsoTime.nullish() }).loose()).nullish(),
});
export type AutomaticRestTrip = z.infer<typeof AutomaticRestTrip>;

/** The REST error body: `{ error: "err_unauthorized", detail? }`. */
export const AutomaticErrorBody = z.object({ error: z.string(), detail: z.string().optional() });

/** The id at the end of a REST URI such as https://api.automatic.com/vehicle/C_9aa0f0e09383666c/ */
export const idFromUri = (uri: string): string | undefined =>
  /\/([^/]+)\/?$/.exec(new URL(uri, "http://x").pathname)?.[1];
