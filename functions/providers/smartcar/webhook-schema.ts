import * as z from "zod";

/*
 * Smartcar webhook payloads (payload version 4.0), as published in:
 *   - https://smartcar.com/docs/api-reference/webhooks/event-types            (envelope, VERIFY, VEHICLE_STATE, VEHICLE_ERROR)
 *   - https://smartcar.com/docs/api-reference/webhooks/events/vehicle-state   (triggers, FIRST_DELIVERY)
 *   - https://smartcar.com/docs/api-reference/webhooks/events/vehicle-error   (error categories, state ERROR/RESOLVED)
 *   - https://smartcar.com/docs/integrations/webhooks/responses               (full VEHICLE_STATE example, signal status/meta)
 *   - https://smartcar.com/docs/api-reference/signals/schema                  (signal groups; code = "<group>-<name>" lower-cased)
 *   - https://smartcar.com/docs/api-reference/signals/{tractionbattery,charge,location,internalcombustionengine,
 *     diagnostics,closure,lowvoltagebattery}                                  (signal bodies)
 *
 * Where the docs disagree or say nothing we take the lenient-but-typed reading, and say so beside the field:
 *   - Unknown envelope and body fields are kept (`.loose()`): Smartcar adds fields without a version bump.
 *   - `triggers` sits at the top level in every published example; a `data.triggers` is accepted as well.
 *   - Trigger items appear both as `{ type, signal: { code, name, group } }` and as a bare `{ code, name, group }`.
 *   - `meta.deliveredAt` is an ISO string in the VERIFY example but an epoch number in the VEHICLE_STATE examples
 *     (1761896351529 in ms; 1700000000, apparently seconds, in an older one): both are accepted (see `Timestamp`).
 *   - Only signals we map have their `body` validated; any other code is accepted as is and reported as ignored.
 */

/** The instants ISO 8601 can write with a four-digit year: 0000-01-01 up to 9999-12-31, in UTC. */
const MIN_INSTANT_MS = -62_167_219_200_000; // 0000-01-01T00:00:00.000Z
const MAX_INSTANT_MS = 253_402_300_799_999; // 9999-12-31T23:59:59.999Z

/** An ISO 8601 date-time with `Z` or an offset, whose UTC instant still has a four-digit year. */
export const IsoInstant = z.iso.datetime({ offset: true }).refine(
  (text) => {
    const ms = Date.parse(text);
    // Text that is no date-time at all is reported by the format check alone.
    return Number.isNaN(ms) || (ms >= MIN_INSTANT_MS && ms <= MAX_INSTANT_MS);
  },
  { message: "must fall between the years 0000 and 9999 in UTC" },
);

/**
 * An instant as Smartcar writes it: epoch milliseconds (the signal `meta` fields, per the responses page), epoch
 * seconds (some examples), or an ISO 8601 string with an offset (the VERIFY example's `deliveredAt`).
 * Numbers below 1e11 are read as seconds: 1e11 ms is March 1973, long before any Smartcar delivery, while 1e11 s is
 * the year 5138. Numbers stop at the end of year 9999 so the instant still has an ISO 8601 UTC form.
 */
export const Timestamp = z.union([z.number().nonnegative().max(MAX_INSTANT_MS), IsoInstant]);
export type Timestamp = z.infer<typeof Timestamp>;

/** Per-signal freshness: `oemUpdatedAt` is when the vehicle recorded the value, `retrievedAt` when Smartcar read it. */
export const SignalMeta = z
  .object({
    retrievedAt: Timestamp.optional(),
    oemUpdatedAt: Timestamp.optional(),
  })
  .loose();

/** `{ value: "SUCCESS" }`, or `{ value: "ERROR", error: { type, code } }` with no `body` (responses page). */
export const SignalStatus = z
  .object({
    value: z.string(),
    error: z.object({ type: z.string().optional(), code: z.string().nullable().optional() }).loose().optional(),
  })
  .loose();

// ---------------------------------------------------------------------------------------------------------------
// Bodies of the signals Dashlight maps. Units are typed with the values the signal pages document; a value outside
// the documented unit set is a schema violation rather than a silent mis-conversion.
// ---------------------------------------------------------------------------------------------------------------

/**
 * Percent signals (TractionBattery.StateOfCharge, InternalCombustionEngine.FuelLevel / OilLife): the signal pages
 * say "expressed as a percentage (0 - 100)" with `unit: "percent"`. The 0..1 fractions of the v2 REST API
 * (`percentRemaining`, seed smartcar-vehicles-openapi.txt) do not occur in webhook signal bodies, so no ×100 here.
 */
export const PercentBody = z
  .object({
    unit: z.literal("percent").optional(),
    value: z.number().min(0).max(100),
  })
  .loose();

