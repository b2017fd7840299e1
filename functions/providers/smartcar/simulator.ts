import { createHash, randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { SMARTCAR_DEFAULT_SCOPE } from "./oauth.ts";

/**
 * A local Smartcar: the Vehicles API v2.0 paths of the seed (../shared/seeds/smartcar-vehicles-openapi.txt), its
 * Bearer auth, status codes and Error bodies, /batch, and an OAuth server (authorize + token endpoint with the
 * authorization_code and refresh_token grants). Simulated vehicles drive, charge, raise DTCs and lock on command;
 * their state advances with the simulator's clock each time it is read, so a test with a fake clock sees exact
 * values. Faults (any status N times, Retry-After, slow responses) are scripted per path and vehicle.
 *
 * Real HTTP on 127.0.0.1 with an ephemeral port. Used by the client tests and by the local demo.
 *
 * @example
 * const sim = await startSmartcarSimulator({ vehicles: [{ id: "veh-1", location: { lat: 37.77, lon: -122.42 } }] });
 * const { accessToken } = sim.issueTokens(["veh-1"]);
 * sim.script({ kind: "fail", status: 500, times: 2 });
 * await sim.stop();
 */

const KM_PER_DEGREE_LAT = 111.32;
const HOUR_MS = 3_600_000;

export type LatLon = { lat: number; lon: number };

export type SimulatedVehicleInit = {
  id: string;
  make?: string;
  model?: string;
  year?: number;
  vin?: string;
  /** "ev" answers /battery and /charge and 501 on /fuel and /engine/oil; "ice" the other way round. Default "ev". */
  kind?: "ev" | "ice";
  location: LatLon;
  odometerKm?: number;
  /** Fractions 0..1, as the API reports them. */
  soc?: number;
  chargeLimit?: number;
  fuel?: number;
  oilLife?: number;
  /** Range at a full battery or tank. Default 400 km. */
  fullRangeKm?: number;
  tankLitres?: number;
  pluggedIn?: boolean;
  charging?: boolean;
  /** Battery fraction gained per hour while charging. Default 0.5. */
  chargeRatePerHour?: number;
  locked?: boolean;
  dtcs?: { code: string; timestamp: string | null }[];
  /** Granted permissions; default: every permission the simulator knows. */
  permissions?: string[];
  /** How long after a LOCK/UNLOCK the vehicle's state changes. Default 0 (at once). */
  lockLatencyMs?: number;
  /** The vehicle acknowledges commands but never acts on them (for read-back failures). */
  ignoresCommands?: boolean;
};

/** The live state of one simulated vehicle. */
export type SimulatedVehicleState = Required<Omit<SimulatedVehicleInit, "make" | "model" | "year" | "vin">> & {
  make: string;
  model: string;
  year: number;
  vin: string;
  speedKph: number;
  headingDeg: number;
  /** Remaining waypoints of the route being driven; empty = drive straight along the heading. */
  route: LatLon[];
  destination: (LatLon & { address?: string }) | undefined;
  pendingLock: { locked: boolean; at: number } | undefined;
  /** When the state was last advanced (the `sc-data-age` of every answer). */
  updatedAt: number;
};

export type SimulatedVehicle = {
  readonly id: string;
  /** A copy of the state, advanced to the simulator's now. */
  readonly state: SimulatedVehicleState;
  /** Overwrites state fields (signals, permissions, behaviour). */
  set(patch: Partial<SimulatedVehicleState>): void;
  /** Drives at a speed along a heading, or through waypoints (stopping at the last one). */
  drive(options: { speedKph: number; headingDeg?: number; route?: LatLon[] }): void;
  park(): void;
  raiseDtc(code: string): void;
  clearDtcs(): void;
};

export type SimulatorScript =
  | {
      kind: "fail";
      status: number;
      /** How many matching requests fail. Default 1. */
      times?: number;
      /** Only requests whose path (relative to /vehicles/{id}, e.g. "/batch", "/security"; or "/oauth/token") match. */
      path?: string;
      method?: "GET" | "POST";
      vehicleId?: string;
      /** Retry-After header value, e.g. "1" (seconds) or an HTTP date. */
      retryAfter?: string;
      /** Error body; default: the seed's Error schema filled for the status. */
      body?: unknown;
    }
  | { kind: "delay"; ms: number; times?: number; path?: string; method?: "GET" | "POST"; vehicleId?: string }
  | { kind: "set"; vehicleId: string; patch: Partial<SimulatedVehicleState> };

export type RecordedRequest = {
  method: string;
  /** Path without the query, and without a /v2.0 prefix. */
  path: string;
  vehicleId: string | undefined;
  status: number;
  /** For /batch: the paths it read. */
  batchPaths?: string[];
  at: number;
};

export type SmartcarSimulatorOptions = {
  vehicles?: SimulatedVehicleInit[];
  clientId?: string;
  clientSecret?: string;
  /** Simulator clock (ms). Default Date.now. */
  now?: () => number;
  /** Access token lifetime. Default 7200 s, as Smartcar's. */
  accessTokenTtlS?: number;
  /**
   * Vehicles GET /oauth/authorize grants (auto-approved). Default: all. With `single_select=true` in the Connect URL
   * the owner can select only one: the first of them.
   */
  connectVehicleIds?: string[];
  port?: number;
};

export type SmartcarSimulator = {
  url: string;
  vehicles: ReadonlyMap<string, SimulatedVehicle>;
  script(step: SimulatorScript): void;
  readonly requests: readonly RecordedRequest[];
  /** HTTP requests recorded, optionally for one vehicle and/or one path. */
  requestCount(filter?: { vehicleId?: string; path?: string; method?: string }): number;
  addVehicle(init: SimulatedVehicleInit): SimulatedVehicle;
  /** Tokens for these vehicles without going through Connect. */
  issueTokens(vehicleIds: readonly string[]): { accessToken: string; refreshToken: string; expiresIn: number };
  /** An authorization code as Connect would redirect with (for tests that skip the browser step). */
  issueAuthorizationCode(options: {
    vehicleIds: readonly string[];
    redirectUri: string;
    codeChallenge?: string;
  }): string;
  /** Every token issued so far stops working (401 on the API, invalid_grant on refresh). */
  revokeAllTokens(): void;
  stop(): Promise<void>;
};

const defaultsOf = (init: SimulatedVehicleInit, now: number): SimulatedVehicleState => ({
  id: init.id,
  make: init.make ?? "TESLA",
  model: init.model ?? "Model 3",
  year: init.year ?? 2022,
  vin:
    init.vin ??
    `5YJ3E1EA${init.id
      .replace(/[^A-Z0-9]/gi, "")
      .slice(0, 9)
      .toUpperCase()
      .padEnd(9, "0")}`,
  kind: init.kind ?? "ev",
  location: { ...init.location },
  odometerKm: init.odometerKm ?? 12_000,
  soc: init.soc ?? 0.8,
  chargeLimit: init.chargeLimit ?? 0.9,
  fuel: init.fuel ?? 0.6,
  oilLife: init.oilLife ?? 0.7,
  fullRangeKm: init.fullRangeKm ?? 400,
  tankLitres: init.tankLitres ?? 50,
  pluggedIn: init.pluggedIn ?? false,
  charging: init.charging ?? false,
  chargeRatePerHour: init.chargeRatePerHour ?? 0.5,
  locked: init.locked ?? true,
  dtcs: init.dtcs?.map((dtc) => ({ ...dtc })) ?? [],
  // By default a simulated owner grants everything Dashlight asks for.
  permissions: init.permissions ?? [...SMARTCAR_DEFAULT_SCOPE],
  lockLatencyMs: init.lockLatencyMs ?? 0,
  ignoresCommands: init.ignoresCommands ?? false,
  speedKph: 0,
  headingDeg: 0,
  route: [],
  destination: undefined,
  pendingLock: undefined,
  updatedAt: now,
});

const round = (value: number, digits: number) => Math.round(value * 10 ** digits) / 10 ** digits;

const distanceKm = (a: LatLon, b: LatLon): number => {
  const toRad = (deg: number) => (deg * Math.PI) / 180;
  const dLat = toRad(b.lat - a.lat);
  const dLon = toRad(b.lon - a.lon);
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(toRad(a.lat)) * Math.cos(toRad(b.lat)) * Math.sin(dLon / 2) ** 2;
  return 2 * 6371.0088 * Math.asin(Math.sqrt(h));
};

const moveToward = (from: LatLon, to: LatLon, km: number): LatLon => {
  const total = distanceKm(from, to);
  if (total <= km || total === 0) return { ...to };
  const f = km / total;
  return { lat: from.lat + (to.lat - from.lat) * f, lon: from.lon + (to.lon - from.lon) * f };
};

const moveAlong = (from: LatLon, headingDeg: number, km: number): LatLon => {
  const rad = (headingDeg * Math.PI) / 180;
  const lat = from.lat + (km * Math.cos(rad)) / KM_PER_DEGREE_LAT;
  const lon = from.lon + (km * Math.sin(rad)) / (KM_PER_DEGREE_LAT * Math.cos((from.lat * Math.PI) / 180));
  return { lat, lon };
};

/** Advances a vehicle's state from `updatedAt` to `now`: driving, charging, and a lock change that was due. */
const advance = (state: SimulatedVehicleState, now: number): void => {
  const elapsedMs = Math.max(0, now - state.updatedAt);
  const hours = elapsedMs / HOUR_MS;
  if (state.speedKph > 0 && hours > 0) {
    let remaining = state.speedKph * hours;
    let travelled = 0;
    if (state.route.length > 0) {
      while (remaining > 0 && state.route.length > 0) {
        const next = state.route[0] as LatLon;
        const leg = distanceKm(state.location, next);
        const step = Math.min(leg, remaining);
        state.location = moveToward(state.location, next, step);
        travelled += step;
        remaining -= step;
        if (step >= leg) state.route.shift();
      }
      if (state.route.length === 0) state.speedKph = 0;
    } else {
      state.location = moveAlong(state.location, state.headingDeg, remaining);
      travelled = remaining;
    }
    state.odometerKm += travelled;
    const used = travelled / state.fullRangeKm;
    if (state.kind === "ev") state.soc = Math.max(0, state.soc - used);
    else state.fuel = Math.max(0, state.fuel - used);
  }
  if (state.kind === "ev" && state.charging) {
    if (!state.pluggedIn) state.charging = false;
    else state.soc = Math.min(state.chargeLimit, state.soc + state.chargeRatePerHour * hours);
    if (state.soc >= state.chargeLimit) state.charging = false;
  }
  if (state.pendingLock !== undefined && state.pendingLock.at <= now) {
    state.locked = state.pendingLock.locked;
    state.pendingLock = undefined;
  }
  state.updatedAt = Math.max(state.updatedAt, now);
};

type ApiAnswer = { status: number; body: unknown; headers?: Record<string, string> };

const ERROR_TEMPLATES: Record<number, { type: string; code: string | null; resolution?: string; detail: string }> = {
  400: { type: "VALIDATION", code: "PARAMETER", detail: "Request invalid or malformed." },
  401: {
    type: "AUTHENTICATION",
    code: null,
    resolution: "REAUTHENTICATE",
    detail: "The authorization header is missing or the token is invalid.",
  },
  403: {
    type: "PERMISSION",
    code: null,
    resolution: "REAUTHENTICATE",
    detail: "Your application has insufficient permissions to access the requested resource.",
  },
  404: { type: "RESOURCE_NOT_FOUND", code: "PATH", detail: "The requested resource does not exist." },
  409: { type: "VEHICLE_STATE", code: "UNREACHABLE", resolution: "RETRY_LATER", detail: "The vehicle is unreachable." },
  429: {
    type: "RATE_LIMIT",
    code: "VEHICLE",
    resolution: "RETRY_LATER",
    detail: "You have reached the throttling rate limit for this vehicle.",
  },
  500: { type: "SERVER", code: "INTERNAL", resolution: "RETRY_LATER", detail: "Internal server error." },
  501: { type: "COMPATIBILITY", code: "VEHICLE_NOT_CAPABLE", detail: "The vehicle is not capable of this request." },
  502: { type: "UPSTREAM", code: "UNKNOWN_ISSUE", resolution: "RETRY_LATER", detail: "The OEM answered an error." },
  503: { type: "SERVER", code: "UNAVAILABLE", resolution: "RETRY_LATER", detail: "Service unavailable." },
  504: { type: "UPSTREAM", code: "TIMEOUT", resolution: "RETRY_LATER", detail: "The vehicle did not answer in time." },
};

/** The seed's Error body for a status, optionally with a more precise code and detail. */
export const smartcarErrorBody = (
  status: number,
  override: { type?: string; code?: string | null; detail?: string; resolution?: string } = {},
) => {
  const template = ERROR_TEMPLATES[status] ?? { type: "SERVER", code: "UNKNOWN", detail: "Unexpected error." };
  const merged = { ...template, ...override };
  return {
    type: merged.type,
    code: merged.code,
    title: merged.type,
    detail: merged.detail,
    status,
    ...(merged.resolution === undefined ? {} : { resolution: merged.resolution }),
    suggestedUserMessage: merged.detail,
  };
};

const fail = (status: number, override?: Parameters<typeof smartcarErrorBody>[1]): ApiAnswer => ({
  status,
  body: smartcarErrorBody(status, override),
});

/** Permission each data path and command needs. */
const PATH_PERMISSIONS: Record<string, string> = {
  "GET /battery": "read_battery",
  "GET /charge": "read_charge",
  "GET /charge/limit": "read_charge",
  "GET /security": "read_security",
  "GET /location": "read_location",
  "GET /odometer": "read_odometer",
  "GET /fuel": "read_fuel",
  "GET /engine/oil": "read_engine_oil",
  "GET /diagnostics/dtcs": "read_diagnostics",
  "POST /security": "control_security",
  "POST /charge": "control_charge",
  "POST /charge/limit": "control_charge",
  "POST /commands/set-destination": "control_navigation",
};

const EV_ONLY = new Set(["/battery", "/charge", "/charge/limit"]);
const ICE_ONLY = new Set(["/fuel", "/engine/oil"]);

type TokenGrant = { vehicleIds: Set<string>; expiresAt: number; revoked: boolean };
type CodeGrant = { vehicleIds: string[]; redirectUri: string; codeChallenge?: string; expiresAt: number };
type Fault = Extract<SimulatorScript, { kind: "fail" | "delay" }> & { left: number };

const randomToken = (prefix: string) => `${prefix}_${randomBytes(16).toString("hex")}`;

/**
 * The Smartcar configuration (see #adapters/providers/smartcar.ts) that points Dashlight at a
 * simulator: its API, OAuth authorize and token endpoints, and the client it accepts.
 *
 * @example Object.assign(process.env, smartcarSimulatorEnv(sim.url, client, "http://127.0.0.1:3000/connect/smartcar/callback"))
 */
export const smartcarSimulatorEnv = (
  simulatorUrl: string,
  client: { readonly id: string; readonly secret: string },
  redirectUri: string,
): Record<string, string> => ({
  SMARTCAR_API_BASE_URL: simulatorUrl,
  SMARTCAR_CLIENT_ID: client.id,
  SMARTCAR_CLIENT_SECRET: client.secret,
  SMARTCAR_REDIRECT_URI: redirectUri,
  SMARTCAR_AUTHORIZE_URL: `${simulatorUrl}/oauth/authorize`,
  SMARTCAR_TOKEN_URL: `${simulatorUrl}/oauth/token`,
});

export const startSmartcarSimulator = async (options: SmartcarSimulatorOptions = {}): Promise<SmartcarSimulator> => {
  const now = options.now ?? Date.now;
  const clientId = options.clientId ?? "sim-client-id";
  const clientSecret = options.clientSecret ?? "sim-client-secret";
  const accessTtlMs = (options.accessTokenTtlS ?? 7200) * 1000;
  const states = new Map<string, SimulatedVehicleState>();
  const handles = new Map<string, SimulatedVehicle>();
  const accessTokens = new Map<string, TokenGrant>();
  const refreshTokens = new Map<string, TokenGrant>();
  const codes = new Map<string, CodeGrant>();
  const faults: Fault[] = [];
  const requests: RecordedRequest[] = [];
  const timers = new Set<NodeJS.Timeout>();
  let requestSeq = 0;

  const stateOf = (id: string): SimulatedVehicleState | undefined => {
    const state = states.get(id);
    if (state !== undefined) advance(state, now());
    return state;
  };

  const addVehicle = (init: SimulatedVehicleInit): SimulatedVehicle => {
    const state = defaultsOf(init, now());
    states.set(init.id, state);
    const handle: SimulatedVehicle = {
      id: init.id,
      get state() {
        const current = stateOf(init.id) as SimulatedVehicleState;
        return structuredClone(current);
      },
      set(patch) {
        const current = stateOf(init.id) as SimulatedVehicleState;
        Object.assign(current, structuredClone(patch));
      },
      drive({ speedKph, headingDeg, route }) {
        const current = stateOf(init.id) as SimulatedVehicleState;
        current.speedKph = speedKph;
        if (headingDeg !== undefined) current.headingDeg = headingDeg;
        current.route = route?.map((point) => ({ ...point })) ?? [];
      },
      park() {
        const current = stateOf(init.id) as SimulatedVehicleState;
        current.speedKph = 0;
        current.route = [];
      },
      raiseDtc(code) {
        const current = stateOf(init.id) as SimulatedVehicleState;
        if (!current.dtcs.some((dtc) => dtc.code === code)) {
          current.dtcs.push({ code, timestamp: new Date(now()).toISOString() });
        }
      },
      clearDtcs() {
        (stateOf(init.id) as SimulatedVehicleState).dtcs = [];
      },
    };
    handles.set(init.id, handle);
    return handle;
  };
  for (const init of options.vehicles ?? []) addVehicle(init);

  const issueTokens = (vehicleIds: readonly string[]) => {
    const accessToken = randomToken("sim_at");
    const refreshToken = randomToken("sim_rt");
    const grant = { vehicleIds: new Set(vehicleIds), expiresAt: now() + accessTtlMs, revoked: false };
    accessTokens.set(accessToken, grant);
    refreshTokens.set(refreshToken, {
      ...grant,
      vehicleIds: new Set(vehicleIds),
      expiresAt: now() + 60 * 24 * HOUR_MS,
    });
    return { accessToken, refreshToken, expiresIn: accessTtlMs / 1000 };
  };

  const issueAuthorizationCode = (grant: {
    vehicleIds: readonly string[];
    redirectUri: string;
    codeChallenge?: string;
  }) => {
    const code = randomToken("sim_code");
    codes.set(code, {
      vehicleIds: [...grant.vehicleIds],
      redirectUri: grant.redirectUri,
      ...(grant.codeChallenge === undefined ? {} : { codeChallenge: grant.codeChallenge }),
      expiresAt: now() + 10 * 60_000,
    });
    return code;
  };

  /** The first scripted fault or delay matching the request, consumed once. */
  const takeScripted = (kind: "fail" | "delay", method: string, path: string, vehicleId: string | undefined) => {
    const index = faults.findIndex(
      (fault) =>
        fault.kind === kind &&
        fault.left > 0 &&
        (fault.path === undefined || fault.path === path) &&
        (fault.method === undefined || fault.method === method) &&
        (fault.vehicleId === undefined || fault.vehicleId === vehicleId),
    );
    if (index === -1) return undefined;
    const fault = faults[index] as Fault;
    fault.left -= 1;
    if (fault.left <= 0) faults.splice(index, 1);
    return fault;
  };

  const scriptedFailure = (method: string, path: string, vehicleId: string | undefined): ApiAnswer | undefined => {
    const fault = takeScripted("fail", method, path, vehicleId);
    if (fault === undefined || fault.kind !== "fail") return undefined;
    return {
      status: fault.status,
      body: fault.body ?? smartcarErrorBody(fault.status),
      ...(fault.retryAfter === undefined ? {} : { headers: { "retry-after": fault.retryAfter } }),
    };
  };

  const dataHeaders = (state: SimulatedVehicleState) => ({
    "sc-data-age": new Date(state.updatedAt).toISOString(),
    "sc-unit-system": "metric",
  });

  /** One data path of one vehicle, as a plain GET or a batch item answers it. */
  const readPath = (state: SimulatedVehicleState, path: string): ApiAnswer => {
    const permission = PATH_PERMISSIONS[`GET ${path}`];
    if (permission === undefined) return fail(404);
    if (!state.permissions.includes(permission)) return fail(403);
    if ((state.kind === "ice" && EV_ONLY.has(path)) || (state.kind === "ev" && ICE_ONLY.has(path))) return fail(501);
    const ok = (body: unknown): ApiAnswer => ({ status: 200, body, headers: dataHeaders(state) });
    const rangeKm = round((state.kind === "ev" ? state.soc : state.fuel) * state.fullRangeKm, 1);
    switch (path) {
      case "/battery":
        return ok({ percentRemaining: round(state.soc, 4), range: rangeKm });
      case "/charge":
        return ok({
          isPluggedIn: state.pluggedIn,
          state: state.charging
            ? "CHARGING"
            : state.pluggedIn && state.soc >= state.chargeLimit
              ? "FULLY_CHARGED"
              : "NOT_CHARGING",
        });
      case "/charge/limit":
        return ok({ limit: state.chargeLimit });
      case "/security":
        return ok({
          isLocked: state.locked,
          doors: ["frontLeftDoor", "frontRightDoor", "backLeftDoor", "backRightDoor"].map((type) => ({
            type,
            status: state.locked ? "LOCKED" : "UNLOCKED",
          })),
        });
      case "/location":
        return ok({ latitude: round(state.location.lat, 6), longitude: round(state.location.lon, 6) });
      case "/odometer":
        return ok({ distance: round(state.odometerKm, 1) });
      case "/fuel":
        return ok({
          percentRemaining: round(state.fuel, 4),
          amountRemaining: round(state.fuel * state.tankLitres, 1),
          range: rangeKm,
        });
      case "/engine/oil":
        return ok({ lifeRemaining: state.oilLife });
      case "/diagnostics/dtcs":
        return ok({ activeCodes: state.dtcs.map((dtc) => ({ ...dtc })) });
      default:
        return fail(404);
    }
  };

  const command = (state: SimulatedVehicleState, path: string, body: unknown): ApiAnswer => {
    const permission = PATH_PERMISSIONS[`POST ${path}`];
    if (permission === undefined) return fail(404);
    if (!state.permissions.includes(permission)) return fail(403);
    const input = (typeof body === "object" && body !== null ? body : {}) as Record<string, unknown>;
    const done: ApiAnswer = {
      status: 200,
      body: { status: "success", message: "Successfully sent request to vehicle" },
    };
    switch (path) {
      case "/security": {
        if (input.action !== "LOCK" && input.action !== "UNLOCK")
          return fail(400, { detail: "action must be LOCK or UNLOCK" });
        if (state.ignoresCommands) return done;
        const locked = input.action === "LOCK";
        if (state.lockLatencyMs > 0) state.pendingLock = { locked, at: now() + state.lockLatencyMs };
        else state.locked = locked;
        return done;
      }
      case "/charge": {
        if (input.action !== "START" && input.action !== "STOP")
          return fail(400, { detail: "action must be START or STOP" });
        if (state.kind !== "ev") return fail(501);
        if (input.action === "STOP") {
          if (!state.ignoresCommands) state.charging = false;
          return done;
        }
        if (!state.pluggedIn) {
          return fail(409, {
            code: "CHARGING_PLUG_NOT_CONNECTED",
            detail: "The vehicle is not plugged in.",
            resolution: "RETRY_LATER",
          });
        }
        if (state.soc >= state.chargeLimit) {
          return fail(409, { code: "FULLY_CHARGED", detail: "The vehicle is already charged to its limit." });
        }
        if (!state.ignoresCommands) state.charging = true;
        return done;
      }
      case "/charge/limit": {
        const limit = input.limit;
        if (typeof limit !== "number" || limit < 0.5 || limit > 1) {
          return fail(400, { detail: "limit must be a number between 0.5 and 1.0" });
        }
        if (state.kind !== "ev") return fail(501);
        if (!state.ignoresCommands) state.chargeLimit = limit;
        return done;
      }
      case "/commands/set-destination": {
        const { latitude, longitude, address } = input;
        if (
          typeof latitude !== "number" ||
          typeof longitude !== "number" ||
          Math.abs(latitude) > 90 ||
          Math.abs(longitude) > 180
        ) {
          return fail(400, { detail: "latitude and longitude are required numbers" });
        }
        if (!state.ignoresCommands) {
          state.destination = { lat: latitude, lon: longitude, ...(typeof address === "string" ? { address } : {}) };
        }
        return done;
      }
      default:
        return fail(404);
    }
  };

  const bearerGrant = (request: IncomingMessage): TokenGrant | undefined => {
    const header = request.headers.authorization ?? "";
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    const grant = match?.[1] === undefined ? undefined : accessTokens.get(match[1]);
    return grant === undefined || grant.revoked || grant.expiresAt <= now() ? undefined : grant;
  };

  const vehicleApi = (
    request: IncomingMessage,
    method: string,
    path: string,
    query: URLSearchParams,
    body: unknown,
    record: Partial<RecordedRequest>,
  ): ApiAnswer => {
    const grant = bearerGrant(request);
    if (grant === undefined) return fail(401);
    if (method === "GET" && path === "/vehicles") {
      const ids = [...grant.vehicleIds].filter((id) => states.has(id));
      const offset = Number(query.get("offset") ?? 0) || 0;
      const limit = Number(query.get("limit") ?? 10) || 10;
      return {
        status: 200,
        body: { vehicles: ids.slice(offset, offset + limit), paging: { count: ids.length, offset } },
      };
    }
    const match = /^\/vehicles\/([^/]+)(\/.*)?$/.exec(path);
    if (match === null) return fail(404);
    const vehicleId = decodeURIComponent(match[1] as string);
    const sub = match[2] ?? "";
    const state = stateOf(vehicleId);
    if (state === undefined) return fail(404, { code: "VEHICLE", detail: "Vehicle not found." });
    if (!grant.vehicleIds.has(vehicleId)) return fail(403);
    if (method === "GET" && sub === "") {
      return {
        status: 200,
        body: { id: state.id, make: state.make, model: state.model, year: state.year, vin: state.vin },
      };
    }
    if (method === "GET" && sub === "/permissions")
      return { status: 200, body: { permissions: [...state.permissions] } };
    if (method === "GET" && sub === "/signals") {
      const part = (p: string) => {
        const answer = readPath(state, p);
        return answer.status === 200 ? { [p.slice(1)]: answer.body } : {};
      };
      return {
        status: 200,
        body: { ...part("/battery"), ...part("/charge"), ...part("/location"), ...part("/odometer"), ...part("/fuel") },
        headers: dataHeaders(state),
      };
    }
    if (method === "POST" && sub === "/batch") {
      const list = (body as { requests?: unknown })?.requests;
      if (!Array.isArray(list) || list.length === 0) return fail(400, { detail: "requests must be a non-empty array" });
      const paths = list.map((item) => (item as { path?: unknown })?.path);
      if (!paths.every((p): p is string => typeof p === "string"))
        return fail(400, { detail: "each request needs a path" });
      record.batchPaths = paths;
      const responses = paths.map((p) => {
        const answer = scriptedFailure("GET", p, vehicleId) ?? readPath(state, p);
        return { path: p, code: answer.status, headers: answer.headers ?? {}, body: answer.body };
      });
      return { status: 200, body: { responses } };
    }
    if (method === "GET") return readPath(state, sub);
    if (method === "POST") return command(state, sub, body);
    return fail(404);
  };

  const basicClient = (request: IncomingMessage, form: URLSearchParams): boolean => {
    const header = request.headers.authorization ?? "";
    const match = /^Basic\s+(\S+)$/i.exec(header);
    if (match?.[1] !== undefined) {
      const [id, secret] = Buffer.from(match[1], "base64").toString("utf8").split(":").map(decodeURIComponent);
      return id === clientId && secret === clientSecret;
    }
    return form.get("client_id") === clientId && form.get("client_secret") === clientSecret;
  };

  const oauthError = (status: number, error: string, description: string): ApiAnswer => ({
    status,
    body: { error, error_description: description },
  });

  const tokenEndpoint = (request: IncomingMessage, raw: string): ApiAnswer => {
    const form = new URLSearchParams(raw);
    if (!basicClient(request, form)) return oauthError(401, "invalid_client", "Invalid client credentials.");
    const tokenBody = (vehicleIds: readonly string[]) => {
      const tokens = issueTokens(vehicleIds);
      return {
        status: 200,
        body: {
          access_token: tokens.accessToken,
          token_type: "Bearer",
          expires_in: tokens.expiresIn,
          refresh_token: tokens.refreshToken,
        },
        headers: { "cache-control": "no-store" },
      };
    };
    switch (form.get("grant_type")) {
      case "authorization_code": {
        const code = form.get("code") ?? "";
        const grant = codes.get(code);
        codes.delete(code);
        if (grant === undefined || grant.expiresAt <= now()) return oauthError(400, "invalid_grant", "Invalid code.");
        if (grant.redirectUri !== form.get("redirect_uri"))
          return oauthError(400, "invalid_grant", "redirect_uri mismatch.");
        if (grant.codeChallenge !== undefined) {
          const verifier = form.get("code_verifier") ?? "";
          const challenge = createHash("sha256").update(verifier).digest("base64url");
          if (challenge !== grant.codeChallenge) return oauthError(400, "invalid_grant", "PKCE verification failed.");
        }
        return tokenBody(grant.vehicleIds);
      }
      case "refresh_token": {
        const refreshToken = form.get("refresh_token") ?? "";
        const grant = refreshTokens.get(refreshToken);
        if (grant === undefined || grant.revoked || grant.expiresAt <= now()) {
          return oauthError(400, "invalid_grant", "Invalid or expired refresh token.");
        }
        // Smartcar rotates refresh tokens: the old one stops working once used.
        grant.revoked = true;
        return tokenBody([...grant.vehicleIds]);
      }
      default:
        return oauthError(400, "unsupported_grant_type", "grant_type must be authorization_code or refresh_token.");
    }
  };

  /**
   * Connect, auto-approved: redirects back with a code for `connectVehicleIds` (or every vehicle); with
   * `single_select=true`, as Smartcar documents it, the owner selects only one vehicle, here the first.
   */
  const authorizeEndpoint = (query: URLSearchParams): ApiAnswer => {
    const redirectUri = query.get("redirect_uri");
    if (query.get("client_id") !== clientId || redirectUri === null || query.get("response_type") !== "code") {
      return { status: 400, body: { error: "invalid_request" } };
    }
    const challenge = query.get("code_challenge");
    const selectable = options.connectVehicleIds ?? [...states.keys()];
    const code = issueAuthorizationCode({
      vehicleIds: query.get("single_select") === "true" ? selectable.slice(0, 1) : selectable,
      redirectUri,
      ...(challenge === null ? {} : { codeChallenge: challenge }),
    });
    const target = new URL(redirectUri);
    target.searchParams.set("code", code);
    const state = query.get("state");
    if (state !== null) target.searchParams.set("state", state);
    return { status: 302, body: undefined, headers: { location: target.toString() } };
  };

  const route = (request: IncomingMessage, raw: string, record: Partial<RecordedRequest>): ApiAnswer => {
    const url = new URL(request.url ?? "/", "http://127.0.0.1");
    const method = request.method ?? "GET";
    const path = url.pathname.replace(/^\/v2\.0(?=\/)/, "");
    if (path === "/oauth/token" && method === "POST") return tokenEndpoint(request, raw);
    if (path === "/oauth/authorize" && method === "GET") return authorizeEndpoint(url.searchParams);
    let body: unknown;
    if (raw !== "") {
      try {
        body = JSON.parse(raw);
      } catch {
        return fail(400, { detail: "Body is not JSON." });
      }
    }
    return vehicleApi(request, method, path, url.searchParams, body, record);
  };

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    response.on("error", () => undefined);
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of request) {
      size += (chunk as Buffer).length;
      if (size > 1_000_000) {
        response.writeHead(413).end();
        return;
      }
      chunks.push(chunk as Buffer);
    }
    const raw = Buffer.concat(chunks).toString("utf8");
    const url = new URL(request.url ?? "/", "http://127.0.0.1");
    const method = request.method ?? "GET";
    const path = url.pathname.replace(/^\/v2\.0(?=\/)/, "");
    const vehicleMatch = /^\/vehicles\/([^/]+)(\/.*)?$/.exec(path);
    const vehicleId = vehicleMatch?.[1] === undefined ? undefined : decodeURIComponent(vehicleMatch[1]);
    const scriptPath = vehicleMatch === null ? path : (vehicleMatch[2] ?? "");
    const record: Partial<RecordedRequest> = {};

    const slow = takeScripted("delay", method, scriptPath, vehicleId);
    if (slow?.kind === "delay") {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          timers.delete(timer);
          resolve();
        }, slow.ms);
        timers.add(timer);
      });
    }
    const answer = scriptedFailure(method, scriptPath, vehicleId) ?? route(request, raw, record);
    requests.push({
      method,
      path,
      vehicleId,
      status: answer.status,
      ...(record.batchPaths === undefined ? {} : { batchPaths: record.batchPaths }),
      at: now(),
    });
    if (response.destroyed) return;
    requestSeq += 1;
    const headers: Record<string, string> = { "sc-request-id": `sim-req-${requestSeq}`, ...(answer.headers ?? {}) };
    if (answer.body === undefined) {
      response.writeHead(answer.status, headers).end();
      return;
    }
    const text = JSON.stringify(answer.body);
    response.writeHead(answer.status, { ...headers, "content-type": "application/json" }).end(text);
  };

  const server = createServer((request, response) => {
    handle(request, response).catch(() => {
      if (!response.headersSent) response.writeHead(500).end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    vehicles: handles,
    script(step) {
      if (step.kind === "set") {
        const vehicle = handles.get(step.vehicleId);
        if (vehicle === undefined) throw new Error(`no simulated vehicle ${step.vehicleId}`);
        vehicle.set(step.patch);
        return;
      }
      faults.push({ ...step, left: step.times ?? 1 });
    },
    get requests() {
      return requests;
    },
    requestCount(filter = {}) {
      return requests.filter(
        (request) =>
          (filter.vehicleId === undefined || request.vehicleId === filter.vehicleId) &&
          (filter.method === undefined || request.method === filter.method) &&
          (filter.path === undefined || request.path === filter.path || request.path.endsWith(filter.path)),
      ).length;
    },
    addVehicle,
    issueTokens,
    issueAuthorizationCode,
    revokeAllTokens() {
      for (const grant of [...accessTokens.values(), ...refreshTokens.values()]) grant.revoked = true;
    },
    async stop() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
};
