import { readFileSync } from "node:fs";
import type { Firing } from "#core/rules/state.ts";

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

/**
 * Drives the demo car through the local runtime's real webhook endpoint and
 * prints each firing the rules produce, so a newcomer sees rules fire within a
 * minute of `npm start`. Returns a function that stops it.
 */
export const startDemo = (options: { url: string; automaticSecret: string; print: (line: string) => void }) => {
  const timers: NodeJS.Timeout[] = [];
  const started = Date.now();
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
    const response = await fetch(`${options.url}/webhooks/automatic/${options.automaticSecret}`, {
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
  const seen = new Set<string>();
  const watch = setInterval(async () => {
    try {
      const response = await fetch(`${options.url}/vehicles/${encodeURIComponent(DEMO_VEHICLE_ID)}/firings?limit=20`);
      if (response.status !== 200) return;
      const { firings } = (await response.json()) as { firings: Firing[] };
      for (const firing of [...firings].reverse()) {
        if (seen.has(firing.id)) continue;
        seen.add(firing.id);
        const seconds = ((Date.now() - started) / 1000).toFixed(0);
        options.print(
          `demo +${seconds}s: rule ${firing.ruleId} ${firing.kind} (${firing.status}): ${firing.explanation.summary}`,
        );
        options.print(`          GET ${options.url}/firings/${encodeURIComponent(firing.id)}`);
      }
    } catch (error) {
      options.print(`demo: could not read firings: ${String(error)}`);
    }
  }, 2_000);
  runDrive();
  // Another drive every ten minutes, past the hard-braking rule's cooldown.
  const again = setInterval(runDrive, 10 * 60_000);
  return () => {
    for (const timer of timers) clearTimeout(timer);
    clearInterval(watch);
    clearInterval(again);
  };
};
