import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { SmartcarClient } from "#providers/smartcar/client.ts";
import { createSmartcarTokenProvider, SmartcarOAuth } from "#providers/smartcar/oauth.ts";
import { ConfigError, optionalEnv, optionalUrlEnv, requiredEnv, secretFromEnv } from "#shared/config.ts";
import { AesGcmSealer, parseSealingKey } from "../crypto/aes-gcm-sealer.ts";
import { DynamoDbSmartcarTokenStore } from "../dynamodb/smartcar-token-store.ts";

/** Everything that reaches Smartcar for this deployment, built once per cold start. */
export type SmartcarWiring = {
  oauth: SmartcarOAuth;
  /** Where Connect sends the owner back (SMARTCAR_REDIRECT_URI). */
  redirectUri: URL;
  store: DynamoDbSmartcarTokenStore;
  /** Polls and commands, with tokens served (and refreshed) from the store. */
  client: SmartcarClient;
};

const MODES = ["live", "test", "simulated"] as const;

/**
 * Smartcar is configured by SMARTCAR_API_BASE_URL; without it there is no Smartcar (undefined). With it, these are
 * required: SMARTCAR_CLIENT_ID, SMARTCAR_CLIENT_SECRET (a secret: the value, or SMARTCAR_CLIENT_SECRET_SECRET_ARN in
 * AWS), SMARTCAR_REDIRECT_URI (the Connect callback registered with the Smartcar application,
 * `https://<api>/connect/smartcar/callback`), DASHLIGHT_TOKEN_ENCRYPTION_KEY (a secret: 32 bytes in base64, seals
 * the tokens in the table). Optional: SMARTCAR_AUTHORIZE_URL and SMARTCAR_TOKEN_URL (Smartcar's own when unset; the
 * simulator's locally), SMARTCAR_CONNECT_MODE (live | test | simulated; Smartcar's default, live, when unset).
 */
export const smartcarFromEnv = async (
  documentClient: DynamoDBDocumentClient,
  tableName: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<SmartcarWiring | undefined> => {
  const apiBaseUrl = optionalUrlEnv("SMARTCAR_API_BASE_URL", env);
  if (apiBaseUrl === undefined) return undefined;
  const redirectUri = requiredEnv("SMARTCAR_REDIRECT_URI", env);
  if (!URL.canParse(redirectUri)) throw new ConfigError(`environment variable SMARTCAR_REDIRECT_URI is not a URL`);
  const mode = optionalEnv("SMARTCAR_CONNECT_MODE", env);
  if (mode !== undefined && !(MODES as readonly string[]).includes(mode)) {
    throw new ConfigError(`SMARTCAR_CONNECT_MODE must be one of ${MODES.join(", ")}, got ${mode}`);
  }
  const authorizeUrl = optionalUrlEnv("SMARTCAR_AUTHORIZE_URL", env);
  const tokenUrl = optionalUrlEnv("SMARTCAR_TOKEN_URL", env);
  const oauth = new SmartcarOAuth({
    clientId: requiredEnv("SMARTCAR_CLIENT_ID", env),
    clientSecret: await secretFromEnv("SMARTCAR_CLIENT_SECRET", env),
    redirectUri,
    ...(authorizeUrl === undefined ? {} : { authorizeUrl }),
    ...(tokenUrl === undefined ? {} : { tokenUrl }),
    ...(mode === undefined ? {} : { mode: mode as (typeof MODES)[number] }),
  });
  const key = parseSealingKey(
    await secretFromEnv("DASHLIGHT_TOKEN_ENCRYPTION_KEY", env),
    "DASHLIGHT_TOKEN_ENCRYPTION_KEY",
  );
  const store = new DynamoDbSmartcarTokenStore(documentClient, tableName, new AesGcmSealer(key));
  const client = new SmartcarClient({
    baseUrl: apiBaseUrl,
    tokens: createSmartcarTokenProvider({ oauth, store }),
  });
  return { oauth, redirectUri: new URL(redirectUri), store, client };
};
