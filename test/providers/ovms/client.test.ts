import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  ProviderAuthError,
  ProviderNotFoundError,
  ProviderUnavailableError,
  UnsupportedCommandError,
} from "#core/providers/errors.ts";
import type { ProviderVehicleRef } from "#core/providers/ports.ts";
import { VEHICLE_COMMANDS } from "#core/rules/schema.ts";
import { ProviderResponseInvalidError } from "#providers/http/errors.ts";
import { OvmsClient } from "#providers/ovms/client.ts";
import { OVMS_SIM_USER, type OvmsSimulator, startOvmsSimulator } from "#providers/ovms/simulator.ts";

const NOW = new Date("2026-03-01T12:00:00.000Z");
const ago = (seconds: number) => new Date(NOW.getTime() - seconds * 1000).toISOString();
const leaf: ProviderVehicleRef = {
  vehicleId: "ovms:LEAF",
  provider: "ovms",
  providerVehicleId: "LEAF",
  credentialsRef: "home",
};
const volt: ProviderVehicleRef = {
  vehicleId: "ovms:VOLT",
  provider: "ovms",
  providerVehicleId: "VOLT",
  credentialsRef: "home",
};

let sim: OvmsSimulator;
let clock: Date;

const client = (password: string = OVMS_SIM_USER.password) =>
  new OvmsClient({
    baseUrl: sim.url,
    credentials: async () => ({ username: OVMS_SIM_USER.username, password }),
    http: { timeoutMs: 2_000, retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 5, maxRetryAfterMs: 2_000 } },
  });

const paths = () => sim.requests.map((r) => `${r.method} ${r.path} ${r.status}`);

beforeEach(async () => {
  clock = NOW;
  sim = await startOvmsSimulator({
    now: () => clock,
    vehicles: [
      { id: "LEAF", units: "K" },
      { id: "VOLT", units: "M" },
    ],
  });
});
afterEach(async () => {
  await sim.stop();
});

