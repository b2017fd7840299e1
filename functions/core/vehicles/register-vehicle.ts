import type { Vehicle } from "../model/vehicle.ts";
import type { PollRegistration, PollRegistry } from "../polling/ports.ts";
import { PollRegistrationConflictError } from "./errors.ts";

export type VehicleRegistrationPorts = {
  vehicles: { putVehicle(vehicle: Vehicle): Promise<void> };
  polls: Pick<PollRegistry, "get" | "save">;
};

/**
 * Stores a vehicle's registration (replacing any) and, unless `poll` is false, (re)registers it for polling from
 * `now`: due at once, failures and any needs-reauth mark cleared (new credentials deserve a try), but the day's
 * request count kept, so re-registering never resets the provider budget. Used by `dashlight vehicles add` and by
 * the Smartcar Connect callback.
 *
 * @example await registerVehicle(vehicle, { vehicles: vehicleStore, polls: pollRegistry }, { poll: true, now: new Date() })
 */
export const registerVehicle = async (
  vehicle: Vehicle & { credentialsRef: string },
  ports: VehicleRegistrationPorts,
  options: { poll: boolean; now: Date },
): Promise<PollRegistration | undefined> => {
  await ports.vehicles.putVehicle(vehicle);
  if (!options.poll) return undefined;
  const now = options.now.toISOString();
  const today = now.slice(0, 10);
  // Optimistic concurrency with the poll scheduler and workers: re-read and retry when one of them wrote first.
  for (let attempt = 0; attempt < 3; attempt++) {
    const existing = await ports.polls.get(vehicle.id);
    const registration: PollRegistration = {
      vehicleId: vehicle.id,
      provider: vehicle.provider,
      providerVehicleId: vehicle.providerVehicleId,
      credentialsRef: vehicle.credentialsRef,
      state: {
        budgetDay: today,
        requestsToday: existing?.state.budgetDay === today ? existing.state.requestsToday : 0,
        consecutiveFailures: 0,
        nextPollAt: now,
      },
      staleSince: null,
      lastError: null,
      needsReauth: false,
      version: (existing?.version ?? 0) + 1,
    };
    if (await ports.polls.save(registration)) return registration;
  }
  throw new PollRegistrationConflictError(`the poll registration of ${vehicle.id} kept changing while registering`);
};
