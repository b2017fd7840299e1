import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  ProviderAuthError,
  ProviderConflictError,
  ProviderError,
  ProviderNotFoundError,
  ProviderRateLimitError,
  ProviderUnavailableError,
  UnsupportedCommandError,
} from "#core/providers/errors.ts";
import type { ProviderVehicleRef } from "#core/providers/ports.ts";
import { SmartcarClient, type SmartcarClientOptions, type TokenProvider } from "#providers/smartcar/client.ts";
import { SmartcarCommandParamsError, SmartcarHttpError } from "#providers/smartcar/errors.ts";
import { type SmartcarSimulator, startSmartcarSimulator } from "#providers/smartcar/simulator.ts";

const T0 = Date.parse("2026-03-01T10:00:00.000Z");
const iso = (ms: number) => new Date(ms).toISOString();

const refOf = (providerVehicleId: string): ProviderVehicleRef => ({
  vehicleId: `smartcar:${providerVehicleId}`,
  provider: "smartcar",
  providerVehicleId,
  credentialsRef: "smartcar/owner-1",
});
const EV = refOf("veh-ev");
const ICE = refOf("veh-ice");

let sim: SmartcarSimulator;
let clock: number;
let reauth: { ref: string; reason: string }[];
let tokens: TokenProvider;
let sleeps: number[];

/** A client whose waits advance the simulator's clock instead of real time, so backoff and read-back are exact. */
const clientWith = (options: Partial<SmartcarClientOptions> = {}) =>
  new SmartcarClient({
    baseUrl: sim.url,
    tokens,
    random: () => 0.5,
    now: () => clock,
    sleep: async (ms) => {
      sleeps.push(ms);
      clock += ms;
    },
    ...options,
  });

const thrown = async (promise: Promise<unknown>): Promise<unknown> => {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected a rejection");
};

beforeEach(async () => {
  clock = T0;
  sleeps = [];
  reauth = [];
  sim = await startSmartcarSimulator({
    now: () => clock,
    vehicles: [
      { id: "veh-ev", location: { lat: 37.7749, lon: -122.4194 }, odometerKm: 12_000 },
      {
        id: "veh-ice",
        kind: "ice",
        make: "FORD",
        model: "F-150",
        location: { lat: 40.7128, lon: -74.006 },
        fuel: 0.5,
        oilLife: 0.35,
      },
    ],
  });
  const { accessToken } = sim.issueTokens(["veh-ev", "veh-ice"]);
  tokens = {
    getAccessToken: async () => accessToken,
    markNeedsReauth: async (vehicle, reason) => {
      reauth.push({ ref: vehicle.credentialsRef, reason });
    },
  };
});
afterEach(async () => {
  await sim.stop();
});

