import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { VehicleEvent } from "#core/model/event.ts";
import { eventIdOf } from "#core/model/ids.ts";
import {
  ProviderAuthError,
  ProviderNotFoundError,
  ProviderUnavailableError,
  UnsupportedCommandError,
} from "#core/providers/errors.ts";
import type { ProviderVehicleRef } from "#core/providers/ports.ts";
import { VEHICLE_COMMANDS } from "#core/rules/schema.ts";
import { backfillAutomaticEvents } from "#providers/automatic/backfill.ts";
import { normalizeAutomaticEvent } from "#providers/automatic/normalize-webhook.ts";
import { AutomaticRestClient } from "#providers/automatic/rest-client.ts";
import {
  AUTOMATIC_SIM_TOKEN,
  type AutomaticSimulator,
  startAutomaticSimulator,
} from "#providers/automatic/simulator.ts";

const T0 = new Date("2026-03-01T12:00:00.000Z");
const RECEIVED_AT = "2026-03-01T13:00:00.000Z";
const CAR = "C_9aa0f0e09383666c";
const car: ProviderVehicleRef = {
  vehicleId: `automatic:${CAR}`,
  provider: "automatic",
  providerVehicleId: CAR,
  credentialsRef: "me",
};

let sim: AutomaticSimulator;
let clock: Date;
let webhooks: Record<string, unknown>[];

const client = (token = AUTOMATIC_SIM_TOKEN, pageSize?: number) =>
  new AutomaticRestClient({
    baseUrl: sim.url,
    credentials: async () => ({ accessToken: token }),
    http: { timeoutMs: 2_000, retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5, maxRetryAfterMs: 2_000 } },
    ...(pageSize ? { pageSize } : {}),
  });

const at = (minutes: number) => new Date(T0.getTime() + minutes * 60_000);

/** Drives `count` trips of 10 minutes each, one per hour from T0. */
const driveTrips = (count: number) => {
  for (let i = 0; i < count; i++) {
    clock = at(60 * i + 10);
    sim.script({
      kind: "trip",
      vehicleId: CAR,
      tripId: `T_${i}`,
      durationSeconds: 600,
      distanceM: 5_000 + i,
      fuelL: 0.5,
    });
  }
};

beforeEach(async () => {
  clock = T0;
  webhooks = [];
  sim = await startAutomaticSimulator({
    now: () => clock,
    vehicles: [{ id: CAR, fields: { display_name: "My Toyota", make: "Toyota", model: "RAV4", year: 2009 } }],
    onWebhook: (payload) => webhooks.push(payload),
  });
});
afterEach(async () => {
  await sim.stop();
});

