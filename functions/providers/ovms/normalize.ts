import type { ChargeState, SignalSamples } from "#core/model/signals.ts";
import { milesToKm, psiToKpa, round3 } from "#core/units/convert.ts";
import { ProviderResponseInvalidError } from "../http/errors.ts";
import type { OvmsCharge, OvmsLocation, OvmsStatus, OvmsTpms, OvmsValue } from "./schema.ts";

/** The responses of one poll; any may be missing when the car never reported that record. */
export type OvmsReadings = { status: OvmsStatus; charge?: OvmsCharge; location?: OvmsLocation; tpms?: OvmsTpms };

/** A number from an OVMS value ("85.0", 85, "" or absent). */
export const ovmsNumber = (value: OvmsValue): number | undefined => {
  if (value == null || value === "") return undefined;
  const n = typeof value === "number" ? value : Number(value);
  return Number.isFinite(n) ? n : undefined;
};

const flag = (value: OvmsValue): boolean | undefined => {
  const n = ovmsNumber(value);
  return n === undefined ? undefined : n !== 0;
};

/**
 * When the record behind some fields was observed: `now − m_msgage_<x>` (the server's age is relative to
 * the moment it answered, which is within the poll's timeout of `now`); failing that, `m_msgtime_<x>`.
 * Without either we do not know when the car said it, so those fields yield no samples at all rather
 * than pretending to be fresh.
 */
export const observedAtOf = (record: Record<string, unknown>, type: string, now: Date): string | undefined => {
  const age = ovmsNumber(record[`m_msgage_${type}`] as OvmsValue);
  if (age !== undefined && age >= 0) return new Date(now.getTime() - age * 1000).toISOString();
  const time = record[`m_msgtime_${type}`];
  if (typeof time === "string" && /^\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d/.test(time)) {
    const parsed = Date.parse(`${time.replace(" ", "T").replace(/Z$/, "")}Z`);
    if (!Number.isNaN(parsed)) return new Date(parsed).toISOString();
  }
  return undefined;
};

/** OVMS charge states (vehicle modules use these strings) → canonical. */
const chargeStateOf = (value: OvmsValue): ChargeState | undefined => {
  if (typeof value !== "string" || value === "") return undefined;
  if (value === "charging" || value === "topoff") return "charging";
  if (value === "done") return "fully_charged";
  return "not_charging";
};

const WHEELS: Record<string, string> = { fl: "front_left", fr: "front_right", rl: "rear_left", rr: "rear_right" };

/**
 * The vehicle's configured distance unit, from the status (`units`: "K" or "M"). An unknown value is
 * an error, not a guess: a wrong unit silently corrupts odometer, range and speed by a factor of 1.6.
 */
const distanceConverter = (units: OvmsValue): ((value: number) => number) => {
  if (units === "K") return round3;
  if (units === "M") return milesToKm;
  throw new ProviderResponseInvalidError("ovms", `units ${JSON.stringify(units)} is neither "K" nor "M"`);
};

/**
 * One OVMS poll → canonical samples, each stamped with the age of the protocol record it came from.
 * Distances and speeds follow the vehicle's `units` (miles → km); the odometer arrives in tenths of a
 * unit, as in the OVMS protocol; tyre pressures prefer V3's kPa and convert V2's PSI.
 *
 * @example normalizeOvms({ status: { soc: "80", units: "K", m_msgage_s: 30 } }, now).soc_pct // { value: 80, observedAt: now − 30 s }
 */