describe("SmartcarClient.poll", () => {
  it("reads every signal of an EV in one batch request and counts each endpoint as a billed request", async () => {
    const sample = await clientWith().poll(EV, new Date(T0 + 5_000));
    const at = iso(T0);
    expect(sample).toStrictEqual({
      signals: {
        soc_pct: { value: 80, observedAt: at },
        range_km: { value: 320, observedAt: at },
        is_plugged_in: { value: false, observedAt: at },
        charge_state: { value: "not_charging", observedAt: at },
        charge_limit_pct: { value: 90, observedAt: at },
        is_locked: { value: true, observedAt: at },
        location: { value: { lat: 37.7749, lon: -122.4194 }, observedAt: at },
        odometer_km: { value: 12_000, observedAt: at },
        dtcs: { value: [], observedAt: at },
        mil_on: { value: false, observedAt: at },
      },
      dtcs: [],
      requestsUsed: 9,
    });
    expect(sim.requests.map((request) => [request.method, request.path, request.status])).toStrictEqual([
      ["POST", "/vehicles/veh-ev/batch", 200],
    ]);
  });

  it("reads fuel and oil of a combustion car", async () => {
    const sample = await clientWith().poll(ICE, new Date(T0));
    expect(sample.signals.fuel_pct).toStrictEqual({ value: 50, observedAt: iso(T0) });
    expect(sample.signals.fuel_l).toStrictEqual({ value: 25, observedAt: iso(T0) });
    expect(sample.signals.range_km).toStrictEqual({ value: 200, observedAt: iso(T0) });
    expect(sample.signals.oil_life_pct).toStrictEqual({ value: 35, observedAt: iso(T0) });
    expect(sample.signals.soc_pct).toBeUndefined();
  });

  it("sees the simulated car drive: position, odometer and charge advance with time", async () => {
    sim.vehicles.get("veh-ev")?.drive({ speedKph: 60, headingDeg: 0 });
    clock += 30 * 60_000;
    const sample = await clientWith().poll(EV, new Date(clock));
    const at = iso(clock);
    expect(sample.signals.location).toStrictEqual({ value: { lat: 38.044393, lon: -122.4194 }, observedAt: at });
    expect(sample.signals.odometer_km).toStrictEqual({ value: 12_030, observedAt: at });
    expect(sample.signals.soc_pct).toStrictEqual({ value: 72.5, observedAt: at });
    expect(sample.signals.range_km).toStrictEqual({ value: 290, observedAt: at });
  });

  it("follows a route and stops at its last waypoint", async () => {
    const route = [
      { lat: 37.78, lon: -122.4194 },
      { lat: 37.78, lon: -122.41 },
    ];
    sim.vehicles.get("veh-ev")?.drive({ speedKph: 50, route });
    clock += 60 * 60_000; // within the access token's 2 h lifetime
    const sample = await clientWith({ pollPaths: ["/location"] }).poll(EV, new Date(clock));
    expect(sample.signals.location?.value).toStrictEqual({ lat: 37.78, lon: -122.41 });
    expect(sim.vehicles.get("veh-ev")?.state.speedKph).toBe(0);
  });

  it("reports a DTC the car raised, with its time, and the MIL on", async () => {
    clock += 60_000;
    sim.vehicles.get("veh-ev")?.raiseDtc("P0420");
    const sample = await clientWith().poll(EV, new Date(clock));
    expect(sample.dtcs).toStrictEqual([{ code: "P0420", occurredAt: iso(T0 + 60_000) }]);
    expect(sample.signals.mil_on).toStrictEqual({ value: true, observedAt: iso(T0 + 60_000) });
  });

  it("polls only the configured endpoints and counts only those", async () => {
    sim.script({ kind: "set", vehicleId: "veh-ev", patch: { soc: 0.42 } });
    const sample = await clientWith({ pollPaths: ["/battery", "/location"] }).poll(EV, new Date(T0));
    expect(sample).toStrictEqual({
      signals: {
        soc_pct: { value: 42, observedAt: iso(T0) },
        range_km: { value: 168, observedAt: iso(T0) },
        location: { value: { lat: 37.7749, lon: -122.4194 }, observedAt: iso(T0) },
      },
      requestsUsed: 2,
    });
    expect(sim.requests[0]?.batchPaths).toStrictEqual(["/battery", "/location"]);
  });
});

