import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { Firing } from "#core/rules/state.ts";
import { startDemo } from "#local/demo.ts";
import {
  type DemoProviders,
  type DemoVehicle,
  localHour,
  nightTimeZone,
  registerDemoFleet,
  startDemoProviders,
} from "#local/demo-fleet.ts";
import type { LocalRuntime } from "#local/runtime.ts";
import { getJson, startTestRuntime, TEST_AUTOMATIC_SECRET } from "#test/support/local-runtime.ts";

/** `npm start`'s demo, on the test runtime: the simulated fleet fires the example rules within a minute. */
let runtime: LocalRuntime;
let providers: DemoProviders;
let vehicles: DemoVehicle[];
let stopDemo: (() => void) | undefined;
const printed: string[] = [];
const timeZone = nightTimeZone(new Date());

beforeAll(async () => {
  providers = await startDemoProviders({ env: {}, publicUrl: "http://127.0.0.1:1" });
  Object.assign(process.env, providers.env, {
    DASHLIGHT_TOKEN_ENCRYPTION_KEY: Buffer.alloc(32, 3).toString("base64"),
    DASHLIGHT_CONNECT_COOKIE_SECRET: "demo-test-cookie-secret",
  });
  runtime = await startTestRuntime();
  vehicles = await registerDemoFleet({ url: runtime.url, runtime, providers, timeZone });
});
afterAll(async () => {
  stopDemo?.();
  await runtime?.stop();
  await providers?.stop();
});

const firedRules = async (vehicleId: string) =>
  (((await getJson(`${runtime.url}/vehicles/${encodeURIComponent(vehicleId)}/firings`)).body.firings ?? []) as Firing[])
    .filter((firing) => firing.kind === "fired")
    .map((firing) => firing.ruleId)
    .sort();

describe("the demo fleet", () => {
  it("registers a Smartcar, a DIMO and an OVMS car in a time zone where it is night", () => {
    expect(localHour(timeZone, new Date())).toBeLessThan(3);
    expect(vehicles).toStrictEqual([
      { id: "smartcar:demo-ev", provider: "smartcar", displayName: "2021 NISSAN LEAF" },
      { id: "dimo:4242", provider: "dimo", displayName: "Demo Night Owl" },
      { id: "ovms:DEMOCAR", provider: "ovms", displayName: "Demo Commuter" },
    ]);
  });

  it("fires speeding, geofence exit, low charge and check engine within a minute, naming car and provider", async () => {
    stopDemo = startDemo({
      url: runtime.url,
      automaticSecret: TEST_AUTOMATIC_SECRET,
      print: (line) => printed.push(line),
      fleet: { runtime, providers, vehicles },
    });
    await vi.waitFor(
      async () => {
        expect(await firedRules("smartcar:demo-ev")).toStrictEqual(["check-engine", "low-charge"]);
        expect(await firedRules("dimo:4242")).toStrictEqual(["geofence-exit"]);
        expect(await firedRules("ovms:DEMOCAR")).toStrictEqual(["speeding"]);
        expect(await firedRules("automatic:C_demo_speedster")).toStrictEqual([
          "check-engine",
          "hard-braking",
          "speeding",
        ]);
      },
      { timeout: 60_000, interval: 1_000 },
    );
    await vi.waitFor(() =>
      expect(
        printed.filter((line) => / fired rule /.test(line) && line.includes("(dimo:4242, via dimo)")),
      ).toHaveLength(1),
    );
    expect(
      printed.some((line) =>
        /Demo Night Owl \(dimo:4242, via dimo\) fired rule geofence-exit \(fired, actioned\)/.test(line),
      ),
    ).toBe(true);
    // The geofence rule's lock went to the DIMO simulator.
    await vi.waitFor(() =>
      expect(providers.dimo?.vehicle("4242").commands.map((command) => command.command)).toStrictEqual(["doors/lock"]),
    );
  }, 70_000);
});
