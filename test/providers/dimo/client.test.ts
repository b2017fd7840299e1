import { latLngToCell } from "h3-js";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  ProviderAuthError,
  ProviderConflictError,
  ProviderNotFoundError,
  ProviderRateLimitError,
  ProviderUnavailableError,
  UnsupportedCommandError,
} from "#core/providers/errors.ts";
import type { ProviderVehicleRef } from "#core/providers/ports.ts";
import { DimoClient, type DimoClientOptions } from "#providers/dimo/client.ts";
import { DimoGeofenceInvalidError } from "#providers/dimo/errors.ts";
import { DIMO_SIM_ACCESS_TOKEN, type DimoSimulator, startDimoSimulator } from "#providers/dimo/simulator.ts";
import { ProviderRequestRejectedError } from "#providers/http/errors.ts";

const T0 = "2026-03-01T08:00:00.000Z";
const CONTRACT = "0xbA5738a18d83D41847dfFbDC6101d37C69c9B0cF";
const car: ProviderVehicleRef = {
  vehicleId: "dimo:17",
  provider: "dimo",
  providerVehicleId: "17",
  credentialsRef: "owner",
};

let sim: DimoSimulator;
let clock: Date;
let sleeps: number[];

const client = (overrides: Partial<DimoClientOptions["http"]> = {}) =>
  new DimoClient({
    deviceDataUrl: sim.url,
    devicesUrl: sim.url,
    tokenExchangeUrl: sim.url,
    vehicleNftContract: CONTRACT,
    credentials: async (ref) => {
      if (ref !== "owner") throw new Error(`unknown credentials ${ref}`);
      return { accessToken: DIMO_SIM_ACCESS_TOKEN };
    },
    now: () => clock.getTime(),
    http: {
      timeoutMs: 2_000,
      retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5, maxRetryAfterMs: 2_000 },
      sleep: async (ms) => {
        sleeps.push(ms);
        await new Promise((resolve) => setTimeout(resolve, ms));
      },
      ...overrides,
    },
  });

const statusCalls = () => sim.requests.filter((r) => r.path === "/v1/vehicle/17/status").length;

beforeEach(async () => {
  clock = new Date(T0);
  sleeps = [];
  sim = await startDimoSimulator({
    now: () => clock,
    vehicles: [
      {
        tokenId: "17",
        status: {
          soc: 0.8,
          chargeLimit: 0.9,
          charging: false,
          range: 312.5,
          odometer: 12_345.6,
          speed: 0,
          latitude: 52.52,
          longitude: 13.405,
          batteryVoltage: 12.6,
          oil: 0.55,
          tires: { frontLeft: 250, frontRight: 251.5, backLeft: 240, backRight: null },
          timestamp: "2026-03-01T07:59:30Z",
        },
      },
    ],
  });
});
afterEach(async () => {
  await sim.stop();
});

describe("DimoClient.poll", () => {
  it("exchanges a privilege token, reads the status and returns canonical samples in SI units", async () => {
    const sample = await client().poll(car, clock);
    const at = "2026-03-01T07:59:30.000Z";
    expect(sample).toStrictEqual({
      signals: {
        speed_kph: { value: 0, observedAt: at },
        location: { value: { lat: 52.52, lon: 13.405 }, observedAt: at },
        odometer_km: { value: 12_345.6, observedAt: at },
        soc_pct: { value: 80, observedAt: at },
        range_km: { value: 312.5, observedAt: at },
        charge_state: { value: "not_charging", observedAt: at },
        charge_limit_pct: { value: 90, observedAt: at },
        oil_life_pct: { value: 55, observedAt: at },
        battery_12v_v: { value: 12.6, observedAt: at },
        tire_pressure_kpa: { value: { front_left: 250, front_right: 251.5, rear_left: 240 }, observedAt: at },
      },
      requestsUsed: 2,
    });
    expect(sim.requests.map((r) => `${r.method} ${r.path} ${r.status}`)).toStrictEqual([
      "POST /v1/tokens/exchange 200",
      "GET /v1/vehicle/17/status 200",
    ]);
  });

  it("reuses the privilege token until it nears expiry, then exchanges again", async () => {
    const dimo = client();
    await dimo.poll(car, clock);
    expect((await dimo.poll(car, clock)).requestsUsed).toBe(1);
    clock = new Date(Date.parse(T0) + 9.5 * 60_000); // the simulator's tokens last 10 minutes
    expect((await dimo.poll(car, clock)).requestsUsed).toBe(2);
    expect(sim.requests.filter((r) => r.path === "/v1/tokens/exchange")).toHaveLength(2);
  });

  it("exchanges once more when DIMO revokes a cached privilege token", async () => {
    const dimo = client();
    await dimo.poll(car, clock);
    sim.script({ kind: "revoke_privilege_tokens" });
    const sample = await dimo.poll(car, clock);
    expect(sample.requestsUsed).toBe(3);
    expect(sim.requests.slice(2).map((r) => `${r.path} ${r.status}`)).toStrictEqual([
      "/v1/vehicle/17/status 401",
      "/v1/tokens/exchange 200",
      "/v1/vehicle/17/status 200",
    ]);
  });

  it("follows the vehicle as it drives and charges", async () => {
    sim.script(
      { kind: "drive", tokenId: "17", speedKph: 36, headingDeg: 0 },
      { kind: "tick", seconds: 100 },
      { kind: "park", tokenId: "17" },
      { kind: "charge", tokenId: "17", socPctPerMinute: 1 },
      { kind: "tick", seconds: 300 },
    );
    const { signals } = await client().poll(car, clock);
    expect(signals.odometer_km).toStrictEqual({ value: 12_346.6, observedAt: T0 });
    expect(signals.location).toStrictEqual({ value: { lat: 52.528983, lon: 13.405 }, observedAt: T0 });
    expect(signals.speed_kph).toStrictEqual({ value: 0, observedAt: T0 });
    expect(signals.soc_pct).toStrictEqual({ value: 85, observedAt: T0 });
    expect(signals.charge_state).toStrictEqual({ value: "charging", observedAt: T0 });
  });

  it("counts requests per vehicle", async () => {
    await client().poll(car, clock);
    expect(sim.countFor("17")).toBe(1);
  });
});

