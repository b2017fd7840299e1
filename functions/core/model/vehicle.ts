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

/** Every zone name the runtime lists, plus "UTC" (which it does not list), by its lower case. */
let knownZones: Map<string, string> | undefined;
const zoneSpelled = (zone: string): string => {
  knownZones ??= new Map(["UTC", ...Intl.supportedValuesOf("timeZone")].map((name) => [name.toLowerCase(), name]));
  return knownZones.get(zone.toLowerCase()) ?? zone;
};

/** What the runtime resolves a time zone to (an ICU name, which may be a legacy alias: Europe/Kyiv → Europe/Kiev). */
const resolvedZone = (zone: string): string | undefined => {
  try {
    return new Intl.DateTimeFormat("en", { timeZone: zone }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
};

/**
 * A time zone as given (`?time_zone=`, `--time-zone`, an invite's), checked by the runtime and stored as the user
 * spelled it with only its case fixed: the name the runtime lists (or `UTC`) that matches it ignoring case, else the
 * name as typed. So `utc` → `UTC`, `europe/berlin` → `Europe/Berlin`, and `Europe/Kyiv` stays `Europe/Kyiv`: never
 * the name Intl resolves it to (`Europe/Kiev`, an ICU legacy alias that later runtimes will stop giving), so the
 * stored name does not change between Node versions. Refused: a name the runtime does not know, and a UTC offset
 * (`+01:00`, which Intl takes), which is no place and ignores daylight saving time.
 *
 * @example checkedTimeZone("europe/berlin") // { timeZone: "Europe/Berlin" }
 */
export const checkedTimeZone = (zone: string): { timeZone: string } | { refused: "unknown" | "offset" } => {
  const resolved = resolvedZone(zone);
  if (resolved === undefined) return { refused: "unknown" };
  return /^[+-]/.test(resolved) ? { refused: "offset" } : { timeZone: zoneSpelled(zone) };
};

/**
 * Whether two time zones mean the same place: the same once their case is fixed (checkedTimeZone), or resolved by
 * the runtime to the same zone (`Europe/Kyiv` and `Europe/Kiev`, `Asia/Kolkata` and `Asia/Calcutta`). A name the
 * runtime does not know equals only itself.
 *
 * @example sameTimeZone("Europe/Kyiv", "europe/kiev") // true
 */
export const sameTimeZone = (a: string, b: string): boolean => {
  if (normalisedTimeZone(a) === normalisedTimeZone(b)) return true;
  const resolved = resolvedZone(a);
  return resolved !== undefined && resolved === resolvedZone(b);
};

const TIME_ZONE_EXAMPLE = "use an IANA name such as Europe/Berlin";

/** Why a `--time-zone` was refused, for the CLI: `unknown IANA time zone "Mars/Olympus"`. */
export const timeZoneRefusal = (zone: string, refused: "unknown" | "offset"): string =>
  refused === "offset"
    ? `${JSON.stringify(zone)} is a UTC offset, not a time zone: ${TIME_ZONE_EXAMPLE}`
    : `unknown IANA time zone ${JSON.stringify(zone)}`;

/** A stored time zone (one kept before names were normalised) with its case fixed, else the name as stored. */
export const normalisedTimeZone = (zone: string): string => {
  const checked = checkedTimeZone(zone);
  return "timeZone" in checked ? checked.timeZone : zone;
};

/**
 * A time zone, as `?time_zone=`, `--time-zone` and invites take it: parses to the name as given with its case fixed
 * (checkedTimeZone); a UTC offset or an unknown name fails.
 */
export const TimeZone = z.string().transform((zone, context) => {
  const checked = checkedTimeZone(zone);
  if ("timeZone" in checked) return checked.timeZone;
  context.addIssue({
    code: "custom",
    message:
      checked.refused === "offset"
        ? `a UTC offset is not a time zone: ${TIME_ZONE_EXAMPLE}`
        : "must be an IANA time zone such as Europe/Berlin",
  });
  return z.NEVER;
});

export const MAX_TAG_LENGTH = 64;
/** Letters and digits, then also `-`, `_`, `.`, `:` and `/`: no spaces, commas (the CLI's separator) or quotes. */
const TAG_PATTERN = /^[\p{L}\p{N}][\p{L}\p{N}_.:/-]*$/u;
const TAG_RULE = `letters, digits and - _ . : / (starting with a letter or digit), at most ${MAX_TAG_LENGTH} characters`;

/** A vehicle tag as the CLI and invites take it (rule scopes name tags to match). */
export const Tag = z
  .string()
  .max(MAX_TAG_LENGTH, { error: `a tag is ${TAG_RULE}` })
  .regex(TAG_PATTERN, { error: `a tag is ${TAG_RULE}` });

/**
 * Tags as the CLI takes them: comma-separated, each trimmed, empty entries and repeats dropped, each checked:
 * `tagsOf(" fleet , van ,")` → `{ tags: ["fleet", "van"] }`; `tagsOf("fleet van")` → `{ refused: "…" }` naming it.
 */
export const tagsOf = (list: string): { tags: string[] } | { refused: string } => {
  const tags = [
    ...new Set(
      list
        .split(",")
        .map((tag) => tag.trim())
        .filter((tag) => tag.length > 0),
    ),
  ];
  const bad = tags.find((tag) => !Tag.safeParse(tag).success);
  return bad === undefined ? { tags } : { refused: `${JSON.stringify(bad)} is not a tag: a tag is ${TAG_RULE}` };
};

export const Contact = z.object({
  name: z.string().min(1),
  phone: z
    .string()
    .regex(/^\+[1-9]\d{1,14}$/, { message: "must be an E.164 number like +14155550100" })
    .optional(),
  email: z.email().optional(),
});
export type Contact = z.infer<typeof Contact>;

/** The zone with its case fixed when the runtime knows it (checkedTimeZone), else undefined. */
export const knownTimeZone = (zone: string | undefined): string | undefined => {
  if (zone === undefined) return undefined;
  const checked = checkedTimeZone(zone);
  return "timeZone" in checked ? checked.timeZone : undefined;
};

/**
 * The vehicle as the rules see it: its registered time zone, or (for a registration made before zones were checked,
 * with a name the runtime does not know) the zone an event names, else UTC, so one bad registration cannot make every
 * evaluation of the vehicle throw, be retried and dead-lettered.
 */
export const withUsableTimeZone = (vehicle: Vehicle, hintedZone?: string): Vehicle =>
  knownTimeZone(vehicle.timeZone) === undefined
    ? { ...vehicle, timeZone: knownTimeZone(hintedZone) ?? "UTC" }
    : vehicle;

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
