import * as z from "zod";

/**
 * Smartcar Vehicles API v2.0 REST responses, as the seed (../shared/seeds/smartcar-vehicles-openapi.txt) documents
 * them. Where the seed is silent we follow Smartcar's own v2.0 API reference, and say so beside the field:
 *   - /batch: the seed types `responses[]` as bare objects; Smartcar's batch page documents each as
 *     `{ path, code, headers: { "sc-data-age", "sc-unit-system" }, body }`.
 *   - `GET /vehicles` (the user's vehicle ids) is not in the seed; its shape is `{ vehicles: string[], paging }`.
 *   - The Error schema's `resolution` is a bare enum string in the seed; Smartcar's v2.0 error pages write it as
 *     `{ type: <enum> }`. Both are read, and an unknown value is kept as is rather than failing the error path.
 *
 * Reads are lenient where a strict reading would throw away a whole poll for one odd value: fractions are checked
 * against 0..1 (not the seed's 0.5 minimum for charge limits; that minimum is enforced when *setting* a limit).
 * Unknown fields are kept (`.loose()`).
 */

const Fraction = z.number().min(0).max(1);
const NonNegative = z.number().nonnegative();

export const RESOLUTIONS = ["RETRY_LATER", "REAUTHENTICATE", "CONTACT_SUPPORT"] as const;
export type SmartcarResolution = (typeof RESOLUTIONS)[number];

/** The seed's `Error` schema. Every field is optional: a gateway 5xx may carry no Smartcar body at all. */
export const SmartcarErrorBody = z
  .object({
    type: z.string().optional(),
    code: z.string().nullable().optional(),
    title: z.string().optional(),
    detail: z.string().optional(),
    description: z.string().optional(),
    status: z.number().int().optional(),
    resolution: z
      .union([z.string(), z.object({ type: z.string().nullable().optional() }).loose()])
      .nullable()
      .optional()
      .transform((value) => (typeof value === "string" ? value : (value?.type ?? undefined))),
    suggestedUserMessage: z.string().optional(),
    requestId: z.string().optional(),
  })
  .loose();
export type SmartcarErrorBody = z.infer<typeof SmartcarErrorBody>;

export const Battery = z.object({ percentRemaining: Fraction, range: NonNegative }).loose();
export const ChargeStatus = z
  .object({ isPluggedIn: z.boolean(), state: z.enum(["CHARGING", "FULLY_CHARGED", "NOT_CHARGING"]) })
  .loose();
export const ChargeLimit = z.object({ limit: Fraction }).loose();
export const SecurityStatus = z
  .object({
    isLocked: z.boolean(),
    doors: z
      .array(z.object({ type: z.string().optional(), status: z.enum(["LOCKED", "UNLOCKED", "UNKNOWN"]) }).loose())
      .optional(),
  })
  .loose();
export const Location = z.object({ latitude: z.number().min(-90).max(90), longitude: z.number().min(-180).max(180) });
export const Odometer = z.object({ distance: NonNegative }).loose();
export const FuelTank = z
  .object({ percentRemaining: Fraction, amountRemaining: NonNegative.optional(), range: NonNegative.optional() })
  .loose();
export const EngineOil = z.object({ lifeRemaining: Fraction }).loose();
/** The seed types `timestamp` as date-time; Smartcar's DTC page shows `null` for codes without a time. */
export const DiagnosticCodes = z
  .object({
    activeCodes: z.array(
      z.object({ code: z.string().min(1), timestamp: z.iso.datetime({ offset: true }).nullable().optional() }).loose(),
    ),
  })
  .loose();
export const Permissions = z.object({ permissions: z.array(z.string()) }).loose();

/** The signal endpoints a poll reads, with the schema of each body. Paths are relative to /vehicles/{id}. */
export const DATA_PATHS = {
  "/battery": Battery,
  "/charge": ChargeStatus,
  "/charge/limit": ChargeLimit,
  "/security": SecurityStatus,
  "/location": Location,
  "/odometer": Odometer,
  "/fuel": FuelTank,
  "/engine/oil": EngineOil,
  "/diagnostics/dtcs": DiagnosticCodes,
} as const satisfies Record<string, z.ZodType>;
export type DataPath = keyof typeof DATA_PATHS;
export type DataBody<P extends DataPath> = z.infer<(typeof DATA_PATHS)[P]>;
export const isDataPath = (path: string): path is DataPath => Object.hasOwn(DATA_PATHS, path);

/** Headers Smartcar adds to data responses (and repeats per item inside a batch). */
export const DATA_AGE_HEADER = "sc-data-age";
export const UNIT_SYSTEM_HEADER = "sc-unit-system";
export const REQUEST_ID_HEADER = "sc-request-id";

export const BatchRequest = z.object({ requests: z.array(z.object({ path: z.string().min(1) })).min(1) });
export type BatchRequest = z.infer<typeof BatchRequest>;

export const BatchItem = z
  .object({
    path: z.string(),
    code: z.number().int(),
    headers: z.record(z.string(), z.string()).optional(),
    body: z.unknown().optional(),
  })
  .loose();
export type BatchItem = z.infer<typeof BatchItem>;
export const BatchResponse = z.object({ responses: z.array(BatchItem) }).loose();

export const CommandResultBody = z
  .object({ status: z.enum(["success", "error", "pending"]), message: z.string().optional() })
  .loose();
export type CommandResultBody = z.infer<typeof CommandResultBody>;

/** `GET /vehicles`: the ids of the vehicles the access token may reach (not in the seed; Smartcar v2.0 shape). */
export const VehicleIds = z
  .object({
    vehicles: z.array(z.string().min(1)),
    paging: z.object({ count: z.number().int().nonnegative(), offset: z.number().int().nonnegative() }).loose(),
  })
  .loose();
export type VehicleIds = z.infer<typeof VehicleIds>;

/** The seed's `Vehicle`: attributes of one vehicle. The VIN is read but must never be logged. */
export const VehicleAttributes = z
  .object({
    id: z.string().min(1),
    make: z.string().optional(),
    model: z.string().optional(),
    year: z.number().int().optional(),
    vin: z.string().optional(),
  })
  .loose();
export type VehicleAttributes = z.infer<typeof VehicleAttributes>;

/** Bodies of the commands the client sends. */
export const ChargeCommandBody = z.object({ action: z.enum(["START", "STOP"]) });
export const SecurityCommandBody = z.object({ action: z.enum(["LOCK", "UNLOCK"]) });
export const ChargeLimitCommandBody = z.object({ limit: z.number().min(0.5).max(1) });
export const SetDestinationBody = z.object({
  latitude: z.number().min(-90).max(90),
  longitude: z.number().min(-180).max(180),
  address: z.string().optional(),
});
