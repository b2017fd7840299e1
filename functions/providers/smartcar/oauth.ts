import * as oauth from "oauth4webapi";
import {
  ProviderAuthError,
  ProviderError,
  ProviderRateLimitError,
  ProviderUnavailableError,
} from "#core/providers/errors.ts";
import type { ProviderVehicleRef } from "#core/providers/ports.ts";
import type { SmartcarClient, TokenProvider } from "./client.ts";
import { parseRetryAfter } from "./client.ts";
import {
  SmartcarConnectDeniedError,
  SmartcarConnectError,
  SmartcarNoVehicleGrantedError,
  SmartcarVehicleAccessError,
} from "./errors.ts";
import type { VehicleAttributes } from "./rest-schema.ts";

/**
 * Smartcar Connect (OAuth 2.0 authorization code grant) and token refresh, on oauth4webapi. Smartcar is a plain
 * OAuth 2 server (no discovery document, no ID token), so its endpoints are configured, not discovered.
 *
 * The flow: `startConnect()` gives the URL to redirect the owner to and a `ConnectSession` (random `state` against
 * CSRF, and a PKCE verifier) that the caller keeps (e.g. in a signed, HttpOnly, short-lived cookie); the callback
 * hands the redirect URL and that session to `completeConnect()`, which checks `state` and exchanges the code.
 * `createSmartcarTokenProvider` then serves access tokens to the client, refreshing them before they expire.
 */

const PROVIDER = "smartcar";

export const SMARTCAR_AUTHORIZE_URL = "https://connect.smartcar.com/oauth/authorize";
export const SMARTCAR_TOKEN_URL = "https://auth.smartcar.com/oauth/token";
/** Smartcar refresh tokens last 60 days (Smartcar SDK docs) when the token response does not say otherwise. */
const REFRESH_TOKEN_LIFETIME_MS = 60 * 24 * 3_600_000;

/** The permissions Dashlight asks for: every signal it polls and every command it sends. */
export const SMARTCAR_DEFAULT_SCOPE = [
  "read_vehicle_info",
  "read_battery",
  "read_charge",
  "read_location",
  "read_odometer",
  "read_fuel",
  "read_engine_oil",
  "read_diagnostics",
  "read_security",
  "control_security",
  "control_charge",
  "control_navigation",
] as const;

export type SmartcarOAuthConfig = {
  clientId: string;
  clientSecret: string;
  /** Must equal a redirect URI registered with the Smartcar application. */
  redirectUri: string;
  scope?: readonly string[];
  /** Default https://connect.smartcar.com/oauth/authorize; the simulator's `${url}/oauth/authorize` in tests. */
  authorizeUrl?: string;
  /** Default https://auth.smartcar.com/oauth/token; the simulator's `${url}/oauth/token` in tests. */
  tokenUrl?: string;
  /** Smartcar Connect mode: real cars, test accounts or simulated vehicles. Default "live". */
  mode?: "live" | "test" | "simulated";
  timeoutMs?: number;
  fetch?: typeof fetch;
};

/** What the Connect callback must get back from the request that started the flow. Secret: never log it. */
export type ConnectSession = { state: string; codeVerifier: string };

/** Tokens of one Smartcar authorization (one user's grant, possibly for several vehicles). Secrets: never log. */
export type SmartcarTokens = {
  accessToken: string;
  refreshToken: string;
  /** ISO instant the access token expires. */
  expiresAt: string;
  /** ISO instant the refresh token expires. */
  refreshExpiresAt: string;
};

export class SmartcarOAuth {
  private readonly as: oauth.AuthorizationServer;
  private readonly client: oauth.Client;
  private readonly clientAuth: oauth.ClientAuth;
  private readonly config: SmartcarOAuthConfig;
  private readonly authorizeUrl: string;
  private readonly tokenUrl: URL;

  constructor(config: SmartcarOAuthConfig) {
    this.config = config;
    this.authorizeUrl = config.authorizeUrl ?? SMARTCAR_AUTHORIZE_URL;
    this.tokenUrl = new URL(config.tokenUrl ?? SMARTCAR_TOKEN_URL);
    this.as = {
      issuer: this.tokenUrl.origin,
      authorization_endpoint: this.authorizeUrl,
      token_endpoint: this.tokenUrl.toString(),
    };
    this.client = { client_id: config.clientId };
    this.clientAuth = oauth.ClientSecretBasic(config.clientSecret);
  }

