import { setTimeout as delay } from "node:timers/promises";
import type { VehicleCommand } from "#core/model/commands.ts";
import {
  ProviderAuthError,
  ProviderConflictError,
  ProviderError,
  ProviderNotFoundError,
  ProviderRateLimitError,
  ProviderUnavailableError,
  UnsupportedCommandError,
} from "#core/providers/errors.ts";
import type {
  CommandParams,
  CommandResult,
  PollSample,
  ProviderVehicleRef,
  VehicleCommandClient,
  VehicleDataClient,
} from "#core/providers/ports.ts";
import { SmartcarCommandParamsError, SmartcarHttpError } from "./errors.ts";
import { normalizeSmartcarResponses } from "./normalize-rest.ts";
import {
  BatchResponse,
  CommandResultBody,
  DATA_PATHS,
  type DataPath,
  REQUEST_ID_HEADER,
  SecurityStatus,
  SmartcarErrorBody,
  UNIT_SYSTEM_HEADER,
  VehicleAttributes,
  VehicleIds,
} from "./rest-schema.ts";

const PROVIDER = "smartcar";

/**
 * Where the client gets access tokens. The client never stores tokens: the Connect flow's token store (oauth.ts,
 * `createSmartcarTokenProvider`) refreshes them before expiry.
 */
export interface TokenProvider {
  /** A currently valid access token for the vehicle's credentials; throws ProviderAuthError when there is none. */
  getAccessToken(vehicle: ProviderVehicleRef): Promise<string>;
  /** Smartcar rejected the credentials (401/403): the owner must reconnect. Polls stop until then. */
  markNeedsReauth(vehicle: ProviderVehicleRef, reason: string): Promise<void>;
}

export type SmartcarClientOptions = {
  /** Vehicles API base, e.g. `https://vehicle.api.smartcar.com/v2.0` per the seed (env SMARTCAR_API_BASE_URL); the simulator's URL in tests. */
  baseUrl: string;
  tokens: TokenProvider;
  /** Per-attempt timeout of data requests. Default 15 s. */
  timeoutMs?: number;
  /** Per-attempt timeout of commands, which wait for the car. Default 60 s. */
  commandTimeoutMs?: number;
  /** Attempts per request, the first included, on 5xx / 429 / timeouts / network failures. Default 3. */
  maxAttempts?: number;
  /** Full-jitter exponential backoff: attempt n waits random() × min(max, base × 2^(n-1)). Defaults 500 ms / 8 s. */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** A Retry-After longer than this is not waited out: the 429 is thrown for the poller to back off. Default 30 s. */
  maxRetryAfterMs?: number;
  /** Read-back of /security after lock/unlock: how long, and how often. Defaults 30 s / 2 s. */
  readBackTimeoutMs?: number;
  readBackIntervalMs?: number;
  /** Endpoints one poll reads through /batch. Default: all of DATA_PATHS. */
  pollPaths?: readonly DataPath[];
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  now?: () => number;
};

export const SMARTCAR_CAPABILITIES: ReadonlySet<VehicleCommand> = new Set<VehicleCommand>([
  "lock",
  "unlock",
  "start_charge",
  "stop_charge",
  "set_charge_limit",
  "set_destination",
]);

/** Status codes worth another attempt: the request was not performed, or the failure is transient. */
const RETRYABLE_STATUS = new Set([429, 500, 502, 503, 504]);

type Call = {
  method: "GET" | "POST";
  path: string;
  body?: unknown;
  timeoutMs: number;
  maxAttempts: number;
  /** Requests Smartcar counts for one attempt (a batch counts each of its endpoints). */
  cost: number;
  command?: VehicleCommand;
};

type CallResult = { status: number; json: unknown; headers: Headers; requestsUsed: number };

/**
 * Smartcar Vehicles API v2.0 client: polls a vehicle's signals through /batch and sends commands.
 *
 * Errors are the provider-neutral ones (#core/providers/errors.ts) with a SmartcarHttpError as `cause` carrying
 * Smartcar's Error body (type, code, resolution): 401/403 → ProviderAuthError (and the vehicle is marked as needing
 * re-auth), 404 → ProviderNotFoundError, 409 → ProviderConflictError, 429 → ProviderRateLimitError, 5xx, timeouts and
 * network failures → ProviderUnavailableError once the retries are spent, 501 on a command →
 * UnsupportedCommandError (the vehicle is not capable), anything else → ProviderError.
 *
 * @example
 * const client = new SmartcarClient({ baseUrl: "https://vehicle.api.smartcar.com/v2.0", tokens });
 * const sample = await client.poll(vehicleRef, new Date()); // { signals: { soc_pct: … }, dtcs: [], requestsUsed: 9 }
 */
