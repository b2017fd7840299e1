import { createDispatcher } from "#adapters/dispatcher.ts";
import type { CommandClients } from "#core/dispatch/ports.ts";
import { dispatchConfigFromEnv } from "#shared/dispatch-config.ts";

const config = await dispatchConfigFromEnv();
/**
 * The provider command clients (functions/providers/<name>/), by provider. None
 * is wired yet: a command to a provider without a client is recorded failed
 * ("no command client is configured for …").
 */
const commandClients: CommandClients = new Map();

/**
 * Consumes the actions queue: performs each action exactly once per delivery
 * and reports the records to retry in batchItemFailures.
 */
export const handler = createDispatcher(config, commandClients).consumer;