  /**
   * The Connect URL and the session to keep until the callback. `singleSelect` asks Connect's `single_select=true`:
   * the owner can select only one vehicle (otherwise any number of theirs).
   *
   * @example const { url, session } = await smartcarOAuth.startConnect({ singleSelect: true }); // 302 to url, keep session in a cookie
   */
  async startConnect(
    options: { forceApproval?: boolean; singleSelect?: boolean } = {},
  ): Promise<{ url: URL; session: ConnectSession }> {
    const state = oauth.generateRandomState();
    const codeVerifier = oauth.generateRandomCodeVerifier();
    const url = new URL(this.authorizeUrl);
    url.searchParams.set("response_type", "code");
    url.searchParams.set("client_id", this.config.clientId);
    url.searchParams.set("redirect_uri", this.config.redirectUri);
    url.searchParams.set("scope", (this.config.scope ?? SMARTCAR_DEFAULT_SCOPE).join(" "));
    url.searchParams.set("state", state);
    url.searchParams.set("mode", this.config.mode ?? "live");
    url.searchParams.set("code_challenge", await oauth.calculatePKCECodeChallenge(codeVerifier));
    url.searchParams.set("code_challenge_method", "S256");
    if (options.forceApproval) url.searchParams.set("approval_prompt", "force");
    if (options.singleSelect) url.searchParams.set("single_select", "true");
    return { url, session: { state, codeVerifier } };
  }

  /**
   * Checks the callback's `state` against the session (SmartcarConnectError on mismatch, or when the owner denied
   * access) and exchanges the code for tokens (ProviderAuthError when Smartcar rejects the code). `beforeCodeExchange`
   * runs between the two: whatever it throws propagates and no code is exchanged (Dashlight claims the invite there).
   */
  async completeConnect(
    callback: URL | URLSearchParams,
    session: ConnectSession,
    now: Date,
    beforeCodeExchange: () => Promise<void> = async () => {},
  ): Promise<SmartcarTokens> {
    let parameters: URLSearchParams;
    try {
      parameters = oauth.validateAuthResponse(this.as, this.client, callback, session.state);
    } catch (error) {
      if (error instanceof oauth.AuthorizationResponseError) {
        throw new SmartcarConnectDeniedError(error.error, { cause: error });
      }
      throw new SmartcarConnectError("Connect callback failed validation (state mismatch or missing code)", {
        cause: error,
      });
    }
    await beforeCodeExchange();
    const response = await this.tokenRequest("code exchange", () =>
      oauth.authorizationCodeGrantRequest(
        this.as,
        this.client,
        this.clientAuth,
        parameters,
        this.config.redirectUri,
        session.codeVerifier,
        this.requestOptions(),
      ),
    );
    return this.tokensOf(
      "code exchange",
      () => oauth.processAuthorizationCodeResponse(this.as, this.client, response),
      now,
    );
  }

  /**
   * New tokens from a refresh token. Smartcar rotates refresh tokens: store the returned one, the old one is spent.
   * 400/401 from the token endpoint (invalid_grant, invalid_client) → ProviderAuthError; 5xx or timeout →
   * ProviderUnavailableError; 429 → ProviderRateLimitError. Never retried here.
   */
  async refresh(refreshToken: string, now: Date): Promise<SmartcarTokens> {
    const response = await this.tokenRequest("refresh", () =>
      oauth.refreshTokenGrantRequest(this.as, this.client, this.clientAuth, refreshToken, this.requestOptions()),
    );
    return this.tokensOf("refresh", () => oauth.processRefreshTokenResponse(this.as, this.client, response), now);
  }

  private requestOptions(): oauth.TokenEndpointRequestOptions {
    const loopback = ["127.0.0.1", "localhost", "[::1]"].includes(this.tokenUrl.hostname);
    return {
      signal: AbortSignal.timeout(this.config.timeoutMs ?? 15_000),
      ...(this.config.fetch === undefined ? {} : { [oauth.customFetch]: this.config.fetch }),
      // Plain HTTP only for a token endpoint on this machine (the simulator).
      ...(this.tokenUrl.protocol === "http:" && loopback ? { [oauth.allowInsecureRequests]: true } : {}),
    };
  }

  private async tokenRequest(step: string, send: () => Promise<Response>): Promise<Response> {
    let response: Response;
    try {
      response = await send();
    } catch (error) {
      throw new ProviderUnavailableError(PROVIDER, `token ${step} failed: ${(error as Error).name}`, { cause: error });
    }
    if (response.status === 429) {
      await response.body?.cancel();
      const retryAfterMs = parseRetryAfter(response.headers.get("retry-after"), Date.now());
      throw new ProviderRateLimitError(PROVIDER, `token ${step} rate limited`, retryAfterMs);
    }
    if (response.status >= 500) {
      await response.body?.cancel();
      throw new ProviderUnavailableError(PROVIDER, `token ${step} answered ${response.status}`);
    }
    return response;
  }

