/** The HTTP load of bench/ingest.ts, on its own thread so it does not share a core with the runtime. */
import { parentPort, workerData } from "node:worker_threads";
import { BENCH_SECRET, benchWebhook, CONCURRENCY, runPool } from "./ingest-shared.ts";

const { url, events } = workerData as { url: string; events: number };
const accepted: string[] = [];
const result = await runPool(events, CONCURRENCY, async (index) => {
  const response = await fetch(`${url}/webhooks/automatic/${BENCH_SECRET}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: benchWebhook(index),
  });
  const body = (await response.json()) as { accepted?: string[] };
  if (response.status !== 202) throw new Error(`webhook ${index} answered ${response.status}`);
  accepted.push(...(body.accepted ?? []));
});
parentPort?.postMessage({ ...result, accepted });
