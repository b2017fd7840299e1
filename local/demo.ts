import { readFileSync } from "node:fs";
import type { VehicleId } from "#core/model/vehicle.ts";
import type { Firing } from "#core/rules/state.ts";
import { type DemoProviders, type DemoVehicle, demoScript, startFastPolling } from "./demo-fleet.ts";
import type { LocalRuntime } from "./runtime.ts";

/** The demo car: an Automatic-connected car that speeds, brakes hard and lights its check-engine lamp. */
export const DEMO_VEHICLE = "C_demo_speedster";
const DEMO_VEHICLE_ID = `automatic:${DEMO_VEHICLE}`;

const sample = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(new URL(`../test/events/automatic/${name}.json`, import.meta.url), "utf8"));

type Step = { afterMs: number; sample: string; changes: (at: number) => Record<string, unknown> };

/**
 * One drive, as Automatic webhooks in its documented webhook format: ignition on,
 * 80 mph (129 km/h) for more than ten seconds, a hard brake, the check-engine
 * light with a DTC, ignition off. Enough to fire the speeding, hard-braking and
 * check-engine example rules within half a minute.
 */
const DRIVE: Step[] = [
  { afterMs: 0, sample: "ignition-on.webhook", changes: () => ({}) },
  { afterMs: 2_000, sample: "notification-speeding.webhook", changes: () => ({ speed_mph: 80 }) },
  { afterMs: 8_000, sample: "notification-speeding.webhook", changes: () => ({ speed_mph: 82 }) },
  { afterMs: 14_000, sample: "notification-speeding.webhook", changes: () => ({ speed_mph: 81 }) },
  { afterMs: 16_000, sample: "notification-hard_brake.webhook", changes: () => ({ g_force: 0.52 }) },
  {
    afterMs: 20_000,
    sample: "mil-on.webhook",
    changes: (at) => ({ dtcs: [{ code: "P0301", description: "Cylinder 1 misfire detected", start: at }] }),
  },
  { afterMs: 26_000, sample: "ignition-off.webhook", changes: () => ({}) },
];

export type DemoOptions = {
  url: string;
  /** The Automatic webhook secret; undefined leaves the Automatic car out. */
  automaticSecret: string | undefined;
  print: (line: string) => void;
  /** The simulated fleet (./demo-fleet.ts): registered cars, their simulators, and the runtime that polls them. */
  fleet?: {
    runtime: Pick<LocalRuntime, "endpoints" | "provisioned" | "schedulePolls">;
    providers: DemoProviders;
    vehicles: readonly DemoVehicle[];
    /** How often the demo polls its cars while the scripted route runs. Default 3 s. */
    pollEveryMs?: number;
  };
};

/**
 * Drives the demo cars and prints each firing the rules produce, naming the car and its provider, so a newcomer sees
 * rules fire within a minute of `npm start`: the Automatic car through the runtime's real webhook endpoint, the
 * simulated Smartcar, DIMO and OVMS cars through polling. Returns a function that stops it.
 */
