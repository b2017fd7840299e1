/**
 * `npm run bench:ingest`: posts 10,000 Automatic webhooks (all types, 2,000
 * vehicles) at concurrency 32 to a local runtime, waits until every event is
 * stored, and compares with the I/O floor measured in the same run against the
 * same engines: one conditional PutItem and one FIFO SendMessage per event,
 * straight from the SDK.
 *
 * The runtime (engines, handlers, consumers) runs on this thread, as `npm start`
 * does. The floor's SDK calls are made from this thread too, where the handlers
 * make theirs, while the HTTP load comes from a worker thread on the other core:
 * both sides then pay the same SDK and engine CPU on the same core.
 */
import { Worker } from "node:worker_threads";
import { DynamoDBClient, PutItemCommand, ScanCommand } from "@aws-sdk/client-dynamodb";
import { CreateQueueCommand, SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { startLocalRuntime } from "#local/runtime.ts";
import { BENCH_SECRET, benchWebhook, CONCURRENCY, percentile, runPool, VEHICLES } from "./ingest-shared.ts";

const EVENTS = Number(process.env.BENCH_EVENTS ?? 10_000);

const countStoredEvents = async (dynamodb: DynamoDBClient, tableName: string): Promise<Map<string, number>> => {
  const counts = new Map<string, number>();
  let start: Record<string, never> | undefined;
  do {
    const page = await dynamodb.send(
      new ScanCommand({
        TableName: tableName,
        FilterExpression: "begins_with(sk, :event)",
        ExpressionAttributeValues: { ":event": { S: "EVENT#" } },
        ProjectionExpression: "sk",
        ExclusiveStartKey: start,
      }),
    );
    for (const item of page.Items ?? []) {
      const eventId = (item.sk?.S ?? "").split("#").at(-1) ?? "";
      counts.set(eventId, (counts.get(eventId) ?? 0) + 1);
    }
    start = page.LastEvaluatedKey as Record<string, never> | undefined;
  } while (start);
  return counts;
};

const httpLoad = (url: string, events: number) =>
  new Promise<{ seconds: number; latencies: number[]; accepted: string[] }>((resolve, reject) => {
    const worker = new Worker(new URL("./ingest-load-worker.ts", import.meta.url), {
      workerData: { url, events },
      execArgv: ["--import", "tsx"],
    });
    worker.once("message", resolve);
    worker.once("error", reject);
  });

type RunResult = {
  floor: Awaited<ReturnType<typeof runPool>>;
  ingest: { seconds: number; latencies: number[]; accepted: string[] };
  stored?: { count: number; seconds: number; lost: number; duplicated: number };
};

/**
 * One measured run on a fresh in-memory runtime: the floor first, while the
 * runtime is idle, then the webhooks. With `pipeline` the consumers (rules,
 * snapshots, dispatch) run alongside, as under `npm start`, and the run waits
 * until every accepted event is stored; without it only the ingest path runs.
 */
const measure = async (pipeline: boolean): Promise<RunResult> => {
  const runtime = await startLocalRuntime({
    port: 0,
    engines: { kind: "embedded", dataDir: undefined },
    automaticWebhookSecret: BENCH_SECRET,
    smartcarManagementToken: "bench-token",
    rawRetentionDays: 30,
    rulesDir: "rules",
    eventsQueue: { visibilityTimeoutSeconds: 30, maxReceiveCount: 5, batchSize: 10, concurrency: pipeline ? 4 : 0 },
    standardQueues: { visibilityTimeoutSeconds: 30, maxReceiveCount: 5 },
    runDispatcher: pipeline,
    webhookSigningSecret: "bench-webhook-signing-secret",
    tickIntervalMs: undefined,
  });
  const tableName = runtime.provisioned.tableName;
  const dynamodb = new DynamoDBClient({ endpoint: runtime.endpoints.dynamodb });
  const sqs = new SQSClient({ endpoint: runtime.endpoints.sqs });
  try {
    const floorQueue = await sqs.send(
      new CreateQueueCommand({ QueueName: "bench-floor.fifo", Attributes: { FifoQueue: "true" } }),
    );
    const floor = await runPool(EVENTS, CONCURRENCY, async (index) => {
      const body = benchWebhook(index);
      await dynamodb.send(
        new PutItemCommand({
          TableName: tableName,
          Item: { pk: { S: `FLOOR#${index}` }, sk: { S: "FLOOR" }, body: { S: body } },
          ConditionExpression: "attribute_not_exists(pk)",
        }),
      );
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: floorQueue.QueueUrl,
          MessageBody: body,
          MessageGroupId: `C_bench_${index % VEHICLES}`,
          MessageDeduplicationId: `floor-${index}`,
        }),
      );
    });
    const started = performance.now();
    const ingest = await httpLoad(runtime.url, EVENTS);
    if (!pipeline) return { floor, ingest };
    const accepted = new Set(ingest.accepted);
    let stored = new Map<string, number>();
    while (stored.size < accepted.size && (performance.now() - started) / 1000 < 900) {
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      stored = await countStoredEvents(dynamodb, tableName);
    }
    return {
      floor,
      ingest,
      stored: {
        count: stored.size,
        seconds: (performance.now() - started) / 1000,
        lost: [...accepted].filter((id) => !stored.has(id)).length,
        duplicated: [...stored.values()].filter((count) => count > 1).length,
      },
    };
  } finally {
    dynamodb.destroy();
    sqs.destroy();
    await runtime.stop();
  }
};

const main = async () => {
  const ms = (values: number[]) => `${percentile(values, 50).toFixed(1)} / ${percentile(values, 99).toFixed(1)} ms`;
  const rate = (count: number, seconds: number) => `${(count / seconds).toFixed(0)}/s in ${seconds.toFixed(2)} s`;
  const rows: [string, string][] = [["webhooks posted (concurrency)", `${EVENTS} (${CONCURRENCY})`]];
  for (const pipeline of [true, false]) {
    const run = await measure(pipeline);
    const label = pipeline ? "whole pipeline running" : "ingest path alone";
    rows.push(
      [`[${label}] floor: PutItem + SendMessage`, rate(EVENTS, run.floor.seconds)],
      [`[${label}] floor p50 / p99`, ms(run.floor.latencies)],
      [`[${label}] ingest: accepted`, rate(EVENTS, run.ingest.seconds)],
      [`[${label}] ingest p50 / p99`, ms(run.ingest.latencies)],
      [
        `[${label}] ingest time / floor time`,
        `${(run.ingest.seconds / run.floor.seconds).toFixed(2)}x (target <= 1.5x)`,
      ],
    );
    if (run.stored) {
      rows.push(
        [`[${label}] end to end: events stored`, rate(run.stored.count, run.stored.seconds)],
        [
          `[${label}] accepted / stored / lost / duplicated`,
          `${new Set(run.ingest.accepted).size} / ${run.stored.count} / ${run.stored.lost} / ${run.stored.duplicated}`,
        ],
      );
      if (run.stored.lost > 0 || run.stored.duplicated > 0) process.exitCode = 1;
    }
  }
  for (const [name, value] of rows) console.log(`${name.padEnd(58)} ${value}`);
};

await main();