  private async tokensOf(
    step: string,
    process: () => Promise<oauth.TokenEndpointResponse>,
    now: Date,
  ): Promise<SmartcarTokens> {
    let body: oauth.TokenEndpointResponse;
    try {
      body = await process();
    } catch (error) {
      if (error instanceof oauth.ResponseBodyError && (error.status === 400 || error.status === 401)) {
        throw new ProviderAuthError(PROVIDER, `token ${step} rejected: ${error.error}`, { cause: error });
      }
      // No `cause`: oauth4webapi attaches the response body to some errors, and a token response carries tokens that
      // must never reach a log.
      throw new ProviderError(PROVIDER, `token ${step} response not understood (${(error as Error).name})`);
    }
    if (body.refresh_token === undefined || body.expires_in === undefined) {
      throw new ProviderError(PROVIDER, `token ${step} response lacks refresh_token or expires_in`);
    }
    const refreshExpiresIn = body.refresh_expires_in;
    return {
      accessToken: body.access_token,
      refreshToken: body.refresh_token,
      expiresAt: new Date(now.getTime() + body.expires_in * 1000).toISOString(),
      refreshExpiresAt: new Date(
        now.getTime() + (typeof refreshExpiresIn === "number" ? refreshExpiresIn * 1000 : REFRESH_TOKEN_LIFETIME_MS),
      ).toISOString(),
    };
  }
}

/** Stored credentials of one Smartcar authorization, keyed by the vehicles' `credentialsRef`. */
export type StoredSmartcarCredentials = SmartcarTokens & {
  /** Set when Smartcar rejected these credentials; the owner must reconnect. */
  needsReauth?: { reason: string; at: string };
  /** Revision of the stored entry; every write increments it (conditional writes compare it). */
  version: number;
  /** ISO instant until which one process holds the right to refresh these tokens (see `claimRefresh`). */
  refreshingUntil?: string;
};

/** A write that only happens while the stored entry is still at `ifVersion`. */
export type StoreCondition = { ifVersion: number };

/**
 * Where tokens live: the table, sealed (functions/adapters/dynamodb/smartcar-token-store.ts), or memory in tests.
 * Smartcar rotates refresh tokens (a refresh token works once), so concurrent refreshes are arbitrated here: a
 * process claims the refresh of one version, and writes after the refresh are conditional on that claim.
 */
export interface SmartcarTokenStore {
  get(credentialsRef: string): Promise<StoredSmartcarCredentials | undefined>;
  /**
   * Saves fresh tokens, clearing any needs-reauth mark and refresh claim. With a condition, only if the stored entry
   * is still at that version: false when another writer got there first (nothing is written then).
   */
  put(credentialsRef: string, tokens: SmartcarTokens, condition?: StoreCondition): Promise<boolean>;
  /**
   * Claims the refresh of the entry at `ifVersion` until `until`, unless another process holds an unexpired claim
   * (at `now`) or the entry changed. Returns the entry's new version, or undefined when the claim was not granted.
   */
  claimRefresh(credentialsRef: string, ifVersion: number, until: Date, now: Date): Promise<number | undefined>;
  /** Marks the credentials as needing re-auth (optionally only at a version); false when absent or changed. */
  markNeedsReauth(credentialsRef: string, reason: string, at: Date, condition?: StoreCondition): Promise<boolean>;
}

/** For tests and tools: the same semantics as the table-backed store, in memory. */
export class InMemorySmartcarTokenStore implements SmartcarTokenStore {
  private readonly entries = new Map<string, StoredSmartcarCredentials>();
  async get(credentialsRef: string) {
    const entry = this.entries.get(credentialsRef);
    return entry === undefined ? undefined : structuredClone(entry);
  }
  async put(credentialsRef: string, tokens: SmartcarTokens, condition?: StoreCondition) {
    const entry = this.entries.get(credentialsRef);
    if (condition !== undefined && entry?.version !== condition.ifVersion) return false;
    this.entries.set(credentialsRef, { ...tokens, version: (entry?.version ?? 0) + 1 });
    return true;
  }
  async claimRefresh(credentialsRef: string, ifVersion: number, until: Date, now: Date) {
    const entry = this.entries.get(credentialsRef);
    if (entry?.version !== ifVersion || entry.needsReauth !== undefined) return undefined;
    if (entry.refreshingUntil !== undefined && entry.refreshingUntil >= now.toISOString()) return undefined;
    entry.version += 1;
    entry.refreshingUntil = until.toISOString();
    return entry.version;
  }
  async markNeedsReauth(credentialsRef: string, reason: string, at: Date, condition?: StoreCondition) {
    const entry = this.entries.get(credentialsRef);
    if (entry === undefined || (condition !== undefined && entry.version !== condition.ifVersion)) return false;
    entry.needsReauth = { reason, at: at.toISOString() };
    entry.version += 1;
    delete entry.refreshingUntil;
    return true;
  }
}

