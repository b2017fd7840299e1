import { isValidCell } from "h3-js";
import * as z from "zod";
import type { VehicleCommand } from "#core/model/commands.ts";
import type { Provider } from "#core/model/vehicle.ts";
import { ProviderAuthError, UnsupportedCommandError } from "#core/providers/errors.ts";
import type {
  CommandParams,
  CommandResult,
  PollSample,
  ProviderVehicleRef,
  VehicleCommandClient,
  VehicleDataClient,
} from "#core/providers/ports.ts";
import { fetchJson, type HttpOptions, type JsonRequest, type RequestMeter } from "../http/fetch-json.ts";
import { DimoGeofenceInvalidError } from "./errors.ts";
import { type DimoHistorySample, normalizeDimoHistory, normalizeDimoStatus } from "./normalize.ts";
import {
  DimoCommandAccepted,
  type DimoGeofence,
  DimoGeofenceCreated,
  type DimoGeofenceInput,
  DimoGeofenceList,
  DimoPrivilegeToken,
  DimoVehicleHistory,
  type DimoVehicleStatus,
  DimoVehicleStatus as DimoVehicleStatusSchema,
} from "./schema.ts";

/**
 * DIMO privileges a privilege token can carry (token-exchange-api). We ask for the fewest each call needs:
 * polling never holds a token that could unlock the car.
 */
export const DIMO_PRIVILEGES = {
  nonLocationData: 1,
  commands: 2,
  currentLocation: 3,
  allTimeLocation: 4,
} as const;

/** The user's credentials: the access token (JWT) from DIMO's Web3 challenge, which the token exchange accepts. */
export type DimoCredentials = { accessToken: string };

export type DimoClientOptions = {
  /** Device Data API (status, history), e.g. https://device-data-api.dimo.zone */
  deviceDataUrl: string;
  /** Devices API (commands, geofences), e.g. https://devices-api.dimo.zone */
  devicesUrl: string;
  /** Token Exchange API, e.g. https://token-exchange-api.dimo.zone */
  tokenExchangeUrl: string;
  /** The vehicle NFT contract the token ids belong to (0xbA5738a18d83D41847dfFbDC6101d37C69c9B0cF on Polygon). */
  vehicleNftContract: string;
  /** Resolves a vehicle's `credentialsRef` (a config entry or secret name) to its credentials. */
  credentials: (credentialsRef: string) => Promise<DimoCredentials>;
  http: Omit<HttpOptions, "provider">;
  /** Clock for privilege-token expiry; defaults to Date.now. */
  now?: () => number;
};

/** Refresh a privilege token this long before it expires, so no call carries one that lapses in flight. */
const TOKEN_EXPIRY_MARGIN_MS = 60_000;
/** DIMO privilege tokens last about ten minutes; assume less when a token carries no readable `exp`. */
const ASSUMED_TOKEN_LIFETIME_MS = 5 * 60_000;

const COMMAND_PATHS = {
  lock: "doors/lock",
  unlock: "doors/unlock",
  open_trunk: "trunk/open",
  open_frunk: "frunk/open",
} as const satisfies Partial<Record<VehicleCommand, string>>;
type DimoCommand = keyof typeof COMMAND_PATHS;

const isDimoCommand = (command: VehicleCommand): command is DimoCommand => command in COMMAND_PATHS;

/**
 * DIMO: vehicle status by NFT token id with a privilege token from the token exchange,
 * door/trunk/frunk commands, and the user's H3 geofences.
 *
 * @example
 * const dimo = new DimoClient({ deviceDataUrl, devicesUrl, tokenExchangeUrl, vehicleNftContract, credentials, http });
 * const { signals } = await dimo.poll({ vehicleId: "dimo:17", provider: "dimo", providerVehicleId: "17", credentialsRef: "fleet" }, new Date());
 */
export class DimoClient implements VehicleDataClient, VehicleCommandClient {
  readonly provider: Provider = "dimo";
  readonly capabilities: ReadonlySet<VehicleCommand> = new Set<VehicleCommand>(
    Object.keys(COMMAND_PATHS) as DimoCommand[],
  );
  readonly #options: DimoClientOptions;
  readonly #http: HttpOptions;
  readonly #tokens = new Map<string, { token: string; expiresAtMs: number }>();

