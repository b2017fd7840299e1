import type { SignalSamples } from "#core/model/signals.ts";
import { fractionToPct, round3, toIsoUtc } from "#core/units/convert.ts";
import type { DimoVehicleHistory, DimoVehicleStatus } from "./schema.ts";

const TIRES = { frontLeft: "front_left", frontRight: "front_right", backLeft: "rear_left", backRight: "rear_right" };

const clampPct = (pct: number): number => Math.min(100, Math.max(0, pct));

/**
 * DIMO vehicle status → canonical samples. DIMO is metric already; its fractions become percent.
 * All values share the status `timestamp` (when the vehicle reported them), falling back to
 * `recordUpdatedAt`; a status with neither yields no samples rather than pretending they are fresh.
 *
 * @example normalizeDimoStatus({ soc: 0.8, timestamp: "2026-01-01T00:00:00Z" }).soc_pct // { value: 80, observedAt: "2026-01-01T00:00:00.000Z" }
 */
export const normalizeDimoStatus = (status: DimoVehicleStatus, fallbackTime?: string | null): SignalSamples => {
  const time = status.timestamp ?? status.recordUpdatedAt ?? fallbackTime;
  if (time == null) return {};
  const observedAt = toIsoUtc(time);
  const at = <T>(value: T) => ({ value, observedAt });
  const signals: SignalSamples = {};
  if (status.speed != null) signals.speed_kph = at(round3(Math.max(0, status.speed)));
  if (status.latitude != null && status.longitude != null) {
    signals.location = at({ lat: status.latitude, lon: status.longitude });
  }
  if (status.odometer != null) signals.odometer_km = at(round3(status.odometer));
  if (status.soc != null) signals.soc_pct = at(clampPct(fractionToPct(status.soc)));
  if (status.range != null) signals.range_km = at(round3(status.range));
  if (status.charging != null) signals.charge_state = at(status.charging ? "charging" : "not_charging");
  if (status.chargeLimit != null) signals.charge_limit_pct = at(clampPct(fractionToPct(status.chargeLimit)));
  if (status.fuelPercentRemaining != null) signals.fuel_pct = at(clampPct(fractionToPct(status.fuelPercentRemaining)));
  if (status.oil != null) signals.oil_life_pct = at(clampPct(fractionToPct(status.oil)));
  if (status.batteryVoltage != null) signals.battery_12v_v = at(round3(status.batteryVoltage));
  if (status.tires) {
    const pressures: Record<string, number> = {};
    for (const [dimo, canonical] of Object.entries(TIRES)) {
      const kpa = status.tires[dimo as keyof typeof TIRES];
      if (kpa != null) pressures[canonical] = round3(kpa);
    }
    if (Object.keys(pressures).length > 0) signals.tire_pressure_kpa = at(pressures);
  }
  return signals;
};

/** One history record: when it was observed and the samples it holds. */
export type DimoHistorySample = { observedAt: string; signals: SignalSamples };

/** History records → canonical samples, oldest first; records without any time are dropped. */
export const normalizeDimoHistory = (history: DimoVehicleHistory): DimoHistorySample[] =>
  history.hits.hits
    .map(({ _source }) => normalizeDimoStatus(_source.data, _source.time))
    .flatMap((signals) => {
      const first = Object.values(signals)[0];
      return first ? [{ observedAt: first.observedAt, signals }] : [];
    })
    .sort((a, b) => a.observedAt.localeCompare(b.observedAt));