export type SmartcarTokenProviderOptions = {
  oauth: Pick<SmartcarOAuth, "refresh">;
  store: SmartcarTokenStore;
  /** Refresh when the access token expires within this margin. Default 10 min (two active poll intervals). */
  refreshMarginMs?: number;
  /** How long a refresh claim keeps other processes from refreshing. Default 60 s (the token request times out at 15 s). */
  refreshClaimMs?: number;
  now?: () => Date;
};

/**
 * Serves access tokens for the client from the store, refreshing them before expiry. A refresh that Smartcar
 * rejects marks the credentials as needing re-auth and throws ProviderAuthError; later calls fail at once without
 * calling Smartcar until the owner reconnects (which `put`s new tokens), so the poller marks each vehicle of these
 * credentials as needing re-auth after one attempt and stops polling it. A transient refresh failure returns the
 * still-valid access token if there is one, else throws ProviderUnavailableError for the poller to back off.
 *
 * Refresh tokens rotate, so two processes must never spend the same one: a process first claims the refresh in the
 * store (conditional write). The loser does not refresh: it re-reads the store and serves the current access token,
 * which is still valid because refreshes start `refreshMarginMs` before expiry. Writes after the refresh are
 * conditional on the claim, so tokens stored by a reconnect meanwhile are never overwritten or condemned. In one
 * process, concurrent calls for one credentialsRef share one refresh.
 *
 * @example const tokens = createSmartcarTokenProvider({ oauth: smartcarOAuth, store }); new SmartcarClient({ baseUrl, tokens })
 */
export const createSmartcarTokenProvider = (options: SmartcarTokenProviderOptions): TokenProvider => {
  const margin = options.refreshMarginMs ?? 10 * 60_000;
  const claimMs = options.refreshClaimMs ?? 60_000;
  const now = options.now ?? (() => new Date());
  const refreshing = new Map<string, Promise<string>>();
  /** The version whose access token was last served per credentialsRef: a 401 condemns that version only. */
  const served = new Map<string, number>();

  /** Another process refreshed or is refreshing: serve what the store holds now, if it is usable. */
  const current = async (ref: string, at: Date): Promise<string> => {
    const latest = await options.store.get(ref);
    if (latest?.needsReauth !== undefined) {
      throw new ProviderAuthError(PROVIDER, `credentials need re-authorization since ${latest.needsReauth.at}`);
    }
    if (latest === undefined) throw new ProviderAuthError(PROVIDER, "no Smartcar credentials for this vehicle");
    if (Date.parse(latest.expiresAt) > at.getTime()) {
      served.set(ref, latest.version);
      return latest.accessToken;
    }
    throw new ProviderUnavailableError(PROVIDER, "the access token expired while another process refreshes it");
  };

  const refresh = async (ref: string, stored: StoredSmartcarCredentials): Promise<string> => {
    const at = now();
    if (stored.refreshingUntil !== undefined && Date.parse(stored.refreshingUntil) >= at.getTime()) {
      return current(ref, at);
    }
    const claimed = await options.store.claimRefresh(ref, stored.version, new Date(at.getTime() + claimMs), at);
    if (claimed === undefined) return current(ref, at);
    let tokens: SmartcarTokens;
    try {
      tokens = await options.oauth.refresh(stored.refreshToken, at);
    } catch (error) {
      if (error instanceof ProviderAuthError) {
        if (await options.store.markNeedsReauth(ref, error.message, at, { ifVersion: claimed })) throw error;
        // The owner reconnected while this refresh failed: the new tokens are not condemned.
        return current(ref, at);
      }
      if (Date.parse(stored.expiresAt) > at.getTime()) return stored.accessToken;
      throw error;
    }
    // False when the owner reconnected meanwhile: their tokens stay; these still work for this call.
    if (await options.store.put(ref, tokens, { ifVersion: claimed })) served.set(ref, claimed + 1);
    return tokens.accessToken;
  };

  return {
    async getAccessToken(vehicle: ProviderVehicleRef) {
      const ref = vehicle.credentialsRef;
      const stored = await options.store.get(ref);
      if (stored === undefined) throw new ProviderAuthError(PROVIDER, "no Smartcar credentials for this vehicle");
      if (stored.needsReauth !== undefined) {
        throw new ProviderAuthError(PROVIDER, `credentials need re-authorization since ${stored.needsReauth.at}`);
      }
      if (Date.parse(stored.expiresAt) - margin > now().getTime()) {
        served.set(ref, stored.version);
        return stored.accessToken;
      }
      if (Date.parse(stored.refreshExpiresAt) <= now().getTime()) {
        await options.store.markNeedsReauth(ref, "refresh token expired", now(), { ifVersion: stored.version });
        throw new ProviderAuthError(PROVIDER, "refresh token expired");
      }
      const pending = refreshing.get(ref);
      if (pending !== undefined) return pending;
      const started = refresh(ref, stored).finally(() => refreshing.delete(ref));
      refreshing.set(ref, started);
      return started;
    },
    async markNeedsReauth(vehicle: ProviderVehicleRef, reason: string) {
      const version = served.get(vehicle.credentialsRef);
      await options.store.markNeedsReauth(
        vehicle.credentialsRef,
        reason,
        now(),
        version === undefined ? undefined : { ifVersion: version },
      );
    },
  };
};