describe("AutomaticRestClient", () => {
  it("polls the vehicle object: fuel, battery voltage and active DTCs at its update time", async () => {
    sim.script(
      { kind: "set", vehicleId: CAR, fields: { fuel_level_percent: 60.54, battery_voltage: 12.4 } },
      { kind: "raise_dtc", vehicleId: CAR, code: "P0442", description: "Small fuel vapor leak in EVAP system" },
    );
    const dtc = { code: "P0442", description: "Small fuel vapor leak in EVAP system", occurredAt: T0.toISOString() };
    expect(await client().poll(car, T0)).toStrictEqual({
      signals: {
        fuel_pct: { value: 60.54, observedAt: T0.toISOString() },
        battery_12v_v: { value: 12.4, observedAt: T0.toISOString() },
        dtcs: { value: [dtc], observedAt: T0.toISOString() },
        mil_on: { value: true, observedAt: T0.toISOString() },
      },
      dtcs: [dtc],
      requestsUsed: 1,
    });
    expect(sim.countFor(CAR)).toBe(1);
  });

  it("follows pagination to the last page and sends filters as epoch seconds", async () => {
    driveTrips(7);
    const trips = await client(AUTOMATIC_SIM_TOKEN, 3).listTrips("me", {
      vehicle: CAR,
      endedAtGte: T0,
      endedAtLte: at(1_000),
    });
    expect(trips.map((t) => t.id)).toStrictEqual(["T_6", "T_5", "T_4", "T_3", "T_2", "T_1", "T_0"]);
    expect(sim.requests.map((r) => r.query)).toStrictEqual(
      [undefined, "2", "3"].map((page) => ({
        vehicle: CAR,
        ended_at__gte: "1772366400",
        ended_at__lte: "1772426400",
        limit: "3",
        ...(page ? { page } : {}),
      })),
    );
  });

  it("lists vehicles and MIL history", async () => {
    sim.script({ kind: "raise_dtc", vehicleId: CAR, code: "P0300" });
    clock = at(5);
    sim.script({ kind: "clear_dtc", vehicleId: CAR, code: "P0300" });
    const automatic = client();
    expect((await automatic.listVehicles("me")).map((v) => [v.id, v.display_name])).toStrictEqual([[CAR, "My Toyota"]]);
    expect(await automatic.listMilHistory("me", CAR)).toStrictEqual([
      { code: "P0300", on: false, created_at: at(5).toISOString(), description: null },
      { code: "P0300", on: true, created_at: T0.toISOString(), description: null },
    ]);
  });

  it("maps a rejected token to ProviderAuthError and an unknown vehicle to ProviderNotFoundError", async () => {
    const denied = await client("nope")
      .poll(car, T0)
      .catch((e: unknown) => e);
    expect(denied).toBeInstanceOf(ProviderAuthError);
    expect((denied as Error).message).toBe(
      `automatic: GET /vehicle/${CAR}/ → 401 (err_unauthorized: No token or an invalid token is attached to the request.)`,
    );
    await expect(client().poll({ ...car, providerVehicleId: "C_nope" }, T0)).rejects.toThrow(ProviderNotFoundError);
  });

  it("retries 5xx: two 500s then 200 take exactly three requests", async () => {
    sim.script({ kind: "fail", status: 500, times: 2 });
    await client().poll(car, T0);
    expect(sim.requests.map((r) => r.status)).toStrictEqual([500, 500, 200]);
  });

  it("reports an outage that outlives the retries as ProviderUnavailableError", async () => {
    sim.script({ kind: "fail", status: 500, times: 3 });
    await expect(client().poll(car, T0)).rejects.toThrow(ProviderUnavailableError);
    expect(sim.requests).toHaveLength(3);
  });

  it.each(VEHICLE_COMMANDS)("reports %s as unsupported: Automatic has no commands", async (command) => {
    const error = await client()
      .send(car, command, {})
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnsupportedCommandError);
    expect(error).toMatchObject({
      provider: "automatic",
      command,
      message: `automatic: command ${command} is not supported by automatic`,
    });
    expect(sim.requests).toHaveLength(0);
  });
});

