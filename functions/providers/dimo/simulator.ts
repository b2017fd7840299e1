import { randomUUID } from "node:crypto";
import { bearerOf, type SimFault, type SimReply, type SimRequest, startSimServer } from "../http/simulator-server.ts";
import type { DimoGeofence, DimoVehicleStatus } from "./schema.ts";

/*
 * A local DIMO: token exchange, Device Data API (status, history) and Devices API (commands,
 * geofences) on one port, with the seed's paths and bearer auth. Vehicles drive, charge and
 * lock/unlock on command; tests and the demo script them.
 */

export type DimoSimVehicle = {
  tokenId: string;
  /** The access token (Web3 challenge JWT) of the owner; the exchange only mints for the owner. */
  ownerAccessToken: string;
  status: DimoVehicleStatus;
  locked: boolean;
  trunkOpen: boolean;
  frunkOpen: boolean;
  /** Set while driving: the car moves this fast along this heading on each tick. */
  driving?: { speedKph: number; headingDeg: number };
  /** Set while charging: state of charge gained per simulated minute. */
  charging?: { socPctPerMinute: number };
  /** Status snapshots recorded on each tick (history). */
  history: { time: string; data: DimoVehicleStatus }[];
  commands: { command: string; at: string; operationId: string }[];
};

export type DimoSimStep =
  | SimFault
  | { kind: "set"; tokenId: string; status: Partial<DimoVehicleStatus> }
  | { kind: "drive"; tokenId: string; speedKph: number; headingDeg: number }
  | { kind: "park"; tokenId: string }
  | { kind: "charge"; tokenId: string; socPctPerMinute: number }
  | { kind: "stop_charge"; tokenId: string }
  /** Advances every vehicle by this much simulated time and stamps their status with `now`. */
  | { kind: "tick"; seconds: number }
  /** Revokes every privilege token minted so far (the next call with one gets 401). */
  | { kind: "revoke_privilege_tokens" };

export type DimoSimulatorOptions = {
  vehicles?: readonly { tokenId: string; ownerAccessToken?: string; status?: Partial<DimoVehicleStatus> }[];
  /** Lifetime of minted privilege tokens (their JWT `exp`). */
  privilegeTokenTtlSeconds?: number;
  now?: () => Date;
};

export type DimoSimulator = {
  url: string;
  script: (...steps: DimoSimStep[]) => void;
  requests: readonly SimRequest[];
  countFor: (tokenId: string) => number;
  vehicle: (tokenId: string) => DimoSimVehicle;
  geofences: () => DimoGeofence[];
  stop: () => Promise<void>;
};

export const DIMO_SIM_ACCESS_TOKEN = "dimo-sim-access-token";

type PrivilegeGrant = { tokenId: string; privileges: number[]; expMs: number };

const KM_PER_DEGREE_LAT = 111.32;

