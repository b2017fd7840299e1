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

/**
 * A time zone as given (`?time_zone=`, `--time-zone`, an invite's) in its canonical IANA name, as the runtime
 * resolves it: `utc` → `UTC`, `europe/berlin` → `Europe/Berlin`, `US/Pacific` → `America/Los_Angeles`. Refused: a name
 * the runtime does not know, and a UTC offset (`+01:00`, which Intl takes), which is no place and ignores daylight
 * saving time.
 *
 * @example canonicalTimeZone("europe/berlin") // { timeZone: "Europe/Berlin" }
 */
export const canonicalTimeZone = (zone: string): { timeZone: string } | { refused: "unknown" | "offset" } => {
  let timeZone: string;
  try {
    timeZone = new Intl.DateTimeFormat("en", { timeZone: zone }).resolvedOptions().timeZone;
  } catch {
    return { refused: "unknown" };
  }
  return /^[+-]/.test(timeZone) ? { refused: "offset" } : { timeZone };
};

const TIME_ZONE_EXAMPLE = "use an IANA name such as Europe/Berlin";

/** Why a `--time-zone` was refused, for the CLI: `unknown IANA time zone "Mars/Olympus"`. */
export const timeZoneRefusal = (zone: string, refused: "unknown" | "offset"): string =>
  refused === "offset"
    ? `${JSON.stringify(zone)} is a UTC offset, not a time zone: ${TIME_ZONE_EXAMPLE}`
    : `unknown IANA time zone ${JSON.stringify(zone)}`;

/** The canonical name of a stored time zone (one kept before names were normalised), else the name as stored. */
export const normalisedTimeZone = (zone: string): string => {
  const canonical = canonicalTimeZone(zone);
  return "timeZone" in canonical ? canonical.timeZone : zone;
};

/**
 * A time zone, as `?time_zone=`, `--time-zone` and invites take it: parses to its canonical IANA name
 * (canonicalTimeZone); a UTC offset or an unknown name fails.
 */
export const TimeZone = z.string().transform((zone, context) => {
  const canonical = canonicalTimeZone(zone);
  if ("timeZone" in canonical) return canonical.timeZone;
  context.addIssue({
    code: "custom",
    message:
      canonical.refused === "offset"
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
