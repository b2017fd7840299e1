import type { Provider } from "#core/model/vehicle.ts";
import type { VehicleCommandClient, VehicleDataClient } from "#core/providers/ports.ts";

/**
 * The provider clients this deployment is configured for, built once per cold
 * start. A provider without configuration has no client: its vehicles are
 * skipped with a reason ("no <provider> client is configured"), never polled
 * with made-up credentials.
 */
export const dataClientsFromEnv = async (
  _env: NodeJS.ProcessEnv = process.env,
): Promise<Partial<Record<Provider, VehicleDataClient & VehicleCommandClient>>> => ({});
