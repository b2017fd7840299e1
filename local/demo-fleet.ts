import { createDocumentClient } from "#adapters/aws-clients.ts";
import { DynamoDbInviteStore } from "#adapters/dynamodb/invite-store.ts";
import { DynamoDbPollRegistry } from "#adapters/dynamodb/poll-registry.ts";
import { DynamoDbVehicleStore } from "#adapters/dynamodb/vehicle-store.ts";
import { DEFAULT_INVITE_LIFETIME_MS, newInvite } from "#core/invites/invite.ts";
import type { InviteStore } from "#core/invites/ports.ts";
import { type Provider, type Vehicle, type VehicleId, vehicleIdOf } from "#core/model/vehicle.ts";
import { registerVehicle } from "#core/vehicles/register-vehicle.ts";
import { DIMO_SIM_ACCESS_TOKEN, type DimoSimulator, startDimoSimulator } from "#providers/dimo/simulator.ts";
import { OVMS_SIM_USER, type OvmsSimulator, startOvmsSimulator } from "#providers/ovms/simulator.ts";
import { type SmartcarSimulator, smartcarSimulatorEnv, startSmartcarSimulator } from "#providers/smartcar/simulator.ts";
import type { LocalRuntime } from "./runtime.ts";

/**
 * The demo fleet of `npm start`: in-process simulators of Smartcar, DIMO and OVMS (each only when that provider is
 * not configured), one car per simulator registered the way a real one would be (Smartcar through Connect, DIMO and
 * OVMS as `dashlight vehicles add` does), and a scripted drive that walks the example rules' situations.
 */

/** The example rules' "home" zone (rules/zones.yaml): a 150 m circle in San Francisco. */
const HOME = { lat: 37.7749, lon: -122.4194 };
/** Credentials reference of the DIMO and OVMS demo cars (DIMO_ACCESS_TOKEN_DEMO, OVMS_USERNAME_DEMO, …). */
const DEMO_CREDENTIALS = "demo";
const SMARTCAR_CLIENT = { id: "dashlight-demo-client", secret: "dashlight-demo-client-secret" };

export const DEMO_CARS = {
  smartcar: { providerVehicleId: "demo-ev", displayName: "Demo EV" },
  dimo: { providerVehicleId: "4242", displayName: "Demo Night Owl" },
  ovms: { providerVehicleId: "DEMOCAR", displayName: "Demo Commuter" },
} as const;

export type DemoProviders = {
  /** Environment that points the runtime's handlers at the simulators (set it before startLocalRuntime). */
  env: Record<string, string>;
  smartcar: SmartcarSimulator | undefined;
  dimo: DimoSimulator | undefined;
  ovms: OvmsSimulator | undefined;
  stop(): Promise<void>;
};

/**
 * Starts a simulator for each of Smartcar, DIMO and OVMS whose API URL is not configured (SMARTCAR_API_BASE_URL,
 * DIMO_DEVICE_DATA_API_URL, OVMS_API_URL); a configured provider is left alone. `publicUrl` is where the runtime will
 * listen, for Smartcar's Connect redirect URI.
 */