/** One vehicle found by the Connect callback, ready to register. The VIN is left out: it stays out of logs. */
export type ConnectedSmartcarVehicle = Pick<VehicleAttributes, "id" | "make" | "model" | "year">;

/**
 * The whole Connect callback: verify state, run `beforeCodeExchange` (if given), exchange the code, list the vehicles
 * the owner granted (GET /vehicles; none → SmartcarNoVehicleGrantedError), run `checkGrant` on their ids (what it
 * throws propagates: nothing is stored), read their display names (GET /vehicles/{id}, all at once, so one callback
 * waits for the slowest read, not their sum), and only then store the tokens under `credentialsRef`, so a Connect that
 * fails anywhere stores nothing. Smartcar refusing the new token while listing or reading the vehicles (401/403)
 * throws SmartcarVehicleAccessError; only a refused code exchange throws ProviderAuthError.
 *
 * @example const { vehicles } = await completeSmartcarConnect({ oauth, api, store, callback, session, credentialsRef, now })
 */
export const completeSmartcarConnect = async (input: {
  oauth: SmartcarOAuth;
  api: Pick<SmartcarClient, "listVehicleIds" | "getVehicleAttributes">;
  store: SmartcarTokenStore;
  callback: URL | URLSearchParams;
  session: ConnectSession;
  credentialsRef: string;
  now: Date;
  beforeCodeExchange?: () => Promise<void>;
  checkGrant?: (vehicleIds: readonly string[]) => void;
}): Promise<{ tokens: SmartcarTokens; vehicles: ConnectedSmartcarVehicle[] }> => {
  const tokens = await input.oauth.completeConnect(input.callback, input.session, input.now, input.beforeCodeExchange);
  const vehicles = await grantedVehicles(input.api, tokens.accessToken, input.checkGrant);
  await input.store.put(input.credentialsRef, tokens);
  return { tokens, vehicles };
};

/** The vehicles one access token reaches, in Smartcar's order; their attributes are read concurrently. */
const grantedVehicles = async (
  api: Pick<SmartcarClient, "listVehicleIds" | "getVehicleAttributes">,
  accessToken: string,
  checkGrant: ((vehicleIds: readonly string[]) => void) | undefined,
): Promise<ConnectedSmartcarVehicle[]> => {
  const refused = (error: unknown) => {
    throw error instanceof ProviderAuthError ? new SmartcarVehicleAccessError({ cause: error }) : error;
  };
  const ids = await api.listVehicleIds(accessToken).catch(refused);
  if (ids.length === 0) throw new SmartcarNoVehicleGrantedError();
  checkGrant?.(ids);
  return Promise.all(
    ids.map(async (id): Promise<ConnectedSmartcarVehicle> => {
      const { make, model, year } = await api.getVehicleAttributes(accessToken, id).catch(refused);
      return {
        id,
        ...(make === undefined ? {} : { make }),
        ...(model === undefined ? {} : { model }),
        ...(year === undefined ? {} : { year }),
      };
    }),
  );
};