export class SmartcarClient implements VehicleDataClient, VehicleCommandClient {
  readonly provider = PROVIDER;
  readonly capabilities = SMARTCAR_CAPABILITIES;
  private readonly baseUrl: string;
  private readonly tokens: TokenProvider;
  private readonly timeoutMs: number;
  private readonly commandTimeoutMs: number;
  private readonly maxAttempts: number;
  private readonly backoffBaseMs: number;
  private readonly backoffMaxMs: number;
  private readonly maxRetryAfterMs: number;
  private readonly readBackTimeoutMs: number;
  private readonly readBackIntervalMs: number;
  private readonly pollPaths: readonly DataPath[];
  private readonly fetch: typeof fetch;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private readonly now: () => number;

  constructor(options: SmartcarClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    this.tokens = options.tokens;
    this.timeoutMs = options.timeoutMs ?? 15_000;
    this.commandTimeoutMs = options.commandTimeoutMs ?? 60_000;
    this.maxAttempts = Math.max(1, options.maxAttempts ?? 3);
    this.backoffBaseMs = options.backoffBaseMs ?? 500;
    this.backoffMaxMs = options.backoffMaxMs ?? 8_000;
    this.maxRetryAfterMs = options.maxRetryAfterMs ?? 30_000;
    this.readBackTimeoutMs = options.readBackTimeoutMs ?? 30_000;
    this.readBackIntervalMs = options.readBackIntervalMs ?? 2_000;
    this.pollPaths = options.pollPaths ?? (Object.keys(DATA_PATHS) as DataPath[]);
    this.fetch = options.fetch ?? globalThis.fetch;
    this.sleep = options.sleep ?? ((ms) => delay(ms));
    this.random = options.random ?? Math.random;
    this.now = options.now ?? Date.now;
  }

  /**
   * Reads every configured endpoint in one POST /batch. `requestsUsed` counts what Smartcar bills: each endpoint in
   * a batch counts against the vehicle's request limit (Smartcar's batch page), and every attempt sent counts, a
   * retried one included. Endpoints that failed inside a 200 batch (e.g. /fuel on an EV) are left out of the sample;
   * when none succeeded, the first failure is thrown as its typed error.
   */
  async poll(vehicle: ProviderVehicleRef, now: Date): Promise<PollSample> {
    const result = await this.call(vehicle, {
      method: "POST",
      path: `${vehiclePath(vehicle)}/batch`,
      body: { requests: this.pollPaths.map((path) => ({ path })) },
      timeoutMs: this.timeoutMs,
      maxAttempts: this.maxAttempts,
      cost: this.pollPaths.length,
    });
    const batch = BatchResponse.safeParse(result.json);
    if (!batch.success) {
      throw new ProviderError(PROVIDER, `batch response off schema: ${batch.error.issues[0]?.message}`, {
        cause: batch.error,
      });
    }
    const items = batch.data.responses.map((item) => ({
      path: item.path,
      code: item.code,
      headers: lowerCaseKeys(item.headers),
      body: item.body,
    }));
    // A rejected token fails every endpoint alike: it is the vehicle's error, not one endpoint's.
    const unauthorized = items.find((item) => item.code === 401);
    const failures = items.filter((item) => item.code !== 200);
    const firstFailure = unauthorized ?? (failures.length === items.length ? failures[0] : undefined);
    if (firstFailure !== undefined) {
      const cause = httpError(firstFailure.code, "GET", `${vehiclePath(vehicle)}${firstFailure.path}`, firstFailure);
      throw await this.typedError(vehicle, cause, undefined);
    }
    const normalized = normalizeSmartcarResponses(items, now.toISOString());
    return normalized.dtcs === undefined
      ? { signals: normalized.signals, requestsUsed: result.requestsUsed }
      : { signals: normalized.signals, dtcs: normalized.dtcs, requestsUsed: result.requestsUsed };
  }

  async send(vehicle: ProviderVehicleRef, command: VehicleCommand, params: CommandParams): Promise<CommandResult> {
    const request = commandRequest(vehicle, command, params);
    const result = await this.call(vehicle, {
      method: "POST",
      path: request.path,
      body: request.body,
      timeoutMs: this.commandTimeoutMs,
      maxAttempts: this.maxAttempts,
      cost: 1,
      command,
    });
    const parsed = CommandResultBody.safeParse(result.json);
    const requestId = result.headers.get(REQUEST_ID_HEADER) ?? undefined;
    if (parsed.success && parsed.data.status === "error") {
      throw new ProviderError(PROVIDER, `${command} failed: ${parsed.data.message ?? "no message"}`);
    }
    const base: CommandResult = requestId === undefined ? {} : { providerRequestId: requestId };
    if (command !== "lock" && command !== "unlock") return base;
    const confirmed = await this.readBackLock(vehicle, command === "lock");
    return confirmed === undefined ? base : { ...base, confirmed };
  }