export const normalizeOvms = (readings: OvmsReadings, now: Date): SignalSamples => {
  const { status, charge, location, tpms } = readings;
  const signals: SignalSamples = {};
  const units = status.units ?? charge?.units;
  const sAt = observedAtOf(status, "s", now);
  const dAt = observedAtOf(status, "d", now);

  const hasDistances = [status.estimatedrange, status.odometer, status.speed].some((x) => ovmsNumber(x) !== undefined);
  const km = hasDistances ? distanceConverter(units) : round3;

  if (sAt) {
    const soc = ovmsNumber(status.soc);
    if (soc !== undefined) signals.soc_pct = { value: Math.min(100, Math.max(0, round3(soc))), observedAt: sAt };
    const range = ovmsNumber(status.estimatedrange);
    if (range !== undefined) signals.range_km = { value: km(Math.max(0, range)), observedAt: sAt };
    const state = chargeStateOf(status.chargestate ?? charge?.chargestate);
    if (state) signals.charge_state = { value: state, observedAt: sAt };
  }
  if (charge) {
    const at = observedAtOf(charge, "s", now);
    const limit = ovmsNumber(charge.charge_limit_soc);
    // 0 means "no SOC limit set" in OVMS, not "charge to 0%".
    if (at && limit !== undefined && limit > 0) {
      signals.charge_limit_pct = { value: Math.min(100, round3(limit)), observedAt: at };
    }
  }
  if (dAt) {
    const odometer = ovmsNumber(status.odometer);
    if (odometer !== undefined) signals.odometer_km = { value: km(Math.max(0, odometer) / 10), observedAt: dAt };
    const speed = ovmsNumber(status.speed);
    if (speed !== undefined) signals.speed_kph = { value: km(Math.max(0, speed)), observedAt: dAt };
    const locked = flag(status.carlocked);
    if (locked !== undefined) signals.is_locked = { value: locked, observedAt: dAt };
    const on = flag(status.caron);
    if (on !== undefined) signals.ignition_on = { value: on, observedAt: dAt };
    const plugged = flag(status.pilotpresent);
    if (plugged !== undefined) signals.is_plugged_in = { value: plugged, observedAt: dAt };
    const volts = ovmsNumber(status.vehicle12v);
    if (volts !== undefined) signals.battery_12v_v = { value: round3(volts), observedAt: dAt };
    const doors: Record<string, "open" | "closed"> = {};
    for (const [field, door] of [
      ["fl_dooropen", "front_left"],
      ["fr_dooropen", "front_right"],
      ["tr_open", "trunk"],
      ["bt_open", "hood"],
      ["cp_dooropen", "charge_port"],
    ] as const) {
      const open = flag(status[field]);
      if (open !== undefined) doors[door] = open ? "open" : "closed";
    }
    if (Object.keys(doors).length > 0) signals.doors = { value: doors, observedAt: dAt };
  }
  if (location) {
    const at = observedAtOf(location, "l", now);
    const lat = ovmsNumber(location.latitude);
    const lon = ovmsNumber(location.longitude);
    const heading = ovmsNumber(location.direction);
    // 0,0 is what a module without a fix reports, not a position in the Gulf of Guinea.
    if (at && lat !== undefined && lon !== undefined && !(lat === 0 && lon === 0)) {
      signals.location = {
        value: { lat, lon, ...(heading === undefined ? {} : { heading: ((heading % 360) + 360) % 360 }) },
        observedAt: at,
      };
    }
  }
  if (tpms) {
    // V3 modules send Y records and copy them to W; V2 modules send W only.
    const at = observedAtOf(tpms, "y", now) ?? observedAtOf(tpms, "w", now);
    const stale = ovmsNumber((tpms.stale_pressure ?? tpms.staletpms) as OvmsValue);
    const pressures = tyrePressures(tpms);
    if (at && stale !== -1 && Object.keys(pressures).length > 0) {
      signals.tire_pressure_kpa = { value: pressures, observedAt: at };
    }
  }
  return signals;
};

const tyrePressures = (tpms: OvmsTpms): Record<string, number> => {
  const pressures: Record<string, number> = {};
  for (const key of Object.keys(tpms)) {
    const match = /^(.+)_pressure(_kpa)?$/.exec(key);
    if (!match?.[1]) continue;
    const wheel = WHEELS[match[1]] ?? match[1];
    const kpaKey = `${match[1]}_pressure_kpa`;
    const kpa = ovmsNumber(tpms[kpaKey] as OvmsValue);
    const psi = ovmsNumber(tpms[`${match[1]}_pressure`] as OvmsValue);
    const value = kpa !== undefined ? round3(kpa) : psi !== undefined ? psiToKpa(psi) : undefined;
    if (value !== undefined && value >= 0) pressures[wheel] = value;
  }
  return pressures;
};