describe("OvmsClient.poll", () => {
  it("stamps each sample with the age of the record it came from (now − m_msgage_*)", async () => {
    sim.script(
      {
        kind: "report",
        vehicleId: "LEAF",
        record: "S",
        ageSeconds: 30,
        fields: { soc: "81.5", estimatedrange: "212", chargestate: "done" },
      },
      {
        kind: "report",
        vehicleId: "LEAF",
        record: "D",
        ageSeconds: 5,
        fields: {
          odometer: "1234567",
          speed: "0",
          carlocked: 1,
          caron: 0,
          pilotpresent: 1,
          vehicle12v: "12.61",
          fl_dooropen: 0,
          fr_dooropen: 1,
          tr_open: 0,
          bt_open: 0,
          cp_dooropen: 1,
        },
      },
      {
        kind: "report",
        vehicleId: "LEAF",
        record: "L",
        ageSeconds: 120,
        fields: { latitude: "51.5", longitude: "-0.12", direction: "270", gpslock: 1 },
      },
      {
        kind: "report",
        vehicleId: "LEAF",
        record: "W",
        ageSeconds: 600,
        fields: { fl_pressure_kpa: "250.5", fl_pressure: "36.3", fr_pressure: "36", staletpms: 1 },
      },
    );
    const sample = await client().poll(leaf, NOW);
    expect(sample).toStrictEqual({
      signals: {
        soc_pct: { value: 81.5, observedAt: ago(30) },
        range_km: { value: 212, observedAt: ago(30) },
        charge_state: { value: "fully_charged", observedAt: ago(30) },
        odometer_km: { value: 123_456.7, observedAt: ago(5) },
        speed_kph: { value: 0, observedAt: ago(5) },
        is_locked: { value: true, observedAt: ago(5) },
        ignition_on: { value: false, observedAt: ago(5) },
        is_plugged_in: { value: true, observedAt: ago(5) },
        battery_12v_v: { value: 12.61, observedAt: ago(5) },
        doors: {
          value: { front_left: "closed", front_right: "open", trunk: "closed", hood: "closed", charge_port: "open" },
          observedAt: ago(5),
        },
        location: { value: { lat: 51.5, lon: -0.12, heading: 270 }, observedAt: ago(120) },
        tire_pressure_kpa: { value: { front_left: 250.5, front_right: 248.211 }, observedAt: ago(600) },
      },
      requestsUsed: 6,
    });
    expect(paths()).toStrictEqual([
      "GET /api/cookie 200",
      "GET /api/vehicle/LEAF 200",
      "GET /api/status/LEAF 200",
      "GET /api/charge/LEAF 200",
      "GET /api/location/LEAF 200",
      "GET /api/tpms/LEAF 200",
    ]);
  });

  it("converts a car configured in miles: odometer tenths, range and speed to km", async () => {
    sim.script(
      { kind: "report", vehicleId: "VOLT", record: "S", fields: { soc: "40", estimatedrange: "100" } },
      { kind: "report", vehicleId: "VOLT", record: "D", fields: { odometer: "123456", speed: "60" } },
    );
    const { signals } = await client().poll(volt, NOW);
    expect(signals).toStrictEqual({
      soc_pct: { value: 40, observedAt: NOW.toISOString() },
      range_km: { value: 160.934, observedAt: NOW.toISOString() },
      odometer_km: { value: 19_868.317, observedAt: NOW.toISOString() },
      speed_kph: { value: 96.561, observedAt: NOW.toISOString() },
    });
  });

  it("yields no samples for records the car never sent, rather than stamping them fresh", async () => {
    const { signals } = await client().poll(leaf, NOW);
    expect(signals).toStrictEqual({});
  });

  it("lets ages grow while the car is offline", async () => {
    sim.script(
      { kind: "report", vehicleId: "LEAF", record: "S", fields: { soc: "50" } },
      { kind: "offline", vehicleId: "LEAF" },
    );
    clock = new Date(NOW.getTime() + 3_600_000);
    sim.script({ kind: "tick", seconds: 3_600 });
    const { signals } = await client().poll(leaf, clock);
    expect(signals.soc_pct).toStrictEqual({ value: 50, observedAt: NOW.toISOString() });
  });

  it("follows a car that drives north at 60 km/h for a minute, then charges", async () => {
    sim.script(
      { kind: "report", vehicleId: "LEAF", record: "L", fields: { latitude: 51.5, longitude: -0.12 } },
      { kind: "report", vehicleId: "LEAF", record: "D", fields: { odometer: "1000" } },
      { kind: "report", vehicleId: "LEAF", record: "S", fields: { soc: "20" } },
      { kind: "drive", vehicleId: "LEAF", speed: 60, headingDeg: 0 },
      { kind: "tick", seconds: 60 },
      { kind: "park", vehicleId: "LEAF" },
      { kind: "charge", vehicleId: "LEAF", socPerMinute: 0.5 },
      { kind: "tick", seconds: 600 },
    );
    const { signals } = await client().poll(leaf, NOW);
    expect(signals.location?.value).toStrictEqual({ lat: 51.508983, lon: -0.12, heading: 0 });
    expect(signals.odometer_km?.value).toBe(101);
    expect(signals.speed_kph?.value).toBe(0);
    expect(signals.soc_pct?.value).toBe(25);
    expect(signals.charge_state?.value).toBe("charging");
    expect(signals.is_plugged_in?.value).toBe(true);
  });

  it("reuses the session, and logs in again once when it expired", async () => {
    const ovms = client();
    await ovms.poll(leaf, NOW);
    expect((await ovms.poll(leaf, NOW)).requestsUsed).toBe(5);
    sim.script({ kind: "expire_sessions" });
    expect((await ovms.poll(leaf, NOW)).requestsUsed).toBe(7);
    expect(paths().slice(11, 14)).toStrictEqual([
      "GET /api/vehicle/LEAF 401",
      "GET /api/cookie 200",
      "GET /api/vehicle/LEAF 200",
    ]);
  });

  it("counts requests per vehicle", async () => {
    await client().poll(leaf, NOW);
    expect(sim.countFor("LEAF")).toBe(5);
    expect(sim.countFor("VOLT")).toBe(0);
  });
});

