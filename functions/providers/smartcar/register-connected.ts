import { type Vehicle, vehicleIdOf } from "#core/model/vehicle.ts";
import { registerVehicle, type VehicleRegistrationPorts } from "#core/vehicles/register-vehicle.ts";
import type { ConnectedSmartcarVehicle } from "./oauth.ts";

/** "2022 TESLA Model 3" from the attributes Smartcar returned; never the VIN. */
export const smartcarDisplayName = (vehicle: ConnectedSmartcarVehicle): string =>
  [vehicle.year, vehicle.make, vehicle.model].filter((part) => part !== undefined && part !== "").join(" ") ||
  "Smartcar vehicle";

/**
 * Registers the vehicles one Connect granted, under the credentials it stored, with the given time zone and tags
 * (the invite's), and puts each on the poll schedule. A vehicle registered before (an owner reconnecting) keeps its
 * name, tags, time zone, contacts and creation time: only its credentials change, and its polling resumes (any
 * needs-reauth mark is cleared).
 *
 * @example await registerConnectedSmartcarVehicles({ vehicles, credentialsRef, timeZone: "UTC", tags: [], now }, ports)
 */
export const registerConnectedSmartcarVehicles = async (
  input: {
    vehicles: readonly ConnectedSmartcarVehicle[];
    credentialsRef: string;
    timeZone: string;
    tags: readonly string[];
    now: Date;
  },
  ports: VehicleRegistrationPorts & { getVehicle(id: Vehicle["id"]): Promise<Vehicle | undefined> },
): Promise<Vehicle[]> => {
  const registered: Vehicle[] = [];
  for (const connected of input.vehicles) {
    const id = vehicleIdOf("smartcar", connected.id);
    const existing = await ports.getVehicle(id);
    const vehicle = {
      id,
      provider: "smartcar",
      providerVehicleId: connected.id,
      displayName: existing?.displayName ?? smartcarDisplayName(connected),
      tags: existing?.tags ?? [...input.tags],
      timeZone: existing?.timeZone ?? input.timeZone,
      contacts: existing?.contacts ?? [],
      credentialsRef: input.credentialsRef,
      createdAt: existing?.createdAt ?? input.now.toISOString(),
    } satisfies Vehicle;
    await registerVehicle(vehicle, ports, { poll: true, now: input.now });
    registered.push(vehicle);
  }
  return registered;
};
