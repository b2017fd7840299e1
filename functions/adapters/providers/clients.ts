import type { Provider } from "#core/model/vehicle.ts";
import type { VehicleCommandClient, VehicleDataClient } from "#core/providers/ports.ts";
import { AutomaticRestClient } from "#providers/automatic/rest-client.ts";
import { DimoClient } from "#providers/dimo/client.ts";
import { OvmsClient } from "#providers/ovms/client.ts";
import { ConfigError, optionalUrlEnv, requiredEnv, secretFromEnv } from "#shared/config.ts";
import type { TableConfig } from "#shared/runtime-config.ts";
import { createDocumentClient } from "../aws-clients.ts";
import { smartcarFromEnv } from "./smartcar.ts";

export type ProviderClient = VehicleDataClient & VehicleCommandClient;

/** Timeouts and retries of every provider call: polls and commands share them. */
const HTTP = {
  timeoutMs: 10_000,
  retry: { maxAttempts: 3, baseDelayMs: 500, maxDelayMs: 8_000, maxRetryAfterMs: 30_000 },
} as const;

/**
 * A credentials reference names environment variables (or, in AWS, Secrets
 * Manager secrets through `<NAME>_SECRET_ARN`): `dimo-fleet` → `DIMO_ACCESS_TOKEN_DIMO_FLEET`.
 */
const refVariable = (prefix: string, credentialsRef: string): string => {
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(credentialsRef)) {
    throw new ConfigError(
      `credentials reference ${JSON.stringify(credentialsRef)} must be 1-64 letters, digits, - or _`,
    );
  }
  return `${prefix}_${credentialsRef.toUpperCase().replaceAll("-", "_")}`;
};

const secretOf = (prefix: string, env: NodeJS.ProcessEnv) => (credentialsRef: string) =>
  secretFromEnv(refVariable(prefix, credentialsRef), env);

/**
 * The provider clients this deployment is configured for, built once per cold
 * start. A provider is configured by its API URL; one without it has no client,
 * and its vehicles are skipped with that reason ("no <provider> client is
 * configured"), never polled with made-up settings.
 *
 * Smartcar's tokens come from its Connect flow (GET /connect/smartcar), sealed
 * in the table and refreshed before expiry (./smartcar.ts). There is no static
 * per-reference token any more: Smartcar access tokens live two hours, so a
 * configured one would silently stop working.
 */
export const providerClientsFromEnv = async (
  table: TableConfig,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Partial<Record<Provider, ProviderClient>>> => {
  const clients: Partial<Record<Provider, ProviderClient>> = {};
  const smartcar = await smartcarFromEnv(createDocumentClient(table.endpoints), table.tableName, env);
  if (smartcar) clients.smartcar = smartcar.client;
  const dimoUrl = optionalUrlEnv("DIMO_DEVICE_DATA_API_URL", env);
  if (dimoUrl) {
    const token = secretOf("DIMO_ACCESS_TOKEN", env);
    clients.dimo = new DimoClient({
      deviceDataUrl: dimoUrl,
      devicesUrl: requiredEnv("DIMO_DEVICES_API_URL", env),
      tokenExchangeUrl: requiredEnv("DIMO_TOKEN_EXCHANGE_URL", env),
      vehicleNftContract: requiredEnv("DIMO_VEHICLE_NFT_CONTRACT", env),
      credentials: async (ref) => ({ accessToken: await token(ref) }),
      http: HTTP,
    });
  }
  const ovmsUrl = optionalUrlEnv("OVMS_API_URL", env);
  if (ovmsUrl) {
    const username = secretOf("OVMS_USERNAME", env);
    const password = secretOf("OVMS_PASSWORD", env);
    clients.ovms = new OvmsClient({
      baseUrl: ovmsUrl,
      credentials: async (ref) => ({ username: await username(ref), password: await password(ref) }),
      http: HTTP,
    });
  }
  const automaticUrl = optionalUrlEnv("AUTOMATIC_API_URL", env);
  if (automaticUrl) {
    const token = secretOf("AUTOMATIC_ACCESS_TOKEN", env);
    clients.automatic = new AutomaticRestClient({
      baseUrl: automaticUrl,
      credentials: async (ref) => ({ accessToken: await token(ref) }),
      http: HTTP,
    });
  }
  return clients;
};
