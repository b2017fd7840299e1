import { createDispatcher } from "#adapters/dispatcher.ts";
import { type ProviderClient, providerClientsFromEnv } from "#adapters/providers/clients.ts";
import type { CommandClients } from "#core/dispatch/ports.ts";
import type { Provider } from "#core/model/vehicle.ts";
import { dispatchConfigFromEnv } from "#shared/dispatch-config.ts";

const config = await dispatchConfigFromEnv();
/**
 * The provider command clients configured for this deployment. A command to a
 * provider without one is recorded failed ("no command client is configured for …").
 */
const commandClients: CommandClients = new Map(
  Object.entries(await providerClientsFromEnv(config)) as [Provider, ProviderClient][],
);

/**
 * Consumes the actions queue: performs each action exactly once per delivery
 * and reports the records to retry in batchItemFailures.
 */
export const handler = createDispatcher(config, commandClients).consumer;
