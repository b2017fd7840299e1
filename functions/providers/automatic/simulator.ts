import { randomBytes, randomUUID } from "node:crypto";
import { bearerOf, type SimFault, type SimReply, type SimRequest, startSimServer } from "../http/simulator-server.ts";
import type { AutomaticMilHistoryEntry, AutomaticRestTrip, AutomaticRestVehicle } from "./rest-schema.ts";

/*
 * A local Automatic REST API: /vehicle/, /vehicle/{id}/, /vehicle/{id}/mil/, /trip/, /trip/{id}/
 * with bearer auth, the seed's filters (epoch seconds), `page`/`limit` pagination (default 10,
 * max 250, absolute `_metadata.next`) and its `{ error: "err_…" }` bodies. Cars drive trips and
 * raise/clear DTCs; each change can also be handed to `onWebhook` in the webhook format
 * (epoch ms, imperial), so the demo can post it to ingest as Automatic would.
 */

export type AutomaticSimStep =
  | SimFault
  | { kind: "set"; vehicleId: string; fields: Partial<AutomaticRestVehicle> }
  /** A finished trip, ending `endedAgoSeconds` before now (default 0). */
  | {
      kind: "trip";
      vehicleId: string;
      durationSeconds: number;
      distanceM: number;
      endedAgoSeconds?: number;
      tripId?: string;
      start?: { lat: number; lon: number };
      end?: { lat: number; lon: number };
      fuelL?: number;
      hardBrakes?: number;
    }
  | { kind: "raise_dtc"; vehicleId: string; code: string; description?: string }
  | { kind: "clear_dtc"; vehicleId: string; code: string; userCleared?: boolean };

export type AutomaticSimulatorOptions = {
  /** Access token → user id (U_…). */
  tokens?: Readonly<Record<string, string>>;
  vehicles?: readonly { id: string; owner?: string; fields?: Partial<AutomaticRestVehicle> }[];
  now?: () => Date;
  /** Called with each webhook payload Automatic would POST for a change the script makes. */
  onWebhook?: (payload: Record<string, unknown>) => void;
};

export type AutomaticSimulator = {
  url: string;
  script: (...steps: AutomaticSimStep[]) => void;
  requests: readonly SimRequest[];
  countFor: (vehicleId: string) => number;
  trips: () => readonly AutomaticRestTrip[];
  stop: () => Promise<void>;
};

export const AUTOMATIC_SIM_TOKEN = "automatic-sim-token";
const SIM_USER = "U_0000000000000001";

type SimVehicle = { owner: string; vehicle: AutomaticRestVehicle; mil: AutomaticMilHistoryEntry[] };