describe("SmartcarClient errors", () => {
  it("401: ProviderAuthError with Smartcar's error as cause, the vehicle marked for re-auth, no retry", async () => {
    sim.script({ kind: "fail", status: 401 });
    const error = await thrown(clientWith().poll(EV, new Date(T0)));
    expect(error).toBeInstanceOf(ProviderAuthError);
    expect((error as Error).message).toBe(
      "smartcar: POST /vehicles/{id}/batch answered 401 AUTHENTICATION: The authorization header is missing or the token is invalid.",
    );
    const cause = (error as Error).cause as SmartcarHttpError;
    expect(cause).toBeInstanceOf(SmartcarHttpError);
    expect([cause.status, cause.body?.type, cause.resolution, cause.requestId]).toStrictEqual([
      401,
      "AUTHENTICATION",
      "REAUTHENTICATE",
      "sim-req-1",
    ]);
    expect(reauth).toStrictEqual([
      {
        ref: "smartcar/owner-1",
        reason:
          "POST /vehicles/{id}/batch answered 401 AUTHENTICATION: The authorization header is missing or the token is invalid.",
      },
    ]);
    expect(sim.requestCount()).toBe(1);
  });

  it("an access token the simulator does not know is a 401 too", async () => {
    const client = clientWith({
      tokens: { getAccessToken: async () => "not-a-token", markNeedsReauth: async () => undefined },
    });
    expect(await thrown(client.poll(EV, new Date(T0)))).toBeInstanceOf(ProviderAuthError);
  });

  it("403: ProviderAuthError (permission), marked for re-auth", async () => {
    sim.script({ kind: "fail", status: 403, path: "/batch" });
    const error = await thrown(clientWith().poll(EV, new Date(T0)));
    expect(error).toBeInstanceOf(ProviderAuthError);
    expect(((error as Error).cause as SmartcarHttpError).body?.type).toBe("PERMISSION");
    expect(reauth).toHaveLength(1);
  });

  it("every endpoint of a batch refused for lack of permission is the vehicle's ProviderAuthError", async () => {
    sim.script({ kind: "set", vehicleId: "veh-ev", patch: { permissions: [] } });
    const error = await thrown(clientWith({ pollPaths: ["/battery", "/odometer"] }).poll(EV, new Date(T0)));
    expect(error).toBeInstanceOf(ProviderAuthError);
    expect((error as Error).message).toBe(
      "smartcar: GET /vehicles/{id}/battery answered 403 PERMISSION: Your application has insufficient permissions to access the requested resource.",
    );
  });

  it("404: ProviderNotFoundError for a vehicle Smartcar does not know", async () => {
    const error = await thrown(clientWith().poll(refOf("veh-gone"), new Date(T0)));
    expect(error).toBeInstanceOf(ProviderNotFoundError);
    expect(((error as Error).cause as SmartcarHttpError).body?.type).toBe("RESOURCE_NOT_FOUND");
    expect(reauth).toStrictEqual([]);
  });

  it("409: ProviderConflictError, not retried", async () => {
    sim.script({ kind: "fail", status: 409, path: "/batch" });
    const error = await thrown(clientWith().poll(EV, new Date(T0)));
    expect(error).toBeInstanceOf(ProviderConflictError);
    expect(((error as Error).cause as SmartcarHttpError).resolution).toBe("RETRY_LATER");
    expect(sim.requestCount()).toBe(1);
  });

  it("429 with a Retry-After beyond what the client waits out: ProviderRateLimitError with retryAfterMs at once", async () => {
    sim.script({ kind: "fail", status: 429, retryAfter: "120" });
    const error = await thrown(clientWith().poll(EV, new Date(T0)));
    expect(error).toBeInstanceOf(ProviderRateLimitError);
    expect((error as ProviderRateLimitError).retryAfterMs).toBe(120_000);
    expect(sim.requestCount()).toBe(1);
    expect(sleeps).toStrictEqual([]);
  });

  it("429 on every attempt: ProviderRateLimitError after the last attempt", async () => {
    sim.script({ kind: "fail", status: 429, times: 3, retryAfter: "2" });
    const error = await thrown(clientWith().poll(EV, new Date(T0)));
    expect(error).toBeInstanceOf(ProviderRateLimitError);
    expect((error as ProviderRateLimitError).retryAfterMs).toBe(2_000);
    expect(sim.requestCount()).toBe(3);
    expect(sleeps).toStrictEqual([2_000, 2_000]);
  });

  it("a 400 is a plain ProviderError", async () => {
    sim.script({ kind: "fail", status: 400 });
    const error = await thrown(clientWith().poll(EV, new Date(T0)));
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).not.toBeInstanceOf(ProviderUnavailableError);
  });
});