export const startDemoProviders = async (options: {
  env: NodeJS.ProcessEnv;
  publicUrl: string;
}): Promise<DemoProviders> => {
  const env: Record<string, string> = {};
  let smartcar: SmartcarSimulator | undefined;
  let dimo: DimoSimulator | undefined;
  let ovms: OvmsSimulator | undefined;
  if (!options.env.SMARTCAR_API_BASE_URL) {
    smartcar = await startSmartcarSimulator({
      clientId: SMARTCAR_CLIENT.id,
      clientSecret: SMARTCAR_CLIENT.secret,
      vehicles: [
        {
          id: DEMO_CARS.smartcar.providerVehicleId,
          make: "NISSAN",
          model: "LEAF",
          year: 2021,
          kind: "ev",
          // Downtown, by City Hall: away from home.
          location: { lat: 37.7793, lon: -122.4193 },
          soc: 0.26,
          pluggedIn: false,
          locked: true,
        },
      ],
    });
    Object.assign(
      env,
      smartcarSimulatorEnv(smartcar.url, SMARTCAR_CLIENT, `${options.publicUrl}/connect/smartcar/callback`),
    );
  }
  if (!options.env.DIMO_DEVICE_DATA_API_URL) {
    dimo = await startDimoSimulator({
      vehicles: [
        {
          tokenId: DEMO_CARS.dimo.providerVehicleId,
          status: { latitude: HOME.lat, longitude: HOME.lon, speed: 0, soc: 0.8, odometer: 20_000, charging: false },
        },
      ],
    });
    Object.assign(env, {
      DIMO_DEVICE_DATA_API_URL: dimo.url,
      DIMO_DEVICES_API_URL: dimo.url,
      DIMO_TOKEN_EXCHANGE_URL: dimo.url,
      DIMO_VEHICLE_NFT_CONTRACT: "0xbA5738a18d83D41847dfFbDC6101d37C69c9B0cF",
      DIMO_ACCESS_TOKEN_DEMO: DIMO_SIM_ACCESS_TOKEN,
    });
  }
  if (!options.env.OVMS_API_URL) {
    ovms = await startOvmsSimulator({ vehicles: [{ id: DEMO_CARS.ovms.providerVehicleId, units: "K" }] });
    ovms.script(
      {
        kind: "report",
        vehicleId: DEMO_CARS.ovms.providerVehicleId,
        record: "S",
        fields: { soc: "72", units: "K", chargestate: "stopped", estimatedrange: "260" },
      },
      {
        kind: "report",
        vehicleId: DEMO_CARS.ovms.providerVehicleId,
        record: "D",
        fields: { speed: "0", odometer: "456780", caron: 0, carlocked: 1, pilotpresent: 0 },
      },
      {
        kind: "report",
        vehicleId: DEMO_CARS.ovms.providerVehicleId,
        record: "L",
        // On US-101 by the airport, heading south.
        fields: { latitude: 37.62, longitude: -122.39, direction: 150, gpslock: 1, stalegps: 1 },
      },
    );
    Object.assign(env, {
      OVMS_API_URL: ovms.url,
      OVMS_USERNAME_DEMO: OVMS_SIM_USER.username,
      OVMS_PASSWORD_DEMO: OVMS_SIM_USER.password,
    });
  }
  return {
    env,
    smartcar,
    dimo,
    ovms,
    async stop() {
      await Promise.all([smartcar?.stop(), dimo?.stop(), ovms?.stop()]);
    },
  };
};

/** The local hour (0-23) of a time zone at an instant. */
export const localHour = (timeZone: string, at: Date): number =>
  Number(new Intl.DateTimeFormat("en-GB", { timeZone, hour: "2-digit", hourCycle: "h23" }).format(at));

const PREFERRED_ZONES = [
  "Pacific/Auckland",
  "Australia/Sydney",
  "Asia/Tokyo",
  "Asia/Shanghai",
  "Asia/Kolkata",
  "Asia/Dubai",
  "Europe/Moscow",
  "Europe/Berlin",
  "Europe/London",
  "Atlantic/Azores",
  "America/Sao_Paulo",
  "America/New_York",
  "America/Chicago",
  "America/Denver",
  "America/Los_Angeles",
  "America/Anchorage",
  "Pacific/Honolulu",
];

/**
 * A time zone where it is between 00:00 and 03:00 now, so the geofence-exit rule's 22:00-06:00 window holds for the
 * demo and for hours after it. Well-known cities first; any IANA zone otherwise (some zone always qualifies).
 */
export const nightTimeZone = (at: Date): string => {
  const zones = [...PREFERRED_ZONES, ...Intl.supportedValuesOf("timeZone")];
  return zones.find((zone) => localHour(zone, at) < 3) ?? "UTC";
};

export type DemoVehicle = { id: VehicleId; provider: Provider; displayName: string };

/**
 * Registers the demo cars: the Smartcar EV through the runtime's own Connect flow (an invite, as `dashlight connect
 * invite` makes → GET /connect/smartcar?invite= → the simulator's auto-approving authorize page → the callback, which
 * claims the invite, exchanges the code, seals the tokens and registers the vehicle), the DIMO and OVMS cars with
 * their credentials reference as `dashlight vehicles add` does.
 */
