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

const main = async () => {
  const runtime = await startLocalRuntime({
    port: 0,
    dataDir: undefined,
    automaticWebhookSecret: BENCH_SECRET,
    smartcarManagementToken: "bench-token",
    rawRetentionDays: 30,
    rulesDir: "rules",
    eventsQueue: { visibilityTimeoutSeconds: 30, maxReceiveCount: 5, batchSize: 10, concurrency: 4 },
    standardQueues: { visibilityTimeoutSeconds: 30, maxReceiveCount: 5 },
    runDispatcher: true,
    webhookSigningSecret: "test-webhook-signing-secret",
    tickIntervalMs: undefined,
  });
  const tableName = runtime.provisioned.tableName;
  const dynamodb = new DynamoDBClient({ endpoint: runtime.endpoints.dynamodb });
  const sqs = new SQSClient({ endpoint: runtime.endpoints.sqs });
  try {
    // The floor first, on its own keys and queue, while the runtime is idle.
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
    const accepted = new Set(ingest.accepted);
    let stored = new Map<string, number>();
    while (stored.size < accepted.size && (performance.now() - started) / 1000 < 900) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      stored = await countStoredEvents(dynamodb, tableName);
    }
    const endToEndSeconds = (performance.now() - started) / 1000;
    const lost = [...accepted].filter((id) => !stored.has(id)).length;
    const duplicated = [...stored.values()].filter((count) => count > 1).length;

    const ms = (values: number[]) => `${percentile(values, 50).toFixed(1)} / ${percentile(values, 99).toFixed(1)} ms`;
    const rows: [string, string | number][] = [
      ["webhooks posted (concurrency)", `${EVENTS} (${CONCURRENCY})`],
      ["floor: PutItem + SendMessage", `${(EVENTS / floor.seconds).toFixed(0)}/s in ${floor.seconds.toFixed(2)} s`],
      ["floor p50 / p99", ms(floor.latencies)],
      ["ingest: accepted", `${(EVENTS / ingest.seconds).toFixed(0)}/s in ${ingest.seconds.toFixed(2)} s`],
      ["ingest p50 / p99", ms(ingest.latencies)],
      [
        "end to end: events stored",
        `${(stored.size / endToEndSeconds).toFixed(0)}/s in ${endToEndSeconds.toFixed(2)} s`,
      ],
      ["ingest time / floor time", `${(ingest.seconds / floor.seconds).toFixed(2)}x (target <= 1.5x)`],
      ["accepted / stored / lost / duplicated", `${accepted.size} / ${stored.size} / ${lost} / ${duplicated}`],
    ];
    for (const [name, value] of rows) console.log(`${name.padEnd(40)} ${value}`);
    if (lost > 0 || duplicated > 0) process.exitCode = 1;
  } finally {
    dynamodb.destroy();
    sqs.destroy();
    await runtime.stop();
  }
};

await main();