/**
 * Distances (TractionBattery.Range, Odometer.TraveledDistance). The pages show `unit: "kilometers"`; miles follow
 * from the imperial unit system and the InternalCombustionEngine.Range page ("e.g., kilometers, miles").
 * A missing unit is read as kilometers, Smartcar's default unit system. The Range page also lists a required
 * `additionalValues` array that its own example omits: it is not required here.
 */
export const DistanceBody = z
  .object({
    unit: z.enum(["kilometers", "miles"]).optional(),
    value: z.number().nonnegative(),
  })
  .loose();

/** InternalCombustionEngine.AmountRemaining: "e.g., liters, gallons"; gallons are read as US gallons. */
export const VolumeBody = z
  .object({
    unit: z.enum(["liters", "gallons"]).optional(),
    value: z.number().nonnegative(),
  })
  .loose();

/** Charge.IsCharging, Charge.IsChargingCableConnected, Closure.IsLocked: `{ value: boolean }`. */
export const BooleanBody = z.object({ value: z.boolean() }).loose();

/**
 * Charge.ChargeLimits: `values[]` of `{ type: GLOBAL | LOCATION | CONNECTOR, limit (0-100), condition }` and
 * `activeLimit` (null when not plugged in). The example writes `type` lower-case while the table lists upper case,
 * so `type` is compared case-insensitively.
 */
export const ChargeLimitsBody = z
  .object({
    values: z
      .array(
        z
          .object({
            type: z.string(),
            limit: z.number().min(0).max(100).nullable().optional(),
            condition: z.unknown().optional(),
          })
          .loose(),
      )
      .optional(),
    activeLimit: z.number().min(0).max(100).nullable().optional(),
    unit: z.literal("percent").optional(),
  })
  .loose();

/** Location.PreciseLocation. `heading` is in degrees; its range is not documented (normalized to 0..360). */
export const PreciseLocationBody = z
  .object({
    latitude: z.number().min(-90).max(90),
    longitude: z.number().min(-180).max(180),
    heading: z.number().optional(),
    direction: z.string().optional(),
    locationType: z.string().optional(),
  })
  .loose();

/**
 * Diagnostics.DTCList: `values[]` of `{ code, timestamp }`. The REST DTC endpoint shows `timestamp: null` for codes
 * without a time, so null is accepted here too.
 */
export const DtcListBody = z
  .object({
    values: z.array(
      z
        .object({
          code: z.string().min(1),
          timestamp: IsoInstant.nullable().optional(),
        })
        .loose(),
    ),
  })
  .loose();

/**
 * Closure.Doors: `values[]` of `{ row, column, isOpen, isLocked }` plus `rowCount` / `columnCount`. The page does not
 * say which way rows and columns run; see `doorName` in the normalizer for the reading we take.
 */
export const DoorsBody = z
  .object({
    values: z.array(
      z
        .object({
          row: z.number().int().nonnegative(),
          column: z.number().int().nonnegative(),
          isOpen: z.boolean().optional(),
          isLocked: z.boolean().optional(),
        })
        .loose(),
    ),
    rowCount: z.number().int().nonnegative().optional(),
    columnCount: z.number().int().nonnegative().optional(),
  })
  .loose();

/**
 * The signal codes Dashlight maps, with their body schemas. Codes are `<group>-<name>` lower-cased (signals schema
 * page). Not mapped, because the pages we could read document no such body: Wheel tire pressures, Motion speed and
 * a low-voltage battery voltage (LowVoltageBattery documents only StateOfCharge and Status). Those codes, like any
 * other unmapped one, are reported as ignored.
 */
export const SIGNAL_BODIES = {
  "tractionbattery-stateofcharge": PercentBody,
  "tractionbattery-range": DistanceBody,
  "charge-ischarging": BooleanBody,
  "charge-ischargingcableconnected": BooleanBody,
  "charge-chargelimits": ChargeLimitsBody,
  "location-preciselocation": PreciseLocationBody,
  "odometer-traveleddistance": DistanceBody,
  "internalcombustionengine-fuellevel": PercentBody,
  "internalcombustionengine-amountremaining": VolumeBody,
  "internalcombustionengine-oillife": PercentBody,
  "diagnostics-dtclist": DtcListBody,
  "closure-islocked": BooleanBody,
  "closure-doors": DoorsBody,
} as const satisfies Record<string, z.ZodType>;

export type MappedSignalCode = keyof typeof SIGNAL_BODIES;
export type SignalBody<C extends MappedSignalCode> = z.infer<(typeof SIGNAL_BODIES)[C]>;

export const isMappedSignalCode = (code: string): code is MappedSignalCode => Object.hasOwn(SIGNAL_BODIES, code);

/** A signal whose status says it could not be read carries no body; only a successful one is validated. */
export const signalFailed = (status: z.infer<typeof SignalStatus> | undefined): boolean =>
  status !== undefined && status.value !== "SUCCESS";

/**
 * One entry of `data.signals`. The body of a mapped code is validated against its schema, and its issues are
 * reported under `data.signals[i].body…`, so a wrong type deep in a body names the exact field.
 */