  /** The ids of the vehicles an access token may reach (`GET /vehicles`, every page). Used by the Connect callback. */
  async listVehicleIds(accessToken: string): Promise<string[]> {
    const ids: string[] = [];
    const limit = 50;
    for (let offset = 0; ; offset += limit) {
      const result = await this.callWithToken(accessToken, undefined, {
        method: "GET",
        path: `/vehicles?limit=${limit}&offset=${offset}`,
        timeoutMs: this.timeoutMs,
        maxAttempts: this.maxAttempts,
        cost: 1,
      });
      const page = VehicleIds.parse(result.json);
      ids.push(...page.vehicles);
      if (page.vehicles.length < limit || ids.length >= page.paging.count) return ids;
    }
  }

  /** A vehicle's attributes (`GET /vehicles/{id}`): make, model, year, VIN. The VIN must stay out of logs. */
  async getVehicleAttributes(accessToken: string, providerVehicleId: string): Promise<VehicleAttributes> {
    const result = await this.callWithToken(accessToken, undefined, {
      method: "GET",
      path: `/vehicles/${encodeURIComponent(providerVehicleId)}`,
      timeoutMs: this.timeoutMs,
      maxAttempts: this.maxAttempts,
      cost: 1,
    });
    return VehicleAttributes.parse(result.json);
  }

  /**
   * Reads /security until `isLocked` matches: true once it does, false when reads succeed but the state never
   * matches before the timeout, undefined when no read succeeded (the lock state was never seen, so not checked).
   */
  private async readBackLock(vehicle: ProviderVehicleRef, wantLocked: boolean): Promise<boolean | undefined> {
    const deadline = this.now() + this.readBackTimeoutMs;
    let seen = false;
    for (;;) {
      try {
        const result = await this.call(vehicle, {
          method: "GET",
          path: `${vehiclePath(vehicle)}/security`,
          timeoutMs: Math.min(this.timeoutMs, this.readBackTimeoutMs),
          maxAttempts: 1,
          cost: 1,
        });
        const security = SecurityStatus.safeParse(result.json);
        if (security.success) {
          seen = true;
          if (security.data.isLocked === wantLocked) return true;
        }
      } catch (error) {
        // The command went through; failing to read it back is not a reason to send it again.
        if (!(error instanceof ProviderError)) throw error;
      }
      if (this.now() + this.readBackIntervalMs > deadline) return seen ? false : undefined;
      await this.sleep(this.readBackIntervalMs);
    }
  }

  private async call(vehicle: ProviderVehicleRef, call: Call): Promise<CallResult> {
    const token = await this.tokens.getAccessToken(vehicle);
    return this.callWithToken(token, vehicle, call);
  }

