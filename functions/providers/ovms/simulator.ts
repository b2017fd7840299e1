import { randomUUID } from "node:crypto";
import { type SimFault, type SimReply, type SimRequest, startSimServer } from "../http/simulator-server.ts";

/*
 * A local OVMS server (HTTP API v3 as in the seed): cookie sessions from /api/cookie, plain-text
 * errors, and vehicles whose fields come from protocol records (S status, D doors/env, L location,
 * W tyres), each record stamped with when the car sent it, so every response carries real
 * m_msgage_* / m_msgtime_* staleness. Cars drive and charge on `tick`; an offline car stops
 * reporting, so its ages grow.
 */

export type OvmsRecordType = "S" | "D" | "L" | "W";
type Fields = Record<string, string | number>;

export type OvmsSimVehicle = {
  id: string;
  owner: string;
  /** "K" or "M": distances, speeds and the odometer (tenths) are in these units. */
  units: "K" | "M";
  online: boolean;
  records: Record<OvmsRecordType, { fields: Fields; at: Date | undefined }>;
  driving?: { speed: number; headingDeg: number };
  charging?: { socPerMinute: number };
  historical: { h_recordtype: string; h_timestamp: string; h_recordnumber: number; h_data: string }[];
  connectedSessions: Set<string>;
};

export type OvmsSimStep =
  | SimFault
  /** The car sends a protocol record `ageSeconds` ago (default now); fields merge into the last one. */
  | { kind: "report"; vehicleId: string; record: OvmsRecordType; fields: Fields; ageSeconds?: number }
  | { kind: "drive"; vehicleId: string; speed: number; headingDeg: number }
  | { kind: "park"; vehicleId: string }
  | { kind: "charge"; vehicleId: string; socPerMinute: number }
  | { kind: "stop_charge"; vehicleId: string }
  | { kind: "offline"; vehicleId: string }
  | { kind: "online"; vehicleId: string }
  | { kind: "tick"; seconds: number }
  | { kind: "historical"; vehicleId: string; recordType: string; timestamp: string; recordNumber: number; data: string }
  /** Expires every session (the next request with an old cookie gets 401). */
  | { kind: "expire_sessions" };

export type OvmsSimulatorOptions = {
  users?: readonly { username: string; password: string }[];
  vehicles?: readonly { id: string; owner?: string; units?: "K" | "M" }[];
  now?: () => Date;
};

export type OvmsSimulator = {
  url: string;
  script: (...steps: OvmsSimStep[]) => void;
  requests: readonly SimRequest[];
  countFor: (vehicleId: string) => number;
  vehicle: (id: string) => OvmsSimVehicle;
  stop: () => Promise<void>;
};

export const OVMS_SIM_USER = { username: "demo", password: "demo-api-token" } as const;

const KM_PER_DEGREE_LAT = 111.32;
const KM_PER_MILE = 1.609344;