describe("backfillAutomaticEvents", () => {
  const normalizeWebhooks = (): VehicleEvent[] =>
    webhooks.flatMap((w) => normalizeAutomaticEvent(w, RECEIVED_AT).events);

  it("turns a REST trip into the canonical trip.finished in SI units, keyed by trip id", async () => {
    clock = at(30);
    sim.script({
      kind: "trip",
      vehicleId: CAR,
      tripId: "T_5ecb5afa2422d3d8",
      durationSeconds: 1_200,
      distanceM: 16_219.4,
      fuelL: 2.1,
      hardBrakes: 1,
      start: { lat: 33.95235, lon: -118.38511 },
      end: { lat: 34.08308, lon: -118.3659 },
    });
    const { events, alreadyReceived, requestsUsed } = await backfillAutomaticEvents({
      client: client(),
      vehicle: car,
      since: T0,
      until: at(60),
      receivedAt: RECEIVED_AT,
    });
    const endedAt = at(30).toISOString();
    expect(events).toStrictEqual([
      {
        id: eventIdOf("automatic", [CAR, "T_5ecb5afa2422d3d8", "trip.finished"]),
        vehicleId: `automatic:${CAR}`,
        type: "trip.finished",
        occurredAt: endedAt,
        receivedAt: RECEIVED_AT,
        source: { provider: "automatic", providerEventId: "T_5ecb5afa2422d3d8" },
        vehicleHints: { timeZone: "UTC" },
        data: {
          tripId: "T_5ecb5afa2422d3d8",
          startedAt: at(10).toISOString(),
          endedAt,
          distance_km: 16.219,
          duration_s: 1_200,
          start: { lat: 33.95235, lon: -118.38511, accuracy_m: 5 },
          end: { lat: 34.08308, lon: -118.3659, accuracy_m: 5 },
          fuel_l: 2.1,
          hard_brakes: 1,
          hard_accels: 0,
          idling_s: 0,
        },
        signals: { location: { value: { lat: 34.08308, lon: -118.3659, accuracy_m: 5 }, observedAt: endedAt } },
      },
    ]);
    expect(alreadyReceived.size).toBe(0);
    expect(requestsUsed).toBe(2);
  });

  it("gives already-received webhook events' ids to the same trips and DTCs, so nothing is stored twice", async () => {
    clock = at(20);
    sim.script({ kind: "trip", vehicleId: CAR, tripId: "T_a", durationSeconds: 600, distanceM: 4_000 });
    clock = new Date(at(25).getTime() + 456); // webhook DTC times carry milliseconds, REST MIL rows whole seconds
    sim.script({
      kind: "raise_dtc",
      vehicleId: CAR,
      code: "P0442",
      description: "Small fuel vapor leak in EVAP system",
    });
    const received = normalizeWebhooks();
    expect(received.map((e) => e.type)).toStrictEqual(["trip.finished", "mil.on"]);

    const { events, alreadyReceived } = await backfillAutomaticEvents({
      client: client(),
      vehicle: car,
      since: T0,
      until: at(60),
      receivedAt: RECEIVED_AT,
      received,
    });
    expect(events.map((e) => [e.type, e.id])).toStrictEqual(received.map((e) => [e.type, e.id]));
    expect([...alreadyReceived]).toStrictEqual(received.map((e) => e.id));
  });

  it("emits what webhooks missed with ids stable across runs, following every page", async () => {
    driveTrips(12);
    clock = at(700);
    sim.script({ kind: "raise_dtc", vehicleId: CAR, code: "P0300" });
    const received = normalizeWebhooks().filter((e) => e.type === "trip.finished" && e.data.tripId === "T_3");
    const run = () =>
      backfillAutomaticEvents({
        client: client(AUTOMATIC_SIM_TOKEN, 5),
        vehicle: car,
        since: T0,
        until: at(800),
        receivedAt: RECEIVED_AT,
        received,
      });
    const first = await run();
    const second = await run();
    expect(first.events).toHaveLength(13);
    expect(first.requestsUsed).toBe(4); // trips: 3 pages of 5; MIL history: 1 page
    expect(second.events.map((e) => e.id)).toStrictEqual(first.events.map((e) => e.id));
    expect([...first.alreadyReceived]).toStrictEqual([received[0]?.id]);
    const milOn = first.events.at(-1);
    expect(milOn).toMatchObject({
      type: "mil.on",
      id: eventIdOf("automatic", [CAR, `mil:P0300:${at(700).toISOString()}`, "mil.on"]),
      occurredAt: at(700).toISOString(),
      data: { dtcs: [{ code: "P0300", occurredAt: at(700).toISOString() }] },
    });
    expect(first.events.map((e) => e.occurredAt)).toStrictEqual([...first.events.map((e) => e.occurredAt)].sort());
  });

  it("keeps to the window: trips that ended and MIL changes outside it are left out", async () => {
    driveTrips(3); // trips end at +10, +70, +130 minutes
    const { events } = await backfillAutomaticEvents({
      client: client(),
      vehicle: car,
      since: at(60),
      until: at(120),
      receivedAt: RECEIVED_AT,
    });
    expect(events.map((e) => (e.type === "trip.finished" ? e.data.tripId : e.type))).toStrictEqual(["T_1"]);
  });
});
