import type { VehicleCommand } from "../model/commands.ts";
import type { Dtc, SignalSamples } from "../model/signals.ts";
import type { Provider, Vehicle } from "../model/vehicle.ts";

/**
 * The provider-neutral contracts every provider folder (functions/providers/<name>/)
 * implements. The poller and the dispatcher only know these.
 */

/** What the poller needs to reach one vehicle at its provider. */
export type ProviderVehicleRef = {
  vehicleId: Vehicle["id"];
  provider: Provider;
  providerVehicleId: string;
  /** Name of the credentials entry (config or secret) that authorizes calls for this vehicle. */
  credentialsRef: string;
};

/** One poll of a vehicle: every signal the provider returned, each with its own observation time. */
export type PollSample = {
  signals: SignalSamples;
  /** Active diagnostic trouble codes, when the provider reports them (diffed into mil.on / mil.off). */
  dtcs?: Dtc[];
  /** Provider calls this poll spent, for the per-provider request budget. */
  requestsUsed: number;
};

export interface VehicleDataClient {
  readonly provider: Provider;
  poll(vehicle: ProviderVehicleRef, now: Date): Promise<PollSample>;
}

export type CommandParams = { percent?: number; destination?: { lat: number; lon: number; name?: string } };

export type CommandResult = {
  /** The provider's id for the request, when it gives one (audit trail). */
  providerRequestId?: string;
  /** After lock/unlock where the provider allows reading back: did the state change? undefined = not checked. */
  confirmed?: boolean;
};

export interface VehicleCommandClient {
  readonly provider: Provider;
  /** Which canonical commands this provider can perform (the capability matrix row). */
  readonly capabilities: ReadonlySet<VehicleCommand>;
  /** Throws UnsupportedCommandError (see errors.ts) for a command not in `capabilities`. */
  send(vehicle: ProviderVehicleRef, command: VehicleCommand, params: CommandParams): Promise<CommandResult>;
}