describe("DimoClient HTTP failures", () => {
  it("retries 5xx: two 500s then 200 take exactly three requests", async () => {
    sim.script({ kind: "fail", status: 500, times: 2, match: "/status" });
    const sample = await client().poll(car, clock);
    expect(statusCalls()).toBe(3);
    expect(sample.requestsUsed).toBe(4);
    expect(sample.signals.soc_pct?.value).toBe(80);
  });

  it("gives up after maxAttempts 5xx with ProviderUnavailableError", async () => {
    sim.script({ kind: "fail", status: 503, times: 3, match: "/status" });
    await expect(client().poll(car, clock)).rejects.toThrow(ProviderUnavailableError);
    expect(statusCalls()).toBe(3);
  });

  it("waits the Retry-After of a 429 before trying again", async () => {
    sim.script({ kind: "fail", status: 429, times: 1, retryAfter: 1, match: "/status" });
    const started = Date.now();
    await client().poll(car, clock);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
    expect(sleeps).toStrictEqual([1_000]);
    expect(statusCalls()).toBe(2);
  });

  it("ends with ProviderRateLimitError carrying Retry-After when it is longer than the client waits", async () => {
    sim.script({ kind: "fail", status: 429, times: 1, retryAfter: 120, match: "/status" });
    const error = await client()
      .poll(car, clock)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderRateLimitError);
    expect((error as ProviderRateLimitError).retryAfterMs).toBe(120_000);
    expect((error as Error).message).toBe("dimo: GET /v1/vehicle/17/status → 429 (429: too many requests)");
    expect(statusCalls()).toBe(1);
  });

  it("times out a slow response and reports ProviderUnavailableError", async () => {
    sim.script({ kind: "delay", ms: 400, times: 2, match: "/status" });
    const slow = client({
      timeoutMs: 100,
      retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1, maxRetryAfterMs: 0 },
    });
    const error = await slow.poll(car, clock).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderUnavailableError);
    expect((error as Error).message).toBe("dimo: GET /v1/vehicle/17/status timed out after 100 ms (attempt 2)");
  });

  it.each([
    [401, ProviderAuthError],
    [403, ProviderAuthError],
    [404, ProviderNotFoundError],
    [409, ProviderConflictError],
    [400, ProviderRequestRejectedError],
  ])("maps %i to its typed error without retrying", async (status, type) => {
    sim.script({ kind: "fail", status, times: 1, match: "/status" });
    await expect(client().poll(car, clock)).rejects.toThrow(type);
    expect(statusCalls()).toBe(1);
  });

  it("reports a vehicle DIMO does not know as ProviderNotFoundError from the exchange", async () => {
    const error = await client()
      .poll({ ...car, providerVehicleId: "99" }, clock)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderNotFoundError);
    expect((error as Error).message).toBe("dimo: POST /v1/tokens/exchange → 404 (404: vehicle 99 not found)");
  });
});