  constructor(options: DimoClientOptions) {
    this.#options = options;
    this.#http = { ...options.http, provider: "dimo" };
  }

  async poll(vehicle: ProviderVehicleRef, _now: Date): Promise<PollSample> {
    const meter: RequestMeter = { requests: 0 };
    const status = await this.status(vehicle, meter);
    // DIMO's status carries no trouble codes (error codes live on the user-device API, submitted by the app),
    // so `dtcs` stays undefined: the poller must not read that as "cleared".
    return { signals: normalizeDimoStatus(status), requestsUsed: meter.requests };
  }

  /** The raw status, for callers that want fields the canonical model has no place for. */
  async status(vehicle: ProviderVehicleRef, meter?: RequestMeter): Promise<DimoVehicleStatus> {
    const privileges = [DIMO_PRIVILEGES.nonLocationData, DIMO_PRIVILEGES.currentLocation];
    return this.#withPrivilege(vehicle, privileges, meter, async (token) => {
      const url = `${this.#options.deviceDataUrl}/v1/vehicle/${encodeURIComponent(vehicle.providerVehicleId)}/status`;
      return (await fetchJson(this.#authorized({ url, meter }, token), DimoVehicleStatusSchema, this.#http)).body;
    });
  }

  /**
   * Status history between two calendar dates (UTC, inclusive), oldest first.
   * DIMO warns the volume is large: keep ranges short.
   */
  async history(
    vehicle: ProviderVehicleRef,
    range: { startDate: string; endDate: string },
    meter?: RequestMeter,
  ): Promise<DimoHistorySample[]> {
    const privileges = [DIMO_PRIVILEGES.nonLocationData, DIMO_PRIVILEGES.allTimeLocation];
    return this.#withPrivilege(vehicle, privileges, meter, async (token) => {
      const url = new URL(
        `${this.#options.deviceDataUrl}/v1/vehicle/${encodeURIComponent(vehicle.providerVehicleId)}/history`,
      );
      url.searchParams.set("startDate", range.startDate);
      url.searchParams.set("endDate", range.endDate);
      const { body } = await fetchJson(this.#authorized({ url, meter }, token), DimoVehicleHistory, this.#http);
      return normalizeDimoHistory(body);
    });
  }

  /**
   * Sends lock, unlock, open_trunk or open_frunk. DIMO acknowledges the command, but its status has no
   * lock state to read back, so `confirmed` stays undefined. A command is never retried after an unknown
   * outcome (timeout, 5xx): the car may have acted on it.
   */
  async send(vehicle: ProviderVehicleRef, command: VehicleCommand, _params: CommandParams): Promise<CommandResult> {
    if (!isDimoCommand(command)) throw new UnsupportedCommandError("dimo", command);
    return this.#withPrivilege(vehicle, [DIMO_PRIVILEGES.commands], undefined, async (token) => {
      const url = `${this.#options.devicesUrl}/v1/vehicle/${encodeURIComponent(vehicle.providerVehicleId)}/commands/${COMMAND_PATHS[command]}`;
      const { body } = await fetchJson(
        this.#authorized({ method: "POST", url }, token),
        DimoCommandAccepted,
        this.#http,
      );
      return body?.operationId === undefined ? {} : { providerRequestId: body.operationId };
    });
  }

  /** The user's geofences (access token, not a privilege token: geofences belong to the user). */
  async listGeofences(credentialsRef: string): Promise<DimoGeofence[]> {
    const url = `${this.#options.devicesUrl}/v1/user/geofences`;
    return (await fetchJson(await this.#asUser({ url }, credentialsRef), DimoGeofenceList, this.#http)).body;
  }

  /** Creates a geofence; returns its id. Rejects invalid H3 cells before anything is sent. */
  async createGeofence(credentialsRef: string, geofence: DimoGeofenceInput): Promise<string> {
    const url = `${this.#options.devicesUrl}/v1/user/geofences`;
    const request = { method: "POST", url, json: geofenceBody(geofence), idempotent: false } as const;
    return (await fetchJson(await this.#asUser(request, credentialsRef), DimoGeofenceCreated, this.#http)).body.id;
  }

  async updateGeofence(credentialsRef: string, geofenceId: string, geofence: DimoGeofenceInput): Promise<void> {
    const url = `${this.#options.devicesUrl}/v1/user/geofences/${encodeURIComponent(geofenceId)}`;
    const request = { method: "PUT", url, json: geofenceBody(geofence) } as const;
    await fetchJson(await this.#asUser(request, credentialsRef), IgnoredBody, this.#http);
  }

  async deleteGeofence(credentialsRef: string, geofenceId: string): Promise<void> {
    const url = `${this.#options.devicesUrl}/v1/user/geofences/${encodeURIComponent(geofenceId)}`;
    await fetchJson(await this.#asUser({ method: "DELETE", url }, credentialsRef), IgnoredBody, this.#http);
  }

  /**
   * Runs `call` with a privilege token for the vehicle. Privilege tokens are short-lived and DIMO may revoke
   * them early; a 401 with a cached token drops it and exchanges once more before the error stands.
   */
  async #withPrivilege<T>(
    vehicle: ProviderVehicleRef,
    privileges: readonly number[],
    meter: RequestMeter | undefined,
    call: (token: string) => Promise<T>,
  ): Promise<T> {
    const key = `${vehicle.credentialsRef}\u001f${vehicle.providerVehicleId}\u001f${privileges.join(",")}`;
    const cached = this.#tokens.get(key);
    const now = (this.#options.now ?? Date.now)();
    if (cached && cached.expiresAtMs - TOKEN_EXPIRY_MARGIN_MS > now) {
      try {
        return await call(cached.token);
      } catch (error) {
        if (!isUnauthorized(error)) throw error;
        this.#tokens.delete(key);
      }
    }
    const token = await this.#exchange(vehicle, privileges, meter);
    this.#tokens.set(key, { token, expiresAtMs: expiryOf(token) ?? now + ASSUMED_TOKEN_LIFETIME_MS });
    return call(token);
  }

  async #exchange(vehicle: ProviderVehicleRef, privileges: readonly number[], meter?: RequestMeter): Promise<string> {
    const tokenId = Number(vehicle.providerVehicleId);
    const request: JsonRequest = {
      method: "POST",
      url: `${this.#options.tokenExchangeUrl}/v1/tokens/exchange`,
      json: {
        nftContractAddress: this.#options.vehicleNftContract,
        privileges,
        tokenId: Number.isSafeInteger(tokenId) ? tokenId : vehicle.providerVehicleId,
      },
      // Exchanging twice only mints a second token: safe to repeat.
      idempotent: true,
      ...(meter ? { meter } : {}),
    };
    const { body } = await fetchJson(
      await this.#asUser(request, vehicle.credentialsRef),
      DimoPrivilegeToken,
      this.#http,
    );
    return body.token;
  }

  #authorized(request: JsonRequest, token: string): JsonRequest {
    return { ...request, headers: { ...request.headers, authorization: `Bearer ${token}` } };
  }

  async #asUser(request: JsonRequest, credentialsRef: string): Promise<JsonRequest> {
    const { accessToken } = await this.#options.credentials(credentialsRef);
    return this.#authorized(request, accessToken);
  }
}

const IgnoredBody = z.unknown();

const isUnauthorized = (error: unknown): boolean => error instanceof ProviderAuthError;

const geofenceBody = (geofence: DimoGeofenceInput) => {
  const invalid = geofence.h3Indexes.filter((cell) => !isValidCell(cell));
  if (invalid.length > 0 || geofence.h3Indexes.length === 0) {
    throw new DimoGeofenceInvalidError(
      invalid,
      invalid.length > 0
        ? `geofence ${geofence.name} has invalid H3 cells: ${invalid.join(", ")}`
        : `geofence ${geofence.name} has no H3 cells`,
    );
  }
  return {
    name: geofence.name,
    type: geofence.type,
    h3Indexes: [...geofence.h3Indexes],
    userDeviceIds: [...(geofence.userDeviceIds ?? [])],
  };
};

/** The `exp` claim of a JWT, in epoch ms; undefined when the token is not a readable JWT. */
const expiryOf = (token: string): number | undefined => {
  const payload = token.split(".")[1];
  if (!payload) return undefined;
  try {
    const exp = (JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as { exp?: unknown }).exp;
    return typeof exp === "number" ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
};
