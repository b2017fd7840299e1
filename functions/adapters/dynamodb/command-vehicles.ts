import type { CommandVehicles } from "#core/dispatch/ports.ts";
import type { VehicleStore } from "#core/events/ports.ts";

/**
 * What a command needs about its vehicle, from the same strongly consistent
 * read the evaluator uses. The registration has no credentials reference yet:
 * until it has one, a vehicle's credentials are named by its id.
 */
export class StoredCommandVehicles implements CommandVehicles {
  constructor(private readonly vehicles: Pick<VehicleStore, "loadVehicleState">) {}

  async loadForCommand(vehicleId: string) {
    const state = await this.vehicles.loadVehicleState(vehicleId);
    const vehicle = state.vehicle;
    if (vehicle === undefined) return undefined;
    const credentialsRef = vehicle.credentialsRef ?? vehicle.id;
    return {
      ref: {
        vehicleId: vehicle.id,
        provider: vehicle.provider,
        providerVehicleId: vehicle.providerVehicleId,
        credentialsRef,
      },
      snapshot: state.snapshot,
    };
  }
}