describe("DimoClient.send", () => {
  it("unlocks and locks the doors with a commands privilege token", async () => {
    const dimo = client();
    const unlocked = await dimo.send(car, "unlock", {});
    expect(sim.vehicle("17").locked).toBe(false);
    expect(unlocked).toStrictEqual({ providerRequestId: sim.vehicle("17").commands[0]?.operationId });
    await dimo.send(car, "lock", {});
    expect(sim.vehicle("17").locked).toBe(true);
    await dimo.send(car, "open_trunk", {});
    await dimo.send(car, "open_frunk", {});
    expect(sim.vehicle("17").commands.map((c) => c.command)).toStrictEqual([
      "doors/unlock",
      "doors/lock",
      "trunk/open",
      "frunk/open",
    ]);
    const exchange = sim.requests.filter((r) => r.path === "/v1/tokens/exchange");
    expect(exchange).toHaveLength(1);
  });

  it("reports the simulator's 409 for a moving car as ProviderConflictError", async () => {
    sim.script({ kind: "drive", tokenId: "17", speedKph: 50, headingDeg: 90 }, { kind: "tick", seconds: 1 });
    await expect(client().send(car, "unlock", {})).rejects.toThrow(ProviderConflictError);
    expect(sim.vehicle("17").locked).toBe(true);
  });

  it("never repeats a command after a 5xx (the car may have acted)", async () => {
    sim.script({ kind: "fail", status: 502, times: 1, match: "/commands/" });
    await expect(client().send(car, "lock", {})).rejects.toThrow(ProviderUnavailableError);
    expect(sim.requests.filter((r) => r.path.includes("/commands/"))).toHaveLength(1);
  });

  it.each(["start_charge", "stop_charge", "set_charge_limit", "set_destination"] as const)(
    "rejects %s as unsupported, naming provider and command, without a request",
    async (command) => {
      const error = await client()
        .send(car, command, {})
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UnsupportedCommandError);
      expect(error).toMatchObject({ provider: "dimo", command });
      expect((error as Error).message).toBe(`dimo: command ${command} is not supported by dimo`);
      expect(sim.requests).toHaveLength(0);
    },
  );

  it("declares its capability matrix row", () => {
    expect([...client().capabilities].sort()).toStrictEqual(["lock", "open_frunk", "open_trunk", "unlock"]);
  });
});

describe("DimoClient geofences", () => {
  const home = latLngToCell(52.52, 13.405, 9);
  const work = latLngToCell(52.5, 13.39, 9);

  it("creates, lists, updates and deletes a user geofence of H3 cells", async () => {
    const dimo = client();
    const id = await dimo.createGeofence("owner", { name: "Home", type: "TriggerExit", h3Indexes: [home] });
    expect(await dimo.listGeofences("owner")).toStrictEqual([
      { id, name: "Home", type: "TriggerExit", h3Indexes: [home], userDevices: [], createdAt: T0, updatedAt: T0 },
    ]);
    await dimo.updateGeofence("owner", id, {
      name: "Home+",
      type: "TriggerEntry",
      h3Indexes: [home, work],
      userDeviceIds: ["ud1"],
    });
    expect(sim.geofences()).toStrictEqual([
      {
        id,
        name: "Home+",
        type: "TriggerEntry",
        h3Indexes: [home, work],
        userDevices: [{ userDeviceId: "ud1", name: null }],
        createdAt: T0,
        updatedAt: T0,
      },
    ]);
    await dimo.deleteGeofence("owner", id);
    expect(await dimo.listGeofences("owner")).toStrictEqual([]);
    await expect(dimo.deleteGeofence("owner", id)).rejects.toThrow(ProviderNotFoundError);
  });

  it("refuses invalid H3 cells before sending anything", async () => {
    const error = await client()
      .createGeofence("owner", { name: "Bad", type: "TriggerExit", h3Indexes: [home, "not-a-cell"] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DimoGeofenceInvalidError);
    expect((error as DimoGeofenceInvalidError).invalidIndexes).toStrictEqual(["not-a-cell"]);
    expect(sim.requests).toHaveLength(0);
  });
});

describe("DimoClient.history", () => {
  it("returns the recorded statuses in the date range as canonical samples, oldest first", async () => {
    sim.script({ kind: "set", tokenId: "17", status: { soc: 0.5 } }, { kind: "tick", seconds: 60 });
    clock = new Date(Date.parse(T0) + 60_000);
    sim.script({ kind: "set", tokenId: "17", status: { soc: 0.55 } }, { kind: "tick", seconds: 60 });
    const history = await client().history(car, { startDate: "2026-03-01", endDate: "2026-03-01" });
    expect(history.map((h) => [h.observedAt, h.signals.soc_pct?.value])).toStrictEqual([
      [T0, 50],
      ["2026-03-01T08:01:00.000Z", 55],
    ]);
    expect(sim.requests.at(-1)?.query).toStrictEqual({ startDate: "2026-03-01", endDate: "2026-03-01" });
  });
});