export const startDimoSimulator = async (options: DimoSimulatorOptions = {}): Promise<DimoSimulator> => {
  const now = options.now ?? (() => new Date());
  const ttlSeconds = options.privilegeTokenTtlSeconds ?? 600;
  const vehicles = new Map<string, DimoSimVehicle>();
  const grants = new Map<string, PrivilegeGrant>();
  const geofences = new Map<string, DimoGeofence>();

  for (const v of options.vehicles ?? [{ tokenId: "1" }]) {
    vehicles.set(v.tokenId, {
      tokenId: v.tokenId,
      ownerAccessToken: v.ownerAccessToken ?? DIMO_SIM_ACCESS_TOKEN,
      status: { timestamp: now().toISOString(), ...v.status },
      locked: true,
      trunkOpen: false,
      frunkOpen: false,
      history: [],
      commands: [],
    });
  }
  const accessTokens = new Set([...vehicles.values()].map((v) => v.ownerAccessToken));

  const error = (status: number, message?: string): SimReply => ({
    status,
    json: { code: status, message: message ?? DEFAULT_MESSAGES[status] ?? "error" },
  });

  const privilegeFor = (
    authorization: string | undefined,
    tokenId: string,
    privilege: number,
  ): SimReply | undefined => {
    const grant = authorization === undefined ? undefined : grants.get(authorization);
    if (!grant || grant.expMs <= now().getTime()) return error(401, "invalid or expired privilege token");
    if (grant.tokenId !== tokenId || !grant.privileges.includes(privilege)) {
      return error(403, `token lacks privilege ${privilege} for vehicle ${tokenId}`);
    }
    return undefined;
  };

  const mint = (grant: PrivilegeGrant): string => {
    const payload = Buffer.from(
      JSON.stringify({
        token_id: grant.tokenId,
        privilege_ids: grant.privileges,
        exp: Math.floor(grant.expMs / 1000),
        jti: randomUUID(),
      }),
    ).toString("base64url");
    const token = `eyJhbGciOiJub25lIn0.${payload}.sim`;
    grants.set(token, grant);
    return token;
  };

  const server = await startSimServer({
    now,
    errorReply: (status) => error(status),
    vehicleIdOf: (path) => /^\/v1\/vehicle\/([^/]+)\//.exec(path)?.[1],
    handle: ({ method, path, query, headers, body }) => {
      const bearer = bearerOf(headers);
      if (method === "POST" && path === "/v1/tokens/exchange") {
        if (!bearer || !accessTokens.has(bearer)) return error(401, "invalid access token");
        const request = body as { tokenId?: unknown; privileges?: unknown; nftContractAddress?: unknown };
        if (typeof request?.nftContractAddress !== "string" || !Array.isArray(request.privileges)) {
          return error(400, "nftContractAddress and privileges are required");
        }
        const vehicle = vehicles.get(String(request.tokenId));
        if (!vehicle) return error(404, `vehicle ${String(request.tokenId)} not found`);
        if (vehicle.ownerAccessToken !== bearer) return error(403, "not the vehicle's owner");
        const token = mint({
          tokenId: vehicle.tokenId,
          privileges: request.privileges.map(Number),
          expMs: now().getTime() + ttlSeconds * 1000,
        });
        return { status: 200, json: { token } };
      }

      const vehicleMatch =
        /^\/v1\/vehicle\/([^/]+)\/(status|history|commands\/(doors\/lock|doors\/unlock|trunk\/open|frunk\/open))$/.exec(
          path,
        );
      if (vehicleMatch) {
        const tokenId = decodeURIComponent(vehicleMatch[1] ?? "");
        const vehicle = vehicles.get(tokenId);
        const what = vehicleMatch[2] ?? "";
        const isCommand = what.startsWith("commands/");
        if (method !== (isCommand ? "POST" : "GET")) return error(405, "method not allowed");
        const denied = privilegeFor(bearer ? `${bearer}` : undefined, tokenId, isCommand ? 2 : 1);
        if (!vehicle) return denied ?? error(404, `vehicle ${tokenId} not found`);
        if (denied) return denied;
        if (what === "status") {
          const { latitude, longitude, ...rest } = vehicle.status;
          const located = grants.get(bearer ?? "")?.privileges.includes(3);
          return { status: 200, json: located ? vehicle.status : rest };
        }
        if (what === "history") {
          const start = query.get("startDate") ?? "0000-01-01";
          const end = `${query.get("endDate") ?? "9999-12-31"}T23:59:59.999Z`;
          const hits = vehicle.history
            .filter((h) => h.time >= start && h.time <= end)
            .map((h) => ({ _source: { data: h.data, time: h.time, type: "zone.dimo.device.status" } }));
          return { status: 200, json: { hits: { hits } } };
        }
        const command = what.slice("commands/".length);
        const operationId = randomUUID();
        if (command === "doors/lock") vehicle.locked = true;
        if (command === "doors/unlock") {
          if ((vehicle.status.speed ?? 0) > 0) return error(409, "vehicle is moving");
          vehicle.locked = false;
        }
        if (command === "trunk/open") vehicle.trunkOpen = true;
        if (command === "frunk/open") vehicle.frunkOpen = true;
        vehicle.commands.push({ command, at: now().toISOString(), operationId });
        return { status: 200, json: { operationId } };
      }

      const fenceMatch = /^\/v1\/user\/geofences(?:\/([^/]+))?$/.exec(path);
      if (fenceMatch) {
        if (!bearer || !accessTokens.has(bearer)) return error(401, "invalid access token");
        const id = fenceMatch[1] && decodeURIComponent(fenceMatch[1]);
        if (!id && method === "GET") return { status: 200, json: [...geofences.values()] };
        if (!id && method === "POST") {
          const fence = geofenceOf(body);
          if (!fence) return error(400, "name, type and h3Indexes are required");
          const created = {
            id: randomUUID(),
            ...fence,
            createdAt: now().toISOString(),
            updatedAt: now().toISOString(),
          };
          geofences.set(created.id, created);
          return { status: 201, json: { id: created.id } };
        }
        if (!id) return error(405, "method not allowed");
        const existing = geofences.get(id);
        if (!existing) return error(404, `geofence ${id} not found`);
        if (method === "PUT") {
          const fence = geofenceOf(body);
          if (!fence) return error(400, "name, type and h3Indexes are required");
          geofences.set(id, { ...existing, ...fence, updatedAt: now().toISOString() });
          return { status: 204 };
        }
        if (method === "DELETE") {
          geofences.delete(id);
          return { status: 204 };
        }
        return error(405, "method not allowed");
      }
      return error(404, `no route for ${method} ${path}`);
    },
  });

  const vehicleOf = (tokenId: string): DimoSimVehicle => {
    const vehicle = vehicles.get(tokenId);
    if (!vehicle) throw new Error(`DIMO simulator has no vehicle ${tokenId}`);
    return vehicle;
  };

  const tick = (seconds: number): void => {
    const at = now().toISOString();
    for (const vehicle of vehicles.values()) {
      const s = vehicle.status;
      if (vehicle.driving) {
        const km = (vehicle.driving.speedKph * seconds) / 3600;
        const heading = (vehicle.driving.headingDeg * Math.PI) / 180;
        const lat = s.latitude ?? 0;
        s.latitude = round6(lat + (km * Math.cos(heading)) / KM_PER_DEGREE_LAT);
        s.longitude = round6(
          (s.longitude ?? 0) + (km * Math.sin(heading)) / (KM_PER_DEGREE_LAT * Math.cos((lat * Math.PI) / 180)),
        );
        s.odometer = round6((s.odometer ?? 0) + km);
        s.speed = vehicle.driving.speedKph;
        if (s.fuelPercentRemaining != null)
          s.fuelPercentRemaining = Math.max(0, round6(s.fuelPercentRemaining - km / 600));
      }
      if (vehicle.charging && s.soc != null) {
        s.soc = Math.min(s.chargeLimit ?? 1, round6(s.soc + (vehicle.charging.socPctPerMinute * seconds) / 60 / 100));
        s.charging = s.soc < (s.chargeLimit ?? 1);
      }
      s.timestamp = at;
      vehicle.history.push({ time: at, data: structuredClone(s) });
    }
  };

  return {
    url: server.url,
    requests: server.requests,
    countFor: server.countFor,
    vehicle: vehicleOf,
    geofences: () => [...geofences.values()],
    stop: server.stop,
    script: (...steps) => {
      for (const step of steps) {
        switch (step.kind) {
          case "fail":
          case "delay":
            server.inject(step);
            break;
          case "set":
            Object.assign(vehicleOf(step.tokenId).status, step.status);
            break;
          case "drive":
            vehicleOf(step.tokenId).driving = { speedKph: step.speedKph, headingDeg: step.headingDeg };
            break;
          case "park": {
            const vehicle = vehicleOf(step.tokenId);
            delete vehicle.driving;
            vehicle.status.speed = 0;
            break;
          }
          case "charge": {
            const vehicle = vehicleOf(step.tokenId);
            vehicle.charging = { socPctPerMinute: step.socPctPerMinute };
            vehicle.status.charging = true;
            break;
          }
          case "stop_charge": {
            const vehicle = vehicleOf(step.tokenId);
            delete vehicle.charging;
            vehicle.status.charging = false;
            break;
          }
          case "tick":
            tick(step.seconds);
            break;
          case "revoke_privilege_tokens":
            grants.clear();
            break;
        }
      }
    },
  };
};

const DEFAULT_MESSAGES: Record<number, string> = {
  400: "bad request",
  401: "unauthorized",
  403: "forbidden",
  404: "not found",
  409: "conflict",
  429: "too many requests",
  500: "internal server error",
  503: "service unavailable",
};

const round6 = (value: number): number => Math.round(value * 1e6) / 1e6;

const geofenceOf = (body: unknown): Omit<DimoGeofence, "id" | "createdAt" | "updatedAt"> | undefined => {
  const b = body as { name?: unknown; type?: unknown; h3Indexes?: unknown; userDeviceIds?: unknown } | undefined;
  if (typeof b?.name !== "string" || !Array.isArray(b.h3Indexes)) return undefined;
  if (b.type !== "PrivacyFence" && b.type !== "TriggerEntry" && b.type !== "TriggerExit") return undefined;
  const ids = Array.isArray(b.userDeviceIds) ? b.userDeviceIds.map(String) : [];
  return {
    name: b.name,
    type: b.type,
    h3Indexes: b.h3Indexes.map(String),
    userDevices: ids.map((userDeviceId) => ({ userDeviceId, name: null })),
  };
};