describe("OvmsClient errors", () => {
  it("reports a rejected login as ProviderAuthError", async () => {
    const error = await client("wrong")
      .poll(leaf, NOW)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderAuthError);
    expect((error as Error).message).toBe("ovms: GET /api/cookie → 401 (Unauthorized)");
  });

  it("reports a vehicle not on the account as ProviderNotFoundError", async () => {
    const error = await client()
      .poll({ ...leaf, providerVehicleId: "NOPE" }, NOW)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderNotFoundError);
    expect((error as Error).message).toBe("ovms: GET /api/vehicle/NOPE → 404 (Unrecognised vehicle)");
  });

  it("retries 5xx: two 500s then 200 take exactly three requests", async () => {
    sim.script({ kind: "fail", status: 500, times: 2, match: "/api/status/" });
    await client().poll(leaf, NOW);
    expect(sim.requests.filter((r) => r.path === "/api/status/LEAF").map((r) => r.status)).toStrictEqual([
      500, 500, 200,
    ]);
  });

  it("reports an outage that outlives the retries as ProviderUnavailableError", async () => {
    sim.script({ kind: "fail", status: 502, times: 5, match: "/api/charge/" });
    const error = await client()
      .poll(leaf, NOW)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProviderUnavailableError);
    expect((error as Error).message).toBe("ovms: GET /api/charge/LEAF → 502 (Error) (attempt 3)");
  });

  it("refuses a units setting it does not know instead of guessing", async () => {
    sim.script({ kind: "report", vehicleId: "LEAF", record: "S", fields: { units: "X", estimatedrange: "200" } });
    await expect(client().poll(leaf, NOW)).rejects.toThrow(ProviderResponseInvalidError);
  });
});

describe("OvmsClient commands", () => {
  it.each(VEHICLE_COMMANDS)(
    "reports %s as unsupported (the server API does not implement control)",
    async (command) => {
      const error = await client()
        .send(leaf, command, {})
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UnsupportedCommandError);
      expect(error).toMatchObject({
        provider: "ovms",
        command,
        message: `ovms: command ${command} is not supported by ovms`,
      });
      expect(sim.requests).toHaveLength(0);
    },
  );

  it("declares an empty capability row", () => {
    expect(client().capabilities.size).toBe(0);
  });
});

describe("OvmsClient account and history", () => {
  it("lists the account's vehicles", async () => {
    expect(await client().listVehicles("home")).toStrictEqual([
      { id: "LEAF", v_net_connected: 1, v_apps_connected: 0, v_btcs_connected: 0 },
      { id: "VOLT", v_net_connected: 1, v_apps_connected: 0, v_btcs_connected: 0 },
    ]);
  });

  it("reads historical summaries and records after a time", async () => {
    sim.script(
      {
        kind: "historical",
        vehicleId: "LEAF",
        recordType: "*-LOG-Trip",
        timestamp: "2026-02-28 10:00:00",
        recordNumber: 1,
        data: "12.5,3.1",
      },
      {
        kind: "historical",
        vehicleId: "LEAF",
        recordType: "*-LOG-Trip",
        timestamp: "2026-03-01 09:00:00",
        recordNumber: 2,
        data: "8.0,1.9",
      },
    );
    const ovms = client();
    expect(await ovms.historicalSummary(leaf)).toStrictEqual([
      {
        h_recordtype: "*-LOG-Trip",
        distinctrecs: 2,
        totalrecs: 2,
        totalsize: 15,
        first: "2026-02-28 10:00:00",
        last: "2026-03-01 09:00:00",
      },
    ]);
    expect(await ovms.historicalRecords(leaf, "*-LOG-Trip", new Date("2026-03-01T00:00:00Z"))).toStrictEqual([
      { h_timestamp: "2026-03-01 09:00:00", h_recordnumber: 2, h_data: "8.0,1.9" },
    ]);
  });
});