describe("SmartcarClient retries", () => {
  it("2×500 then 200 succeeds with exactly 3 requests, backing off with full jitter", async () => {
    sim.script({ kind: "fail", status: 500, times: 2 });
    const sample = await clientWith().poll(EV, new Date(T0));
    expect(sample.requestsUsed).toBe(27);
    expect(sim.requests.map((request) => request.status)).toStrictEqual([500, 500, 200]);
    // random() = 0.5 of min(8 s, 500 ms × 2^(n-1)).
    expect(sleeps).toStrictEqual([250, 500]);
  });

  it("3×503: ProviderUnavailableError after 3 requests", async () => {
    sim.script({ kind: "fail", status: 503, times: 3 });
    const error = await thrown(clientWith().poll(EV, new Date(T0)));
    expect(error).toBeInstanceOf(ProviderUnavailableError);
    expect(sim.requestCount()).toBe(3);
  });

  it("honours Retry-After on a 429 (waits it out, then succeeds)", async () => {
    sim.script({ kind: "fail", status: 429, retryAfter: "3" });
    await clientWith().poll(EV, new Date(T0));
    expect(sleeps).toStrictEqual([3_000]);
    expect(sim.requests.map((request) => request.status)).toStrictEqual([429, 200]);
  });

  it("honours Retry-After in real time with the default sleep", async () => {
    sim.script({ kind: "fail", status: 429, retryAfter: "1" });
    const client = new SmartcarClient({ baseUrl: sim.url, tokens });
    const started = performance.now();
    await client.poll(EV, new Date(T0));
    expect(performance.now() - started).toBeGreaterThanOrEqual(1_000);
    expect(sim.requestCount()).toBe(2);
  });

  it("a response slower than the timeout is retried, then ProviderUnavailableError", async () => {
    sim.script({ kind: "delay", ms: 400, times: 2 });
    const error = await thrown(clientWith({ timeoutMs: 100, maxAttempts: 2 }).poll(EV, new Date(T0)));
    expect(error).toBeInstanceOf(ProviderUnavailableError);
    expect((error as Error).message).toBe("smartcar: POST /vehicles/{id}/batch timed out after 100 ms");
    expect(((error as Error).cause as Error).name).toBe("TimeoutError");
  });

  it("a slow response within the timeout is fine", async () => {
    sim.script({ kind: "delay", ms: 50 });
    const sample = await clientWith({ timeoutMs: 2_000 }).poll(EV, new Date(T0));
    expect(sample.requestsUsed).toBe(9);
  });
});

