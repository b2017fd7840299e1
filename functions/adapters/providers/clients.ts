import type { Provider } from "#core/model/vehicle.ts";
import type { VehicleCommandClient, VehicleDataClient } from "#core/providers/ports.ts";
import { AutomaticRestClient } from "#providers/automatic/rest-client.ts";
import { DimoClient } from "#providers/dimo/client.ts";
import { OvmsClient } from "#providers/ovms/client.ts";
import { SmartcarClient } from "#providers/smartcar/client.ts";
import { ConfigError, optionalUrlEnv, requiredEnv, secretFromEnv } from "#shared/config.ts";
import { logger } from "#shared/logger.ts";

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
 * Smartcar here takes a per-vehicle access token from configuration
 * (`SMARTCAR_ACCESS_TOKEN_<REF>`); the OAuth Connect flow with refresh
 * (functions/providers/smartcar/oauth.ts) is not wired to a token store yet.
 */
export const providerClientsFromEnv = (
  env: NodeJS.ProcessEnv = process.env,
): Partial<Record<Provider, ProviderClient>> => {
  const clients: Partial<Record<Provider, ProviderClient>> = {};
  const smartcarUrl = optionalUrlEnv("SMARTCAR_API_BASE_URL", env);
  if (smartcarUrl) {
    const token = secretOf("SMARTCAR_ACCESS_TOKEN", env);
    clients.smartcar = new SmartcarClient({
      baseUrl: smartcarUrl,
      tokens: {
        getAccessToken: (vehicle) => token(vehicle.credentialsRef),
        markNeedsReauth: async (vehicle, reason) => {
          logger.warn("smartcar vehicle needs re-authorization", { vehicleId: vehicle.vehicleId, reason });
        },
      },
    });
  }
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