export const startAutomaticSimulator = async (options: AutomaticSimulatorOptions = {}): Promise<AutomaticSimulator> => {
  const now = options.now ?? (() => new Date());
  const tokens = new Map(Object.entries(options.tokens ?? { [AUTOMATIC_SIM_TOKEN]: SIM_USER }));
  const vehicles = new Map<string, SimVehicle>();
  const trips: (AutomaticRestTrip & { owner: string })[] = [];
  let url = "";

  for (const v of options.vehicles ?? [{ id: "C_0000000000000001" }]) {
    const at = now().toISOString();
    vehicles.set(v.id, {
      owner: v.owner ?? SIM_USER,
      vehicle: { id: v.id, url: "", created_at: at, updated_at: at, active_dtcs: [], ...v.fields },
      mil: [],
    });
  }

  const error = (status: number, detail?: string): SimReply => ({
    status,
    json: { error: ERROR_CODES[status] ?? "err_internal_error", ...(detail ? { detail } : {}) },
  });

  const withUrl = (v: AutomaticRestVehicle): AutomaticRestVehicle => ({ ...v, url: `${url}/vehicle/${v.id}/` });

  const paginate = (path: string, query: URLSearchParams, items: readonly unknown[]): SimReply => {
    const page = Number(query.get("page") ?? "1");
    const limit = Number(query.get("limit") ?? "10");
    if (!Number.isInteger(page) || page < 1 || !Number.isInteger(limit) || limit < 1) {
      return error(400, "page and limit must be positive integers");
    }
    const size = Math.min(limit, 250);
    const results = items.slice((page - 1) * size, page * size);
    const link = (n: number) => {
      const q = new URLSearchParams(query);
      q.set("page", String(n));
      return `${url}${path}?${q}`;
    };
    return {
      status: 200,
      json: {
        _metadata: {
          count: items.length,
          next: page * size < items.length ? link(page + 1) : null,
          previous: page > 1 ? link(page - 1) : null,
        },
        results,
      },
    };
  };

  const inRange = (value: string | null | undefined, query: URLSearchParams, field: string): boolean => {
    if (value == null) return true;
    const s = Date.parse(value) / 1000;
    const gte = query.get(`${field}__gte`);
    const lte = query.get(`${field}__lte`);
    return (gte === null || s >= Number(gte)) && (lte === null || s <= Number(lte));
  };

  const server = await startSimServer({
    now,
    errorReply: (status) => error(status),
    vehicleIdOf: (path) => /^\/vehicle\/([^/]+)\//.exec(path)?.[1],
    handle: ({ method, path, query, headers }) => {
      const user = tokens.get(bearerOf(headers) ?? "");
      if (!user) return error(401, "No token or an invalid token is attached to the request.");
      if (method !== "GET") return error(405);
      if (path === "/vehicle/") {
        const list = [...vehicles.values()]
          .filter((v) => v.owner === user)
          .filter((v) => !query.get("vin") || v.vehicle.vin === query.get("vin"))
          .filter(
            (v) =>
              inRange(v.vehicle.created_at, query, "created_at") && inRange(v.vehicle.updated_at, query, "updated_at"),
          )
          .map((v) => withUrl(v.vehicle));
        return paginate(path, query, list);
      }
      const vehicleMatch = /^\/vehicle\/([^/]+)\/(mil\/)?$/.exec(path);
      if (vehicleMatch) {
        const v = vehicles.get(decodeURIComponent(vehicleMatch[1] ?? ""));
        if (!v || v.owner !== user) return error(404, "The specified endpoint cannot be found.");
        if (vehicleMatch[2])
          return paginate(
            path,
            query,
            [...v.mil].sort((a, b) => b.created_at.localeCompare(a.created_at)),
          );
        return { status: 200, json: withUrl(v.vehicle) };
      }
      if (path === "/trip/") {
        const vehicle = query.get("vehicle");
        const list = trips
          .filter((t) => t.owner === user)
          .filter((t) => !vehicle || t.vehicle.endsWith(`/vehicle/${vehicle}/`))
          .filter((t) => inRange(t.started_at, query, "started_at") && inRange(t.ended_at, query, "ended_at"))
          .filter(
            (t) =>
              !query.get("tags__in") || (t.tags ?? []).some((tag) => query.get("tags__in")?.split(",").includes(tag)),
          )
          .sort((a, b) => b.started_at.localeCompare(a.started_at))
          .map(({ owner: _, ...trip }) => trip);
        return paginate(path, query, list);
      }
      const tripMatch = /^\/trip\/([^/]+)\/$/.exec(path);
      if (tripMatch) {
        const trip = trips.find((t) => t.id === decodeURIComponent(tripMatch[1] ?? "") && t.owner === user);
        if (!trip) return error(404, "The specified endpoint cannot be found.");
        const { owner: _, ...rest } = trip;
        return { status: 200, json: rest };
      }
      return error(404, "The specified endpoint cannot be found.");
    },
  });
  url = server.url;

  const vehicleOf = (id: string): SimVehicle => {
    const v = vehicles.get(id);
    if (!v) throw new Error(`Automatic simulator has no vehicle ${id}`);
    return v;
  };

  const webhook = (v: SimVehicle, type: string, extra: Record<string, unknown>): void => {
    options.onWebhook?.({
      id: randomUUID(),
      user: { id: randomBytes(10).toString("hex"), v2_id: v.owner },
      type,
      created_at: now().getTime(),
      vehicle: {
        id: v.vehicle.id,
        year: v.vehicle.year == null ? null : String(v.vehicle.year),
        make: v.vehicle.make ?? null,
        model: v.vehicle.model ?? null,
        display_name: v.vehicle.display_name ?? null,
      },
      ...extra,
    });
  };

  return {
    url: server.url,
    requests: server.requests,
    countFor: server.countFor,
    trips: () => trips.map(({ owner: _, ...trip }) => trip),
    stop: server.stop,
    script: (...steps) => {
      for (const step of steps) {
        switch (step.kind) {
          case "fail":
          case "delay":
            server.inject(step);
            break;
          case "set": {
            const v = vehicleOf(step.vehicleId);
            v.vehicle = { ...v.vehicle, ...step.fields, updated_at: now().toISOString() };
            break;
          }
          case "trip": {
            const v = vehicleOf(step.vehicleId);
            const endedMs = now().getTime() - (step.endedAgoSeconds ?? 0) * 1000;
            const startedMs = endedMs - step.durationSeconds * 1000;
            const trip: AutomaticRestTrip & { owner: string } = {
              owner: v.owner,
              id: step.tripId ?? `T_${randomBytes(8).toString("hex")}`,
              url: "",
              user: `${url}/user/${v.owner}/`,
              vehicle: `${url}/vehicle/${v.vehicle.id}/`,
              started_at: new Date(startedMs).toISOString(),
              ended_at: new Date(endedMs).toISOString(),
              distance_m: step.distanceM,
              duration_s: step.durationSeconds,
              start_location: step.start ? { ...step.start, accuracy_m: 5 } : null,
              end_location: step.end ? { ...step.end, accuracy_m: 5 } : null,
              fuel_volume_l: step.fuelL ?? null,
              hard_brakes: step.hardBrakes ?? 0,
              hard_accels: 0,
              idling_time_s: 0,
              start_timezone: "UTC",
              end_timezone: "UTC",
              tags: [],
              vehicle_events: [],
            };
            trip.url = `${url}/trip/${trip.id}/`;
            trips.push(trip);
            webhook(v, "trip:finished", {
              trip: {
                id: trip.id,
                start_location: step.start ? { ...step.start, accuracy_m: 5, ts: startedMs } : null,
                end_location: step.end ? { ...step.end, accuracy_m: 5, ts: endedMs } : null,
                start_time: startedMs,
                end_time: endedMs,
                distance_m: step.distanceM,
                fuel_volume_gal: step.fuelL === undefined ? null : step.fuelL / 3.785411784,
                hard_brakes: step.hardBrakes ?? 0,
                hard_accels: 0,
                idling_time_s: 0,
              },
            });
            break;
          }
          case "raise_dtc": {
            const v = vehicleOf(step.vehicleId);
            const at = now().toISOString();
            const dtc = { code: step.code, description: step.description ?? null, created_at: at };
            v.vehicle = { ...v.vehicle, active_dtcs: [...(v.vehicle.active_dtcs ?? []), dtc], updated_at: at };
            v.mil.push({ code: step.code, on: true, created_at: at, description: step.description ?? null });
            webhook(v, "mil:on", {
              dtcs: [{ code: step.code, description: step.description ?? null, start: now().getTime() }],
            });
            break;
          }
          case "clear_dtc": {
            const v = vehicleOf(step.vehicleId);
            const at = now().toISOString();
            const cleared = (v.vehicle.active_dtcs ?? []).find((d) => d.code === step.code);
            v.vehicle = {
              ...v.vehicle,
              active_dtcs: (v.vehicle.active_dtcs ?? []).filter((d) => d.code !== step.code),
              updated_at: at,
            };
            v.mil.push({ code: step.code, on: false, created_at: at, description: cleared?.description ?? null });
            webhook(v, "mil:off", {
              dtcs: [{ code: step.code, description: cleared?.description ?? null, start: now().getTime() }],
              user_cleared: step.userCleared ?? false,
            });
            break;
          }
        }
      }
    },
  };
};

const ERROR_CODES: Record<number, string> = {
  400: "err_bad_request",
  401: "err_unauthorized",
  403: "err_forbidden",
  404: "err_page_not_found",
  405: "err_bad_request",
  409: "err_conflict",
  422: "err_unprocessable_data",
  429: "err_throttled",
  500: "err_internal_error",
};
