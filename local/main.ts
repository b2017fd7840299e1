import { parseArgs } from "node:util";
import { ConfigError, optionalEnv } from "#shared/config.ts";
import { DEMO_VEHICLE, startDemo } from "./demo.ts";
import { startLocalRuntime } from "./runtime.ts";
import { removeRuntimeFile, writeRuntimeFile } from "./runtime-file.ts";

/**
 * `npm start`: Dashlight on this machine. Configuration by environment:
 * PORT (3000), DASHLIGHT_DATA_DIR (.dashlight), DASHLIGHT_MEMORY=1 or --memory
 * for throwaway data, DASHLIGHT_AUTOMATIC_WEBHOOK_SECRET and SMARTCAR_MANAGEMENT_TOKEN
 * (local development values are used, and printed, when unset), DASHLIGHT_DEMO
 * (1: a demo car drives through the example rules; on by default when nothing is configured).
 */
const LOCAL_AUTOMATIC_SECRET = "local-dev-secret";
const LOCAL_SMARTCAR_TOKEN = "local-dev-smartcar-token";
const LOCAL_WEBHOOK_SIGNING_SECRET = "local-dev-webhook-signing-secret";

const main = async () => {
  const { values } = parseArgs({ options: { memory: { type: "boolean", default: false } } });
  const memory = values.memory || optionalEnv("DASHLIGHT_MEMORY") === "1";
  const portText = optionalEnv("PORT") ?? "3000";
  if (!/^\d+$/.test(portText)) throw new ConfigError(`PORT must be a port number, got ${portText}`);
  const automaticSecret = optionalEnv("DASHLIGHT_AUTOMATIC_WEBHOOK_SECRET") ?? LOCAL_AUTOMATIC_SECRET;
  const smartcarToken = optionalEnv("SMARTCAR_MANAGEMENT_TOKEN") ?? LOCAL_SMARTCAR_TOKEN;
  const dataDir = memory ? undefined : (optionalEnv("DASHLIGHT_DATA_DIR") ?? ".dashlight");

  const runtime = await startLocalRuntime({
    port: Number(portText),
    dataDir,
    automaticWebhookSecret: automaticSecret,
    smartcarManagementToken: smartcarToken,
    rawRetentionDays: 30,
    rulesDir: optionalEnv("DASHLIGHT_RULES_DIR") ?? "rules",
    eventsQueue: { visibilityTimeoutSeconds: 30, maxReceiveCount: 5, batchSize: 10, concurrency: 4 },
    standardQueues: { visibilityTimeoutSeconds: 30, maxReceiveCount: 5 },
    runDispatcher: true,
    webhookSigningSecret: optionalEnv("DASHLIGHT_WEBHOOK_SIGNING_SECRET") ?? LOCAL_WEBHOOK_SIGNING_SECRET,
    tickIntervalMs: 60_000,
  });
  const lines = [
    `Dashlight is running at ${runtime.url}`,
    `  data:       ${dataDir === undefined ? "in memory (lost on exit)" : `${dataDir}/ (kept across restarts)`}`,
    `  engines:    DynamoDB (dynalite) ${runtime.endpoints.dynamodb}, SQS (fauxqs) ${runtime.endpoints.sqs}`,
    "  webhooks:",
    `    POST ${runtime.url}/webhooks/automatic/<secret>${automaticSecret === LOCAL_AUTOMATIC_SECRET ? `   (local secret: ${LOCAL_AUTOMATIC_SECRET})` : ""}`,
    `    POST ${runtime.url}/webhooks/smartcar           (SC-Signature keyed by SMARTCAR_MANAGEMENT_TOKEN${smartcarToken === LOCAL_SMARTCAR_TOKEN ? `, local: ${LOCAL_SMARTCAR_TOKEN}` : ""})`,
    "  look:",
    `    GET  ${runtime.url}/health`,
    `    GET  ${runtime.url}/vehicles`,
    `    GET  ${runtime.url}/vehicles/{id}`,
    `    GET  ${runtime.url}/vehicles/{id}/events?since=&limit=`,
    `    GET  ${runtime.url}/vehicles/{id}/firings?since=&limit=`,
    `    GET  ${runtime.url}/firings/{id}`,
    `    GET  ${runtime.url}/vehicles/{id}/commands`,
    `    GET  ${runtime.url}/outbox            (notifications that would have been sent; no transport is configured)`,
    "Press Ctrl+C to stop.",
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
  // For `npx dashlight vehicles …` and `actions redrive`: where this runtime listens.
  const runtimeDir = dataDir ?? ".dashlight";
  writeRuntimeFile(runtimeDir, {
    pid: process.pid,
    url: runtime.url,
    endpoints: runtime.endpoints,
    tableName: runtime.provisioned.tableName,
    queues: {
      events: runtime.provisioned.eventsQueue,
      actions: runtime.provisioned.actionsQueue,
      pollJobs: runtime.provisioned.pollJobsQueue,
    },
  });
  // With nothing configured, a demo car drives through the example rules; DASHLIGHT_DEMO=0 turns it off.
  const demoWanted =
    (optionalEnv("DASHLIGHT_DEMO") ?? (automaticSecret === LOCAL_AUTOMATIC_SECRET ? "1" : "0")) === "1";
  const stopDemo = demoWanted
    ? startDemo({ url: runtime.url, automaticSecret, print: (line) => process.stdout.write(`${line}\n`) })
    : undefined;
  if (demoWanted)
    process.stdout.write(`Demo: the car automatic:${DEMO_VEHICLE} is driving; its firings appear below.\n`);
  const shutdown = async () => {
    stopDemo?.();
    removeRuntimeFile(runtimeDir);
    await runtime.stop();
    process.exit(0);
  };
  process.once("SIGINT", shutdown);
  process.once("SIGTERM", shutdown);
};

main().catch((error: unknown) => {
  process.stderr.write(`dashlight: could not start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