export const SmartcarSignal = z
  .object({
    code: z.string().min(1),
    name: z.string().optional(),
    group: z.string().optional(),
    body: z.unknown().optional(),
    status: SignalStatus.optional(),
    meta: SignalMeta.optional(),
  })
  .loose()
  .superRefine((signal, ctx) => {
    if (!isMappedSignalCode(signal.code) || signalFailed(signal.status) || signal.body === undefined) return;
    const result = SIGNAL_BODIES[signal.code].safeParse(signal.body);
    if (result.success) return;
    for (const issue of result.error.issues) {
      ctx.addIssue({ code: "custom", message: issue.message, path: ["body", ...issue.path] });
    }
  });
export type SmartcarSignal = z.infer<typeof SmartcarSignal>;

/** A trigger names the signal whose change fired the delivery, either nested (`signal.code`) or flat (`code`). */
export const SmartcarTrigger = z
  .object({
    type: z.string().optional(),
    code: z.string().optional(),
    name: z.string().optional(),
    group: z.string().optional(),
    signal: z
      .object({ code: z.string(), name: z.string().optional(), group: z.string().optional() })
      .loose()
      .optional(),
  })
  .loose();
export type SmartcarTrigger = z.infer<typeof SmartcarTrigger>;

/**
 * Vehicle ids are UUIDs in every example; anything without whitespace (and not starting with ":") is accepted so the
 * canonical id `smartcar:<id>` is always well formed.
 */
export const SmartcarVehicle = z
  .object({
    id: z.string().regex(/^[^\s:]\S*$/, { message: "must be a Smartcar vehicle id without whitespace" }),
    make: z.string().optional(),
    model: z.string().optional(),
    year: z.number().int().optional(),
    vin: z.string().optional(),
  })
  .loose();

export const SmartcarUser = z.object({ id: z.string() }).loose();

/** `meta` of a delivery. Only `deliveredAt` is used (as a fallback observation time); everything is optional. */
export const DeliveryMeta = z
  .object({
    version: z.string().optional(),
    deliveryId: z.string().optional(),
    deliveredAt: Timestamp.optional(),
    webhookId: z.string().optional(),
    webhookName: z.string().optional(),
    signalCount: z.number().int().nonnegative().optional(),
    mode: z.string().optional(),
  })
  .loose();

/** What every delivery has: enough to name it and to choose the schema for the rest. */
export const SmartcarEnvelope = z
  .object({
    // The delivery's archive key is built from it: bounded so it stays within DynamoDB's key size (a 400, not a 500).
    eventId: z.string().min(1).max(200),
    eventType: z.string().min(1).max(100),
  })
  .loose();

export const SmartcarVerify = z
  .object({
    eventId: z.string().min(1),
    eventType: z.literal("VERIFY"),
    data: z.object({ challenge: z.string().min(1) }).loose(),
    meta: DeliveryMeta.optional(),
  })
  .loose();
export type SmartcarVerify = z.infer<typeof SmartcarVerify>;

export const SmartcarVehicleState = z
  .object({
    eventId: z.string().min(1),
    eventType: z.literal("VEHICLE_STATE"),
    data: z
      .object({
        user: SmartcarUser.optional(),
        vehicle: SmartcarVehicle,
        signals: z.array(SmartcarSignal),
        triggers: z.array(SmartcarTrigger).optional(),
      })
      .loose(),
    triggers: z.array(SmartcarTrigger).optional(),
    meta: DeliveryMeta.optional(),
  })
  .loose();
export type SmartcarVehicleState = z.infer<typeof SmartcarVehicleState>;

/**
 * One error of a VEHICLE_ERROR delivery. The vehicle-error page documents the categories (`type` / `code`, code null
 * for PERMISSION) and a `state` of ERROR or RESOLVED, but the stored copy we could read shows no complete JSON
 * example; the other fields are read leniently and everything beyond `type` is optional. A missing `state` is read
 * as ERROR.
 */
export const SmartcarVehicleErrorEntry = z
  .object({
    type: z.string().min(1),
    code: z.string().nullable().optional(),
    state: z.enum(["ERROR", "RESOLVED"]).optional(),
    description: z.string().optional(),
    suggestedUserMessage: z.string().optional(),
    signals: z.array(z.object({ code: z.string() }).loose()).optional(),
  })
  .loose();
export type SmartcarVehicleErrorEntry = z.infer<typeof SmartcarVehicleErrorEntry>;

export const SmartcarVehicleError = z
  .object({
    eventId: z.string().min(1),
    eventType: z.literal("VEHICLE_ERROR"),
    data: z
      .object({
        user: SmartcarUser.optional(),
        vehicle: SmartcarVehicle,
        errors: z.array(SmartcarVehicleErrorEntry).min(1),
      })
      .loose(),
    meta: DeliveryMeta.optional(),
  })
  .loose();
export type SmartcarVehicleError = z.infer<typeof SmartcarVehicleError>;
