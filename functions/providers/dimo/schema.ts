import * as z from "zod";

/*
 * DIMO response bodies, from ../shared/seeds/dimo-devices-api.txt and dimo-device-data-api.txt.
 * The seed names the endpoints and their auth but shows no body for vehicle status, the token
 * exchange, commands or geofences; where it is silent these follow DIMO's public devices-api
 * and token-exchange-api (DeviceSnapshot, `{ token }`, geofence `h3Indexes`). Every field the
 * vehicle may not report is optional and nullable, and unknown fields pass: DIMO adds fields
 * without notice and integrations report different subsets.
 */

const num = z.number().nullish();

/** Tire pressures as DIMO normalizes them: kPa. */
export const DimoTires = z.object({
  frontLeft: num,
  frontRight: num,
  backLeft: num,
  backRight: num,
});

/**
 * GET /v1/vehicle/{tokenId}/status (privilege token). DIMO normalizes every integration to
 * metric: odometer and range in km, speed in km/h, tires in kPa; soc, fuelPercentRemaining,
 * oil and chargeLimit are fractions 0..1. `timestamp` is when the vehicle reported them.
 */
export const DimoVehicleStatus = z.object({
  charging: z.boolean().nullish(),
  fuelPercentRemaining: num,
  batteryCapacity: num,
  oil: num,
  odometer: num,
  range: num,
  soc: num,
  chargeLimit: num,
  batteryVoltage: num,
  ambientTemp: num,
  latitude: num,
  longitude: num,
  speed: num,
  tires: DimoTires.nullish(),
  timestamp: z.iso.datetime({ offset: true }).nullish(),
  recordUpdatedAt: z.iso.datetime({ offset: true }).nullish(),
  recordCreatedAt: z.iso.datetime({ offset: true }).nullish(),
});
export type DimoVehicleStatus = z.infer<typeof DimoVehicleStatus>;

/**
 * GET /v1/vehicle/{tokenId}/history?startDate&endDate: status records as stored (CloudEvents in an
 * Elasticsearch hit list), each with the same fields as the status under `data`.
 */
export const DimoVehicleHistory = z.object({
  hits: z.object({
    hits: z.array(
      z.object({
        _source: z.object({
          data: DimoVehicleStatus,
          time: z.iso.datetime({ offset: true }).nullish(),
        }),
      }),
    ),
  }),
});
export type DimoVehicleHistory = z.infer<typeof DimoVehicleHistory>;

/** POST {tokenExchange}/v1/tokens/exchange → the privilege token (a short-lived JWT). */
export const DimoPrivilegeToken = z.object({ token: z.string().min(1) });

/** POST /v1/vehicle/{tokenId}/commands/… → the id DIMO tracks the command under. */
export const DimoCommandAccepted = z.object({ operationId: z.string().min(1).optional() }).nullish();

export const DIMO_GEOFENCE_TYPES = ["PrivacyFence", "TriggerEntry", "TriggerExit"] as const;
export const DimoGeofenceType = z.enum(DIMO_GEOFENCE_TYPES);
export type DimoGeofenceType = z.infer<typeof DimoGeofenceType>;

/** A user geofence: a set of H3 cells, optionally attached to user devices. */
export const DimoGeofence = z.object({
  id: z.string().min(1),
  name: z.string(),
  type: DimoGeofenceType,
  h3Indexes: z.array(z.string()),
  userDevices: z.array(z.object({ userDeviceId: z.string(), name: z.string().nullish() })).nullish(),
  createdAt: z.iso.datetime({ offset: true }).nullish(),
  updatedAt: z.iso.datetime({ offset: true }).nullish(),
});
export type DimoGeofence = z.infer<typeof DimoGeofence>;
export const DimoGeofenceList = z.array(DimoGeofence);
export const DimoGeofenceCreated = z.object({ id: z.string().min(1) });

/** What we send to create or update a geofence. */
export type DimoGeofenceInput = {
  name: string;
  type: DimoGeofenceType;
  h3Indexes: readonly string[];
  userDeviceIds?: readonly string[];
};

/** DIMO's error body: `{ code, message }`. */
export const DimoErrorBody = z.object({ code: z.number(), message: z.string() });