describe("SmartcarClient commands", () => {
  it("has exactly the Smartcar capabilities", () => {
    expect([...clientWith().capabilities]).toStrictEqual([
      "lock",
      "unlock",
      "start_charge",
      "stop_charge",
      "set_charge_limit",
      "set_destination",
    ]);
  });

  it("unlock then lock, each confirmed by reading /security back", async () => {
    const client = clientWith();
    expect(await client.send(EV, "unlock", {})).toStrictEqual({ providerRequestId: "sim-req-1", confirmed: true });
    expect(sim.vehicles.get("veh-ev")?.state.locked).toBe(false);
    expect(await client.send(EV, "lock", {})).toStrictEqual({ providerRequestId: "sim-req-3", confirmed: true });
    expect(sim.requests.map((request) => `${request.method} ${request.path}`)).toStrictEqual([
      "POST /vehicles/veh-ev/security",
      "GET /vehicles/veh-ev/security",
      "POST /vehicles/veh-ev/security",
      "GET /vehicles/veh-ev/security",
    ]);
  });

  it("keeps reading back until a slow car has changed state", async () => {
    sim.script({ kind: "set", vehicleId: "veh-ev", patch: { lockLatencyMs: 3_000 } });
    const result = await clientWith({ readBackIntervalMs: 2_000 }).send(EV, "unlock", {});
    expect(result.confirmed).toBe(true);
    expect(sim.requestCount({ method: "GET", path: "/security" })).toBe(3);
    expect(sleeps).toStrictEqual([2_000, 2_000]);
  });

  it("confirmed is false when the car never changes state before the read-back timeout", async () => {
    sim.script({ kind: "set", vehicleId: "veh-ev", patch: { ignoresCommands: true } });
    const result = await clientWith({ readBackIntervalMs: 2_000, readBackTimeoutMs: 6_000 }).send(EV, "unlock", {});
    expect(result).toStrictEqual({ providerRequestId: "sim-req-1", confirmed: false });
    expect(sim.requestCount({ method: "GET", path: "/security" })).toBe(4);
  });

  it("confirmed is left out when /security could not be read back at all", async () => {
    sim.script({ kind: "fail", status: 500, method: "GET", path: "/security", times: 10 });
    const result = await clientWith({ readBackIntervalMs: 2_000, readBackTimeoutMs: 2_000 }).send(EV, "lock", {});
    expect(result).toStrictEqual({ providerRequestId: "sim-req-1" });
  });

  it("start_charge while unplugged: ProviderConflictError with Smartcar's code, sent once", async () => {
    const error = await thrown(clientWith().send(EV, "start_charge", {}));
    expect(error).toBeInstanceOf(ProviderConflictError);
    const cause = (error as Error).cause as SmartcarHttpError;
    expect([cause.status, cause.body?.type, cause.body?.code]).toStrictEqual([
      409,
      "VEHICLE_STATE",
      "CHARGING_PLUG_NOT_CONNECTED",
    ]);
    expect(sim.requestCount()).toBe(1);
  });

  it("start_charge when plugged in: the car charges to its limit, then stop_charge", async () => {
    sim.script({ kind: "set", vehicleId: "veh-ev", patch: { pluggedIn: true, soc: 0.5 } });
    const client = clientWith({ pollPaths: ["/battery", "/charge"] });
    expect(await client.send(EV, "start_charge", {})).toStrictEqual({ providerRequestId: "sim-req-1" });
    clock += 30 * 60_000;
    const charging = await client.poll(EV, new Date(clock));
    expect([charging.signals.soc_pct?.value, charging.signals.charge_state?.value]).toStrictEqual([75, "charging"]);
    clock += 60 * 60_000;
    const full = await client.poll(EV, new Date(clock));
    expect([full.signals.soc_pct?.value, full.signals.charge_state?.value]).toStrictEqual([90, "fully_charged"]);
    await client.send(EV, "stop_charge", {});
    expect(sim.vehicles.get("veh-ev")?.state.charging).toBe(false);
  });

  it("set_charge_limit sends the percent as a fraction", async () => {
    await clientWith().send(EV, "set_charge_limit", { percent: 85 });
    expect(sim.vehicles.get("veh-ev")?.state.chargeLimit).toBe(0.85);
  });

  it("set_charge_limit outside 50..100 % is refused before any request", async () => {
    const error = await thrown(clientWith().send(EV, "set_charge_limit", { percent: 40 }));
    expect(error).toBeInstanceOf(SmartcarCommandParamsError);
    expect((error as Error).message).toBe("smartcar: set_charge_limit: percent must be between 50 and 100, got 40");
    expect(sim.requestCount()).toBe(0);
  });

  it("set_destination sends latitude, longitude and the name as address", async () => {
    await clientWith().send(EV, "set_destination", { destination: { lat: 37.8, lon: -122.27, name: "Office" } });
    expect(sim.vehicles.get("veh-ev")?.state.destination).toStrictEqual({ lat: 37.8, lon: -122.27, address: "Office" });
  });

  it.each(["open_trunk", "open_frunk"] as const)(
    "%s is an UnsupportedCommandError naming provider and command",
    async (command) => {
      const error = await thrown(clientWith().send(EV, command, {}));
      expect(error).toBeInstanceOf(UnsupportedCommandError);
      expect([(error as UnsupportedCommandError).provider, (error as UnsupportedCommandError).command]).toStrictEqual([
        "smartcar",
        command,
      ]);
      expect((error as Error).message).toBe(`smartcar: command ${command} is not supported by smartcar`);
      expect(sim.requestCount()).toBe(0);
    },
  );

  it("a car not capable of a command (501) is an UnsupportedCommandError", async () => {
    const error = await thrown(clientWith().send(ICE, "start_charge", {}));
    expect(error).toBeInstanceOf(UnsupportedCommandError);
    expect((error as UnsupportedCommandError).command).toBe("start_charge");
  });

  it("a command answered 500 twice is retried and succeeds", async () => {
    sim.script({ kind: "fail", status: 500, times: 2, path: "/security", method: "POST" });
    const result = await clientWith().send(EV, "unlock", {});
    expect(result.confirmed).toBe(true);
    expect(sim.requestCount({ method: "POST", path: "/security" })).toBe(3);
  });
});