  private async callWithToken(token: string, vehicle: ProviderVehicleRef | undefined, call: Call): Promise<CallResult> {
    const url = `${this.baseUrl}${call.path}`;
    const init = {
      method: call.method,
      headers: {
        authorization: `Bearer ${token}`,
        accept: "application/json",
        [UNIT_SYSTEM_HEADER]: "metric",
        ...(call.body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(call.body === undefined ? {} : { body: JSON.stringify(call.body) }),
    };
    let requestsUsed = 0;
    for (let attempt = 1; ; attempt++) {
      const last = attempt >= call.maxAttempts;
      let response: Response;
      let json: unknown;
      try {
        requestsUsed += call.cost;
        response = await this.fetch(url, { ...init, signal: AbortSignal.timeout(call.timeoutMs) });
        json = await readJson(response);
      } catch (error) {
        // Timeouts and network failures: the request may or may not have reached Smartcar. Every command the client
        // sends sets a state (LOCK, START, a limit, a destination), so sending it again is safe.
        if (!last) {
          await this.sleep(this.backoff(attempt));
          continue;
        }
        const what = isTimeout(error) ? `timed out after ${call.timeoutMs} ms` : "network failure";
        throw new ProviderUnavailableError(PROVIDER, `${call.method} ${redactPath(call.path)} ${what}`, {
          cause: error,
        });
      }
      if (response.ok) return { status: response.status, json, headers: response.headers, requestsUsed };

      const cause = httpError(response.status, call.method, call.path, {
        body: json,
        headers: { [REQUEST_ID_HEADER]: response.headers.get(REQUEST_ID_HEADER) ?? "" },
      });
      const retryAfterMs = parseRetryAfter(response.headers.get("retry-after"), this.now());
      if (!last && RETRYABLE_STATUS.has(response.status)) {
        const wait = Math.max(retryAfterMs ?? 0, this.backoff(attempt));
        if (retryAfterMs === undefined || retryAfterMs <= this.maxRetryAfterMs) {
          await this.sleep(wait);
          continue;
        }
      }
      throw await this.typedError(vehicle, cause, call.command, retryAfterMs);
    }
  }

  private backoff(attempt: number): number {
    return Math.floor(this.random() * Math.min(this.backoffMaxMs, this.backoffBaseMs * 2 ** (attempt - 1)));
  }

  private async typedError(
    vehicle: ProviderVehicleRef | undefined,
    cause: SmartcarHttpError,
    command: VehicleCommand | undefined,
    retryAfterMs?: number,
  ): Promise<ProviderError> {
    const message = cause.message.replace(cause.path, redactPath(cause.path));
    const detail = cause.body?.detail ?? cause.body?.description;
    const text = detail === undefined ? message : `${message}: ${detail}`;
    switch (true) {
      case cause.status === 401 || cause.status === 403:
        if (vehicle !== undefined) await this.tokens.markNeedsReauth(vehicle, text);
        return new ProviderAuthError(PROVIDER, text, { cause });
      case cause.status === 404:
        return new ProviderNotFoundError(PROVIDER, text, { cause });
      case cause.status === 409:
        return new ProviderConflictError(PROVIDER, text, { cause });
      case cause.status === 429:
        return new ProviderRateLimitError(PROVIDER, text, retryAfterMs, { cause });
      case cause.status === 501 && command !== undefined:
        return new UnsupportedCommandError(PROVIDER, command, { cause });
      case cause.status >= 500:
        return new ProviderUnavailableError(PROVIDER, text, { cause });
      default:
        return new ProviderError(PROVIDER, text, { cause });
    }
  }
}

const vehiclePath = (vehicle: ProviderVehicleRef): string =>
  `/vehicles/${encodeURIComponent(vehicle.providerVehicleId)}`;

/** Messages name the endpoint, not the vehicle: ids stay out of error text that may be logged. */
const redactPath = (path: string): string => path.replace(/^\/vehicles\/[^/?]+/, "/vehicles/{id}");

const commandRequest = (
  vehicle: ProviderVehicleRef,
  command: VehicleCommand,
  params: CommandParams,
): { path: string; body: unknown } => {
  const base = vehiclePath(vehicle);
  switch (command) {
    case "lock":
      return { path: `${base}/security`, body: { action: "LOCK" } };
    case "unlock":
      return { path: `${base}/security`, body: { action: "UNLOCK" } };
    case "start_charge":
      return { path: `${base}/charge`, body: { action: "START" } };
    case "stop_charge":
      return { path: `${base}/charge`, body: { action: "STOP" } };
    case "set_charge_limit": {
      const percent = params.percent;
      // The seed allows limits from 0.5 to 1.0.
      if (percent === undefined || !Number.isFinite(percent) || percent < 50 || percent > 100) {
        throw new SmartcarCommandParamsError(command, `percent must be between 50 and 100, got ${percent}`);
      }
      return { path: `${base}/charge/limit`, body: { limit: Math.round(percent * 10) / 1000 } };
    }
    case "set_destination": {
      const destination = params.destination;
      if (destination === undefined) throw new SmartcarCommandParamsError(command, "destination is required");
      return {
        path: `${base}/commands/set-destination`,
        body: {
          latitude: destination.lat,
          longitude: destination.lon,
          ...(destination.name === undefined ? {} : { address: destination.name }),
        },
      };
    }
    case "open_trunk":
    case "open_frunk":
      throw new UnsupportedCommandError(PROVIDER, command);
  }
};

const readJson = async (response: Response): Promise<unknown> => {
  const text = await response.text();
  if (text === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};

const httpError = (
  status: number,
  method: string,
  path: string,
  item: { body: unknown; headers?: Readonly<Record<string, string>> | undefined },
): SmartcarHttpError => {
  const parsed = SmartcarErrorBody.safeParse(item.body);
  const requestId = item.headers?.[REQUEST_ID_HEADER] || undefined;
  return new SmartcarHttpError(status, method, path, parsed.success ? parsed.data : undefined, requestId);
};

const lowerCaseKeys = (headers: Record<string, string> | undefined): Record<string, string> | undefined =>
  headers === undefined
    ? undefined
    : Object.fromEntries(Object.entries(headers).map(([name, value]) => [name.toLowerCase(), value]));

const isTimeout = (error: unknown): boolean =>
  error instanceof DOMException
    ? error.name === "TimeoutError"
    : error instanceof Error && error.name === "TimeoutError";

/** Retry-After as delta-seconds or an HTTP date (RFC 9110 §10.2.3), in ms from now; undefined when absent or bad. */
export const parseRetryAfter = (value: string | null, now: number): number | undefined => {
  if (value === null || value.trim() === "") return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
};
