import * as z from "zod";

/*
 * OVMS server HTTP API responses, from ../shared/seeds/ovms-server-http-api.txt. The server passes
 * the car's protocol records through, so numbers often arrive as strings ("85.0") and may be empty
 * when the car never sent them; `OvmsValue` accepts both and the normalizer reads them. Every field
 * is optional: which ones a car reports depends on the vehicle type and module version.
 * Staleness: `m_msgage_<x>` is the age in seconds (and `m_msgtime_<x>` the UTC time, "YYYY-MM-DD hh:mm:ss")
 * of the last protocol message of type x the fields came from: S status, D doors/environment,
 * L location, W/Y tyre pressures.
 */

export const OvmsValue = z.union([z.number(), z.string()]).nullish();
export type OvmsValue = z.infer<typeof OvmsValue>;

const v = OvmsValue;
const staleness = (...types: string[]) =>
  Object.fromEntries(types.flatMap((t) => [[`m_msgage_${t}`, v] as const, [`m_msgtime_${t}`, v] as const]));

/** GET /api/vehicles */
export const OvmsVehicleList = z.array(
  z.object({ id: z.string().min(1), v_net_connected: v, v_apps_connected: v, v_btcs_connected: v }),
);
export type OvmsVehicleList = z.infer<typeof OvmsVehicleList>;

/** GET /api/vehicle/<id>: connects the API session to the car. */
export const OvmsVehicleConnect = z.object({
  ...staleness("s"),
  v_apps_connected: v,
  v_btcs_connected: v,
  v_first_peer: v,
  v_net_connected: v,
});
export type OvmsVehicleConnect = z.infer<typeof OvmsVehicleConnect>;

/** GET /api/status/<id> (S and D records). `units` is "K" (km, km/h) or "M" (miles, mph). */
export const OvmsStatus = z.object({
  soc: v,
  units: v,
  idealrange: v,
  estimatedrange: v,
  chargestate: v,
  fl_dooropen: v,
  fr_dooropen: v,
  cp_dooropen: v,
  bt_open: v,
  tr_open: v,
  pilotpresent: v,
  charging: v,
  caron: v,
  carlocked: v,
  valetmode: v,
  tripmeter: v,
  odometer: v,
  speed: v,
  vehicle12v: v,
  ...staleness("s", "d"),
});
export type OvmsStatus = z.infer<typeof OvmsStatus>;

/** GET /api/charge/<id> (S and D records). */
export const OvmsCharge = z.object({
  soc: v,
  units: v,
  chargestate: v,
  chargesubstate: v,
  chargelimit: v,
  charge_limit_soc: v,
  charge_limit_range: v,
  estimatedrange: v,
  pilotpresent: v,
  charging: v,
  cp_dooropen: v,
  vehicle12v: v,
  ...staleness("s", "d"),
});
export type OvmsCharge = z.infer<typeof OvmsCharge>;

/** GET /api/location/<id> (L record). `direction` is the heading in degrees. */
export const OvmsLocation = z.object({
  latitude: v,
  longitude: v,
  direction: v,
  altitude: v,
  gpslock: v,
  stalegps: v,
  speed: v,
  ...staleness("l"),
});
export type OvmsLocation = z.infer<typeof OvmsLocation>;

/**
 * GET /api/tpms/<id>: per wheel `<wheel>_pressure` (PSI) and, on V3 modules, `<wheel>_pressure_kpa`;
 * staleness -1 undefined, 0 stale, 1 valid. Wheel names depend on the vehicle, so any key is accepted.
 */
export const OvmsTpms = z.record(z.string(), z.union([z.number(), z.string(), z.null()]));
export type OvmsTpms = z.infer<typeof OvmsTpms>;

/** GET /api/historical/<id> */
export const OvmsHistoricalSummary = z.array(
  z.object({
    h_recordtype: z.string(),
    distinctrecs: v,
    totalrecs: v,
    totalsize: v,
    first: z.string().nullish(),
    last: z.string().nullish(),
  }),
);
export type OvmsHistoricalSummary = z.infer<typeof OvmsHistoricalSummary>;

/** GET /api/historical/<id>/<recordtype>: ordered by h_timestamp, then h_recordnumber. */
export const OvmsHistoricalRecords = z.array(
  z.object({ h_timestamp: z.string(), h_recordnumber: v, h_data: z.string().nullish() }),
);
export type OvmsHistoricalRecords = z.infer<typeof OvmsHistoricalRecords>;
