/** The provider-neutral vehicle commands rules can ask for and providers may support. */
export const VEHICLE_COMMANDS = [
  "lock",
  "unlock",
  "start_charge",
  "stop_charge",
  "set_charge_limit",
  "set_destination",
  "open_trunk",
  "open_frunk",
] as const;
export type VehicleCommand = (typeof VEHICLE_COMMANDS)[number];
