import * as z from "zod";

/** A geographic position. Personal data: never log it. */
export const Location = z.object({
  lat: z.number().min(-90).max(90),
  lon: z.number().min(-180).max(180),
  accuracy_m: z.number().nonnegative().optional(),
  heading: z.number().min(0).max(360).optional(),
});
export type Location = z.infer<typeof Location>;

/** A diagnostic trouble code as the vehicle reported it. */
export const Dtc = z.object({
  code: z.string().min(1),
  description: z.string().optional(),
  occurredAt: z.iso.datetime().optional(),
});
export type Dtc = z.infer<typeof Dtc>;

export const ChargeState = z.enum(["charging", "not_charging", "fully_charged"]);
export type ChargeState = z.infer<typeof ChargeState>;

export const DoorState = z.enum(["open", "closed"]);

/**
 * The value schema of every canonical signal. SI units, the unit in the name.
 * Providers disagree on units and ranges; the normalizers convert to these.
 */
export const SignalValues = {
  speed_kph: z.number().nonnegative(),
  location: Location,
  odometer_km: z.number().nonnegative(),
  soc_pct: z.number().min(0).max(100),
  range_km: z.number().nonnegative(),
  is_plugged_in: z.boolean(),
  charge_state: ChargeState,
  charge_limit_pct: z.number().min(0).max(100),
  fuel_pct: z.number().min(0).max(100),
  fuel_l: z.number().nonnegative(),
  oil_life_pct: z.number().min(0).max(100),
  dtcs: z.array(Dtc),
  mil_on: z.boolean(),
  is_locked: z.boolean(),
  doors: z.record(z.string(), DoorState),
  tire_pressure_kpa: z.record(z.string(), z.number().nonnegative()),
  battery_12v_v: z.number().nonnegative(),
  ignition_on: z.boolean(),
} as const;

export type SignalName = keyof typeof SignalValues;
export const SIGNAL_NAMES = Object.keys(SignalValues) as SignalName[];
export type SignalValue<K extends SignalName> = z.infer<(typeof SignalValues)[K]>;

/** Values of any subset of signals, all observed at one time. */
export const SignalSet = z.object(SignalValues).partial().strict();
export type SignalSet = z.infer<typeof SignalSet>;

/**
 * Signal values with the time each was observed. Providers such as Smartcar
 * report a time per signal, so one event may carry samples of different ages.
 */
const sampleOf = <T extends z.ZodType>(value: T) => z.object({ value, observedAt: z.iso.datetime() }).strict();

export const SignalSamples = z
  .object({
    speed_kph: sampleOf(SignalValues.speed_kph),
    location: sampleOf(SignalValues.location),
    odometer_km: sampleOf(SignalValues.odometer_km),
    soc_pct: sampleOf(SignalValues.soc_pct),
    range_km: sampleOf(SignalValues.range_km),
    is_plugged_in: sampleOf(SignalValues.is_plugged_in),
    charge_state: sampleOf(SignalValues.charge_state),
    charge_limit_pct: sampleOf(SignalValues.charge_limit_pct),
    fuel_pct: sampleOf(SignalValues.fuel_pct),
    fuel_l: sampleOf(SignalValues.fuel_l),
    oil_life_pct: sampleOf(SignalValues.oil_life_pct),
    dtcs: sampleOf(SignalValues.dtcs),
    mil_on: sampleOf(SignalValues.mil_on),
    is_locked: sampleOf(SignalValues.is_locked),
    doors: sampleOf(SignalValues.doors),
    tire_pressure_kpa: sampleOf(SignalValues.tire_pressure_kpa),
    battery_12v_v: sampleOf(SignalValues.battery_12v_v),
    ignition_on: sampleOf(SignalValues.ignition_on),
  })
  .partial()
  .strict();
export type SignalSamples = z.infer<typeof SignalSamples>;
export type SignalSample<K extends SignalName> = { value: SignalValue<K>; observedAt: string };