export const registerDemoFleet = async (options: {
  url: string;
  runtime: Pick<LocalRuntime, "endpoints" | "provisioned">;
  providers: DemoProviders;
  timeZone: string;
}): Promise<DemoVehicle[]> => {
  const fleet: DemoVehicle[] = [];
  const documentClient = createDocumentClient(options.runtime.endpoints);
  const ports = {
    vehicles: new DynamoDbVehicleStore(documentClient, options.runtime.provisioned.tableName),
    polls: new DynamoDbPollRegistry(documentClient, options.runtime.provisioned.tableName),
  };
  if (options.providers.smartcar) {
    const invites = new DynamoDbInviteStore(documentClient, options.runtime.provisioned.tableName);
    const connected = await connectSmartcar(options.url, options.timeZone, invites, 1);
    for (const vehicle of connected) fleet.push({ ...vehicle, provider: "smartcar" });
  }
  for (const provider of ["dimo", "ovms"] as const) {
    if (options.providers[provider] === undefined) continue;
    const car = DEMO_CARS[provider];
    const vehicle = {
      id: vehicleIdOf(provider, car.providerVehicleId),
      provider,
      providerVehicleId: car.providerVehicleId,
      displayName: car.displayName,
      tags: ["demo"],
      timeZone: options.timeZone,
      contacts: [],
      credentialsRef: DEMO_CREDENTIALS,
      createdAt: new Date().toISOString(),
    } satisfies Vehicle;
    await registerVehicle(vehicle, ports, { poll: true, now: new Date() });
    fleet.push({ id: vehicle.id, provider, displayName: vehicle.displayName });
  }
  return fleet;
};

/**
 * Smartcar Connect as the operator and the owner's browser would do it: an invite in the time zone, for `vehicles`
 * cars, is made in `invites` (the runtime's table), then its link is followed. Code may admit more cars than the
 * CLI's `--vehicles` (MAX_INVITE_VEHICLES): bench/poll.ts connects its whole simulated fleet in one Connect. The
 * callback is replayed on the runtime's own address (the redirect URI may name another port when the runtime listens
 * on an ephemeral one, as behind a reverse proxy).
 */
export const connectSmartcar = async (
  url: string,
  timeZone: string,
  invites: Pick<InviteStore, "create">,
  vehicles: number,
): Promise<Omit<DemoVehicle, "provider">[]> => {
  const invite = newInvite({ timeZone, tags: [], vehicles, lifetimeMs: DEFAULT_INVITE_LIFETIME_MS, now: new Date() });
  await invites.create(invite);
  const start = await fetch(`${url}/connect/smartcar?invite=${invite.id}`, { redirect: "manual" });
  if (start.status !== 302) throw new Error(`GET /connect/smartcar answered ${start.status}`);
  const cookie = (start.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
  const approved = await fetch(start.headers.get("location") ?? "", { redirect: "manual" });
  if (approved.status !== 302) throw new Error(`the simulator's Connect page answered ${approved.status}`);
  const redirect = new URL(approved.headers.get("location") ?? "");
  const response = await fetch(new URL(`${redirect.pathname}${redirect.search}`, url), {
    headers: { accept: "application/json", cookie },
  });
  const body = (await response.json()) as { vehicles?: { id: VehicleId; displayName: string }[]; error?: string };
  if (response.status !== 200 || body.vehicles === undefined) {
    throw new Error(`the Connect callback answered ${response.status}: ${body.error ?? "no vehicles"}`);
  }
  return body.vehicles.map(({ id, displayName }) => ({ id, displayName }));
};

/**
 * Demo-only fast polling: every `everyMs` the simulators advance by that much, each demo vehicle whose last poll
 * has finished is made due again in the poll registry, and the runtime's poll scheduler runs, so the usual path
 * (scheduler → poll jobs queue → poll worker → events queue → rules) runs every few seconds instead of every 1-30
 * minutes. Only the demo's own vehicles are touched; the default poll settings and budgets stay as they are.
 */
export const startFastPolling = (options: {
  runtime: Pick<LocalRuntime, "endpoints" | "provisioned" | "schedulePolls">;
  providers: Pick<DemoProviders, "dimo" | "ovms">;
  vehicleIds: readonly VehicleId[];
  everyMs: number;
  onError: (error: unknown) => void;
}) => {
  const registry = new DynamoDbPollRegistry(
    createDocumentClient(options.runtime.endpoints),
    options.runtime.provisioned.tableName,
  );
  /** The version the demo saved when it last made a vehicle due; version + 1 is the scheduler's lease. */
  const forced = new Map<VehicleId, { version: number; at: number }>();
  let running = false;
  const round = async () => {
    const seconds = options.everyMs / 1000;
    options.providers.dimo?.script({ kind: "tick", seconds });
    options.providers.ovms?.script({ kind: "tick", seconds });
    const now = Date.now();
    for (const vehicleId of options.vehicleIds) {
      const registration = await registry.get(vehicleId);
      if (registration === undefined || registration.needsReauth) continue;
      if (Date.parse(registration.state.nextPollAt) <= now) continue;
      const last = forced.get(vehicleId);
      // Leased by the scheduler and its job not done yet: leave it (unless the job looks lost).
      if (last !== undefined && registration.version === last.version + 1 && now - last.at < 20_000) continue;
      const version = registration.version + 1;
      const saved = await registry.save({
        ...registration,
        state: { ...registration.state, nextPollAt: new Date(now).toISOString() },
        version,
      });
      if (saved) forced.set(vehicleId, { version, at: now });
    }
    await options.runtime.schedulePolls();
  };
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    round()
      .catch(options.onError)
      .finally(() => {
        running = false;
      });
  }, options.everyMs);
  return () => clearInterval(timer);
};

