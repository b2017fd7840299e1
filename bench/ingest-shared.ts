import { readFileSync } from "node:fs";

export const VEHICLES = 2_000;
export const CONCURRENCY = 32;
export const BENCH_SECRET = "bench-secret";

const SAMPLES = [
  "ignition-on.webhook",
  "ignition-off.webhook",
  "notification-speeding.webhook",
  "notification-hard_brake.webhook",
  "notification-hard_accel.webhook",
  "mil-on.webhook",
  "mil-off.webhook",
  "trip-finished.webhook",
  "location-updated.websocket",
  "trip-finished.websocket",
].map((name) => JSON.parse(readFileSync(new URL(`../test/events/automatic/${name}.json`, import.meta.url), "utf8")));

/** Webhook number `index`: every type in turn, 2,000 vehicles, one second apart. */
export const benchWebhook = (index: number): string => {
  const sample = structuredClone(SAMPLES[index % SAMPLES.length]);
  sample.id = `bench-${index}`;
  sample.vehicle.id = `C_bench_${index % VEHICLES}`;
  // Trips are identified by their trip id (as REST backfill identifies them): each bench trip is its own.
  if (sample.trip) sample.trip.id = `T_bench_${index}`;
  const at = Date.UTC(2026, 10, 22, 8) + index * 1000;
  sample.created_at = typeof sample.created_at === "number" ? at : new Date(at).toISOString();
  return JSON.stringify(sample);
};

/** Runs `task(i)` for i in [0, count) with at most `concurrency` in flight; returns each call's latency (ms). */
export const runPool = async (count: number, concurrency: number, task: (index: number) => Promise<void>) => {
  const latencies = new Array<number>(count);
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const index = next++;
        const t0 = performance.now();
        await task(index);
        latencies[index] = performance.now() - t0;
      }
    }),
  );
  return { seconds: (performance.now() - started) / 1000, latencies };
};

export const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
};