export const startDemo = (options: DemoOptions) => {
  const timers: NodeJS.Timeout[] = [];
  const stops: (() => void)[] = [];
  const started = Date.now();
  const startedIso = new Date(started).toISOString();
  const elapsed = () => `+${((Date.now() - started) / 1000).toFixed(0)}s`;
  let stopped = false;

  const watched: DemoVehicle[] = [...(options.fleet?.vehicles ?? [])];
  if (options.automaticSecret !== undefined) {
    watched.unshift({ id: DEMO_VEHICLE_ID, provider: "automatic", displayName: "Demo Speedster" });
    const secret = options.automaticSecret;
    let drive = 0;
    const post = async (step: Step) => {
      const at = Date.now();
      const payload = { ...sample(step.sample), ...step.changes(at) };
      payload.id = `demo-${drive}-${step.afterMs}`;
      payload.created_at = at;
      (payload.vehicle as Record<string, unknown>).id = DEMO_VEHICLE;
      (payload.vehicle as Record<string, unknown>).display_name = "Demo Speedster";
      const location = payload.location as Record<string, unknown> | undefined;
      if (location) location.ts = at;
      const response = await fetch(`${options.url}/webhooks/automatic/${secret}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(payload),
      });
      if (response.status !== 202) options.print(`demo: ${step.sample} was answered ${response.status}`);
    };
    const runDrive = () => {
      drive++;
      for (const step of DRIVE) {
        timers.push(
          setTimeout(
            () => void post(step).catch((error: unknown) => options.print(`demo: ${String(error)}`)),
            step.afterMs,
          ),
        );
      }
    };
    runDrive();
    // Another drive every ten minutes, past the hard-braking rule's cooldown.
    const again = setInterval(runDrive, 10 * 60_000);
    stops.push(() => clearInterval(again));
  }

  const labels = new Map<VehicleId, string>(
    watched.map((vehicle) => [vehicle.id, `${vehicle.displayName} (${vehicle.id}, via ${vehicle.provider})`]),
  );
  const seen = new Set<string>();
  const watch = setInterval(async () => {
    for (const vehicle of watched) {
      try {
        const response = await fetch(`${options.url}/vehicles/${encodeURIComponent(vehicle.id)}/firings?limit=20`);
        if (response.status !== 200) continue;
        const { firings } = (await response.json()) as { firings: Firing[] };
        for (const firing of [...firings].reverse()) {
          // Only this run's firings: a kept data folder holds earlier ones.
          if (seen.has(firing.id) || firing.evaluatedAt < startedIso) continue;
          seen.add(firing.id);
          options.print(
            `demo ${elapsed()}: ${labels.get(vehicle.id)} fired rule ${firing.ruleId} (${firing.kind}, ${firing.status}): ${firing.explanation.summary}`,
          );
          options.print(`          GET ${options.url}/firings/${encodeURIComponent(firing.id)}`);
        }
      } catch (error) {
        options.print(`demo: could not read the firings of ${vehicle.id}: ${String(error)}`);
      }
    }
  }, 2_000);
  stops.push(() => clearInterval(watch));

  const fleet = options.fleet;
  if (fleet !== undefined && fleet.vehicles.length > 0) {
    const polled = fleet.vehicles.map((vehicle) => vehicle.id);
    const stopPolling = startFastPolling({
      runtime: fleet.runtime,
      providers: fleet.providers,
      vehicleIds: polled,
      everyMs: fleet.pollEveryMs ?? 3_000,
      onError: (error) => options.print(`demo: fast polling: ${String(error)}`),
    });
    stops.push(stopPolling);
    const steps = demoScript(fleet.providers);
    const route = async () => {
      // Every car reports once where it stands (the DIMO car: at home) before the route starts. A kept data folder
      // holds positions from an earlier run: only one observed in the last half minute (the simulators just started)
      // counts.
      const deadline = Date.now() + 30_000;
      const since = new Date(started - 30_000).toISOString();
      for (const vehicleId of polled) {
        while (!stopped && Date.now() < deadline && !(await hasPosition(options.url, vehicleId, since)))
          await sleep(500);
      }
      if (stopped) return;
      options.print(`demo ${elapsed()}: the simulated fleet has reported; the scripted route starts`);
      for (const step of steps) {
        timers.push(
          setTimeout(() => {
            options.print(`demo ${elapsed()}: ${step.say}`);
            step.run();
          }, step.afterMs),
        );
      }
      const lastMs = steps.at(-1)?.afterMs ?? 0;
      timers.push(
        setTimeout(() => {
          stopPolling();
          options.print(
            `demo ${elapsed()}: the scripted route is over; the demo cars are polled at the default intervals from now on`,
          );
        }, lastMs + 20_000),
      );
    };
    route().catch((error: unknown) => options.print(`demo: ${String(error)}`));
  }

  return () => {
    stopped = true;
    for (const timer of timers) clearTimeout(timer);
    for (const stop of stops) stop();
  };
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** True once the vehicle's snapshot holds a position observed at or after `since`. */
const hasPosition = async (url: string, vehicleId: VehicleId, since: string): Promise<boolean> => {
  const response = await fetch(`${url}/vehicles/${encodeURIComponent(vehicleId)}`);
  if (response.status !== 200) return false;
  const body = (await response.json()) as {
    snapshot?: { signals?: { location?: { observedAt: string } } } | null;
  };
  const observedAt = body.snapshot?.signals?.location?.observedAt;
  return observedAt !== undefined && observedAt >= since;
};
