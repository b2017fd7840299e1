import * as z from "zod";

export const PROVIDERS = ["automatic", "smartcar", "dimo", "ovms"] as const;
export const Provider = z.enum(PROVIDERS);
export type Provider = z.infer<typeof Provider>;

/** `<provider>:<provider's vehicle id>`, e.g. `automatic:C_8e7b567626c26695`. */
/** It is also the events queue's MessageGroupId: at most 128 printable ASCII characters. */
export const VehicleId = z
  .string()
  .max(128)
  .regex(/^(automatic|smartcar|dimo|ovms):[\x21-\x39\x3b-\x7e][\x21-\x7e]*$/, {
    message:
      "must be <provider>:<provider vehicle id> in printable ASCII, provider one of automatic, smartcar, dimo, ovms",
  });
export type VehicleId = z.infer<typeof VehicleId>;

/** Builds the canonical vehicle id: `vehicleIdOf("automatic", "C_8e7b")` → `"automatic:C_8e7b"`. */
export const vehicleIdOf = (provider: Provider, providerVehicleId: string): VehicleId =>
  `${provider}:${providerVehicleId}`;

/** True for a time zone name the runtime knows (IANA, e.g. `Europe/Berlin`, or `UTC`). */
export const isTimeZone = (zone: string): boolean => {
  try {
    new Intl.DateTimeFormat("en", { timeZone: zone });
    return true;
  } catch {
    return false;
  }
};

/** A time zone the runtime knows, as `?time_zone=`, `--time-zone` and invites take it. */
export const TimeZone = z.string().refine(isTimeZone, { message: "must be an IANA time zone such as Europe/Berlin" });

/** Tags as the CLI takes them: `tagsOf("fleet,van")` → `["fleet", "van"]` (empty entries dropped). */
export const tagsOf = (list: string): string[] => list.split(",").filter((tag) => tag.length > 0);

export const Contact = z.object({
  name: z.string().min(1),
  phone: z
    .string()
    .regex(/^\+[1-9]\d{1,14}$/, { message: "must be an E.164 number like +14155550100" })
    .optional(),
  email: z.email().optional(),
});
export type Contact = z.infer<typeof Contact>;

export const Vehicle = z.object({
  id: VehicleId,
  provider: Provider,
  providerVehicleId: z.string().min(1),
  displayName: z.string().min(1),
  tags: z.array(z.string().min(1)),
  /** IANA time zone, used for schedules and time-of-day windows. */
  timeZone: z.string().min(1),
  contacts: z.array(Contact),
  /** Names the configured credentials that reach this vehicle at its provider (polls and commands). */
  credentialsRef: z.string().min(1).optional(),
  createdAt: z.iso.datetime(),
});
export type Vehicle = z.infer<typeof Vehicle>;