type ScriptStep = { afterMs: number; say: string; run: () => void };

/**
 * The scripted route, relative to when every polled demo car has reported once:
 * - the OVMS car takes the motorway at 130 km/h (speeding: over 120 km/h for 10 s);
 * - the DIMO car leaves home at night (geofence-exit: its time zone is one where it is night now; the rule texts the
 *   owner and locks the doors through DIMO);
 * - the Smartcar EV, its battery down to 20.1 % and unplugged, drives until it reads under 20 % (low-charge), then
 *   raises a DTC (check-engine: Smartcar reports no lamp, an active code is read as the MIL on).
 */
export const demoScript = (providers: DemoProviders): ScriptStep[] => {
  const steps: ScriptStep[] = [];
  const { smartcar, dimo, ovms } = providers;
  const ev = smartcar?.vehicles.get(DEMO_CARS.smartcar.providerVehicleId);
  if (ovms) {
    const vehicleId = DEMO_CARS.ovms.providerVehicleId;
    steps.push({
      afterMs: 0,
      say: "ovms:DEMOCAR merges onto the motorway at 130 km/h",
      run: () => ovms.script({ kind: "drive", vehicleId, speed: 130, headingDeg: 150 }),
    });
    steps.push({
      afterMs: 40_000,
      say: "ovms:DEMOCAR slows down and parks",
      run: () => ovms.script({ kind: "park", vehicleId }),
    });
  }
  if (dimo) {
    const tokenId = DEMO_CARS.dimo.providerVehicleId;
    steps.push({
      afterMs: 0,
      say: "dimo:4242 pulls out of home at 50 km/h (it is night in its time zone)",
      run: () => dimo.script({ kind: "drive", tokenId, speedKph: 50, headingDeg: 0 }),
    });
    steps.push({ afterMs: 35_000, say: "dimo:4242 parks", run: () => dimo.script({ kind: "park", tokenId }) });
  }
  if (ev) {
    steps.push({
      afterMs: 0,
      say: "smartcar:demo-ev (unplugged) is down to 20.1% and drives off at 100 km/h",
      run: () => {
        ev.set({ soc: 0.201 });
        ev.drive({ speedKph: 100, headingDeg: 90 });
      },
    });
    steps.push({
      afterMs: 25_000,
      say: "smartcar:demo-ev raises trouble code P0A80",
      run: () => ev.raiseDtc("P0A80"),
    });
    steps.push({ afterMs: 35_000, say: "smartcar:demo-ev parks", run: () => ev.park() });
  }
  return steps.sort((a, b) => a.afterMs - b.afterMs);
};