export const startOvmsSimulator = async (options: OvmsSimulatorOptions = {}): Promise<OvmsSimulator> => {
  const now = options.now ?? (() => new Date());
  const users = new Map((options.users ?? [OVMS_SIM_USER]).map((u) => [u.username, u.password]));
  const sessions = new Map<string, string>();
  const vehicles = new Map<string, OvmsSimVehicle>();
  for (const v of options.vehicles ?? [{ id: "DEMOCAR" }]) {
    const units = v.units ?? "K";
    vehicles.set(v.id, {
      id: v.id,
      owner: v.owner ?? OVMS_SIM_USER.username,
      units,
      online: true,
      records: {
        S: { fields: { units }, at: undefined },
        D: { fields: {}, at: undefined },
        L: { fields: {}, at: undefined },
        W: { fields: {}, at: undefined },
      },
      historical: [],
      connectedSessions: new Set(),
    });
  }

  const text = (status: number, body: string, headers?: Record<string, string>): SimReply => ({
    status,
    text: body,
    ...(headers ? { headers } : {}),
  });

  const staleness = (vehicle: OvmsSimVehicle, record: OvmsRecordType, suffix: string): Fields => {
    const at = vehicle.records[record].at;
    if (!at) return {};
    return {
      [`m_msgage_${suffix}`]: Math.max(0, Math.floor((now().getTime() - at.getTime()) / 1000)),
      [`m_msgtime_${suffix}`]: at.toISOString().slice(0, 19).replace("T", " "),
    };
  };

  const server = await startSimServer({
    now,
    errorReply: (status) => text(status, ERROR_TEXT[status] ?? "Error"),
    vehicleIdOf: (path) =>
      /^\/api\/(?:vehicle|status|charge|location|tpms|historical|protocol)\/([^/]+)/.exec(path)?.[1],
    handle: ({ method, path, query, headers }) => {
      if (path === "/api/cookie" && method === "GET") {
        const username = query.get("username") ?? "";
        if (!users.has(username) || users.get(username) !== query.get("password")) return text(401, "Unauthorized");
        const session = randomUUID();
        sessions.set(session, username);
        return text(200, "Login ok", { "set-cookie": `ovmsapisession=${session}; Path=/api; HttpOnly` });
      }
      const session = /(?:^|;\s*)ovmsapisession=([^;]+)/.exec(headers.cookie ?? "")?.[1];
      const username = session === undefined ? undefined : sessions.get(session);
      if (!session || !username) return text(401, "Unauthorized");
      if (path === "/api/cookie" && method === "DELETE") {
        sessions.delete(session);
        for (const v of vehicles.values()) v.connectedSessions.delete(session);
        return text(200, "Logout ok");
      }
      if (path === "/api/vehicles" && method === "GET") {
        return {
          status: 200,
          json: [...vehicles.values()]
            .filter((v) => v.owner === username)
            .map((v) => ({
              id: v.id,
              v_net_connected: v.online ? 1 : 0,
              v_apps_connected: v.connectedSessions.size,
              v_btcs_connected: 0,
            })),
        };
      }
      const match = /^\/api\/(vehicle|status|charge|location|tpms|historical)\/([^/]+)(?:\/([^/]+))?$/.exec(path);
      if (!match || method !== "GET") return text(404, "Unrecognised API call");
      const [, what, rawId, recordType] = match;
      const vehicle = vehicles.get(decodeURIComponent(rawId ?? ""));
      if (!vehicle || vehicle.owner !== username) return text(404, "Unrecognised vehicle");
      const { S, D, L, W } = vehicle.records;
      switch (what) {
        case "vehicle": {
          const first = vehicle.connectedSessions.size === 0;
          vehicle.connectedSessions.add(session);
          return {
            status: 200,
            json: {
              ...staleness(vehicle, "S", "s"),
              v_apps_connected: vehicle.connectedSessions.size,
              v_btcs_connected: 0,
              v_first_peer: first ? 1 : 0,
              v_net_connected: vehicle.online ? 1 : 0,
            },
          };
        }
        case "status":
        case "charge":
          return {
            status: 200,
            json: { ...S.fields, ...D.fields, ...staleness(vehicle, "S", "s"), ...staleness(vehicle, "D", "d") },
          };
        case "location":
          return { status: 200, json: { ...L.fields, ...staleness(vehicle, "L", "l") } };
        case "tpms":
          return { status: 200, json: { ...W.fields, ...staleness(vehicle, "W", "w") } };
        case "historical": {
          const since = query.get("since");
          const sinceMs = since ? timeOf(since) : Number.NEGATIVE_INFINITY;
          const rows = vehicle.historical.filter((h) => timeOf(h.h_timestamp) > sinceMs);
          if (recordType) {
            const type = decodeURIComponent(recordType);
            return {
              status: 200,
              json: rows
                .filter((h) => h.h_recordtype === type)
                .sort((a, b) => a.h_timestamp.localeCompare(b.h_timestamp) || a.h_recordnumber - b.h_recordnumber)
                .map(({ h_timestamp, h_recordnumber, h_data }) => ({ h_timestamp, h_recordnumber, h_data })),
            };
          }
          const types = [...new Set(rows.map((h) => h.h_recordtype))];
          return {
            status: 200,
            json: types.map((type) => {
              const of = rows
                .filter((h) => h.h_recordtype === type)
                .map((h) => h.h_timestamp)
                .sort();
              return {
                h_recordtype: type,
                distinctrecs: new Set(rows.filter((h) => h.h_recordtype === type).map((h) => h.h_recordnumber)).size,
                totalrecs: of.length,
                totalsize: rows.filter((h) => h.h_recordtype === type).reduce((n, h) => n + h.h_data.length, 0),
                first: of[0],
                last: of.at(-1),
              };
            }),
          };
        }
      }
      return text(404, "Unrecognised API call");
    },
  });

  const vehicleOf = (id: string): OvmsSimVehicle => {
    const vehicle = vehicles.get(id);
    if (!vehicle) throw new Error(`OVMS simulator has no vehicle ${id}`);
    return vehicle;
  };

  const report = (vehicle: OvmsSimVehicle, record: OvmsRecordType, fields: Fields, at: Date): void => {
    Object.assign(vehicle.records[record].fields, fields);
    vehicle.records[record].at = at;
  };

  const tick = (seconds: number): void => {
    const at = now();
    for (const vehicle of vehicles.values()) {
      if (!vehicle.online) continue;
      const { S, D, L } = vehicle.records;
      if (vehicle.driving) {
        const distance = (vehicle.driving.speed * seconds) / 3600;
        const km = vehicle.units === "M" ? distance * KM_PER_MILE : distance;
        const heading = (vehicle.driving.headingDeg * Math.PI) / 180;
        const lat = Number(L.fields.latitude ?? 0);
        const lon = Number(L.fields.longitude ?? 0);
        report(
          vehicle,
          "L",
          {
            latitude: round6(lat + (km * Math.cos(heading)) / KM_PER_DEGREE_LAT),
            longitude: round6(lon + (km * Math.sin(heading)) / (KM_PER_DEGREE_LAT * Math.cos((lat * Math.PI) / 180))),
            direction: vehicle.driving.headingDeg,
            speed: vehicle.driving.speed,
            gpslock: 1,
            stalegps: 1,
          },
          at,
        );
        const odometer = Number(D.fields.odometer ?? 0) + Math.round(distance * 10);
        report(vehicle, "D", { odometer: String(odometer), speed: String(vehicle.driving.speed), caron: 1 }, at);
      }
      if (vehicle.charging) {
        const soc = Math.min(100, round6(Number(S.fields.soc ?? 0) + (vehicle.charging.socPerMinute * seconds) / 60));
        report(vehicle, "S", { soc: String(soc), chargestate: soc >= 100 ? "done" : "charging" }, at);
      }
    }
  };

  return {
    url: server.url,
    requests: server.requests,
    countFor: server.countFor,
    vehicle: vehicleOf,
    stop: server.stop,
    script: (...steps) => {
      for (const step of steps) {
        switch (step.kind) {
          case "fail":
          case "delay":
            server.inject(step);
            break;
          case "report":
            report(
              vehicleOf(step.vehicleId),
              step.record,
              step.fields,
              new Date(now().getTime() - (step.ageSeconds ?? 0) * 1000),
            );
            break;
          case "drive":
            vehicleOf(step.vehicleId).driving = { speed: step.speed, headingDeg: step.headingDeg };
            break;
          case "park": {
            const vehicle = vehicleOf(step.vehicleId);
            delete vehicle.driving;
            report(vehicle, "D", { speed: "0", caron: 0 }, now());
            break;
          }
          case "charge": {
            const vehicle = vehicleOf(step.vehicleId);
            vehicle.charging = { socPerMinute: step.socPerMinute };
            report(vehicle, "S", { chargestate: "charging" }, now());
            report(vehicle, "D", { pilotpresent: 1, charging: 1, cp_dooropen: 1 }, now());
            break;
          }
          case "stop_charge": {
            const vehicle = vehicleOf(step.vehicleId);
            delete vehicle.charging;
            report(vehicle, "S", { chargestate: "stopped" }, now());
            report(vehicle, "D", { charging: 0 }, now());
            break;
          }
          case "offline":
            vehicleOf(step.vehicleId).online = false;
            break;
          case "online":
            vehicleOf(step.vehicleId).online = true;
            break;
          case "tick":
            tick(step.seconds);
            break;
          case "historical":
            vehicleOf(step.vehicleId).historical.push({
              h_recordtype: step.recordType,
              h_timestamp: step.timestamp,
              h_recordnumber: step.recordNumber,
              h_data: step.data,
            });
            break;
          case "expire_sessions":
            sessions.clear();
            break;
        }
      }
    },
  };
};

const ERROR_TEXT: Record<number, string> = {
  400: "Bad request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Unrecognised API call",
  409: "Conflict",
  429: "Too many requests",
  500: "Internal server error",
  503: "Service unavailable",
};

/** OVMS writes "YYYY-MM-DD hh:mm:ss" (UTC); clients send ISO 8601. */
const timeOf = (value: string): number =>
  Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(value) ? value : `${value.replace(" ", "T")}Z`);

const round6 = (value: number): number => Math.round(value * 1e6) / 1e6;
