import { parseArgs } from "node:util";
import { ConfigError, optionalEnv } from "#shared/config.ts";
import { DEMO_VEHICLE, startDemo } from "./demo.ts";
import { type DemoProviders, localHour, nightTimeZone, registerDemoFleet, startDemoProviders } from "./demo-fleet.ts";
import type { EngineChoice } from "./engines.ts";
import { startLocalRuntime } from "./runtime.ts";
import { removeRuntimeFile, writeRuntimeFile } from "./runtime-file.ts";
import { loadLocalSecrets } from "./secrets.ts";

/**
 * `npm start`: Dashlight on this machine. Configuration by environment:
 * PORT (3000), DASHLIGHT_DATA_DIR (.dashlight), DASHLIGHT_MEMORY=1 or --memory
 * for throwaway data, DASHLIGHT_AUTOMATIC_WEBHOOK_SECRET and SMARTCAR_MANAGEMENT_TOKEN
 * (local development values are used, and printed, when unset), DASHLIGHT_DEMO
 * (1: a demo fleet drives through the example rules; on by default when nothing is configured).
 * DASHLIGHT_TOKEN_ENCRYPTION_KEY, DASHLIGHT_CONNECT_COOKIE_SECRET and DASHLIGHT_WEBHOOK_SIGNING_SECRET are taken
 * from the environment when set, else from `<data dir>/secrets.json` (0600; generated on first start).
 *
 * The demo starts a simulator for each of Smartcar, DIMO and OVMS whose API URL is not configured
 * (SMARTCAR_API_BASE_URL, DIMO_DEVICE_DATA_API_URL, OVMS_API_URL) and registers a car on each.
 */
const LOCAL_AUTOMATIC_SECRET = "local-dev-secret";
const LOCAL_SMARTCAR_TOKEN = "local-dev-smartcar-token";

/**
 * The embedded engines, unless DASHLIGHT_DYNAMODB_ENDPOINT and DASHLIGHT_SQS_ENDPOINT name external ones (moto, or
 * an account's endpoints): then the runtime creates its table and queues there and keeps no engine data of its own.
 */
const engineChoice = (dataDir: string | undefined): EngineChoice => {
  const dynamodbEndpoint = optionalEnv("DASHLIGHT_DYNAMODB_ENDPOINT");
  const sqsEndpoint = optionalEnv("DASHLIGHT_SQS_ENDPOINT");
  if (dynamodbEndpoint === undefined && sqsEndpoint === undefined) return { kind: "embedded", dataDir };
  if (dynamodbEndpoint === undefined || sqsEndpoint === undefined) {
    throw new ConfigError(
      "DASHLIGHT_DYNAMODB_ENDPOINT and DASHLIGHT_SQS_ENDPOINT go together: set both to run on external engines, or neither",
    );
  }
  return { kind: "external", dynamodbEndpoint, sqsEndpoint, resourcePrefix: "" };
};

const main = async () => {
  const { values } = parseArgs({ options: { memory: { type: "boolean", default: false } } });
  const memory = values.memory || optionalEnv("DASHLIGHT_MEMORY") === "1";
  const portText = optionalEnv("PORT") ?? "3000";
  if (!/^\d+$/.test(portText)) throw new ConfigError(`PORT must be a port number, got ${portText}`);
  const automaticSecret = optionalEnv("DASHLIGHT_AUTOMATIC_WEBHOOK_SECRET") ?? LOCAL_AUTOMATIC_SECRET;
  const smartcarToken = optionalEnv("SMARTCAR_MANAGEMENT_TOKEN") ?? LOCAL_SMARTCAR_TOKEN;
  const dataDir = memory ? undefined : (optionalEnv("DASHLIGHT_DATA_DIR") ?? ".dashlight");
  const engines = engineChoice(dataDir);
  const print = (line: string) => process.stdout.write(`${line}\n`);
  const secrets = loadLocalSecrets(dataDir, (warning) => print(`warning: ${warning}`));

  // With nothing configured, a demo fleet drives through the example rules; DASHLIGHT_DEMO=0 turns it off.
  const demoWanted =
    (optionalEnv("DASHLIGHT_DEMO") ?? (automaticSecret === LOCAL_AUTOMATIC_SECRET ? "1" : "0")) === "1";
  // The handlers read their provider configuration at cold start: the simulators come first.
  let providers: DemoProviders | undefined;
  if (demoWanted) {
    providers = await startDemoProviders({ env: process.env, publicUrl: `http://127.0.0.1:${portText}` });
    Object.assign(process.env, providers.env);
  }

  const runtime = await startLocalRuntime({
    port: Number(portText),
    engines,
    automaticWebhookSecret: automaticSecret,
    smartcarManagementToken: smartcarToken,
    rawRetentionDays: 30,
    rulesDir: optionalEnv("DASHLIGHT_RULES_DIR") ?? "rules",
    // As in AWS: each queue's visibility timeout is six times its consumer's timeout (events 30 s, others 60 s).
    eventsQueue: { visibilityTimeoutSeconds: 180, maxReceiveCount: 5, batchSize: 10, concurrency: 4 },
    standardQueues: { visibilityTimeoutSeconds: 360, maxReceiveCount: 5 },
    runDispatcher: true,
    webhookSigningSecret: optionalEnv("DASHLIGHT_WEBHOOK_SIGNING_SECRET") ?? secrets.secrets.webhookSigningSecret,
    tokenEncryptionKey: optionalEnv("DASHLIGHT_TOKEN_ENCRYPTION_KEY") ?? secrets.secrets.tokenEncryptionKey,
    connectCookieSecret: optionalEnv("DASHLIGHT_CONNECT_COOKIE_SECRET") ?? secrets.secrets.connectCookieSecret,
    tickIntervalMs: 60_000,
  });
  const lines = [
    `Dashlight is running at ${runtime.url}`,
    `  data:       ${dataDir === undefined ? "in memory (lost on exit)" : `${dataDir}/ (kept across restarts)`}`,
    `  secrets:    ${secrets.path === undefined ? "generated for this run (in memory)" : `${secrets.path} (mode 600${secrets.created ? ", created now" : ""})`}`,
    engines.kind === "embedded"
      ? `  engines:    DynamoDB (dynalite) ${runtime.endpoints.dynamodb}, SQS (fauxqs) ${runtime.endpoints.sqs}`
      : `  engines:    external: DynamoDB ${runtime.endpoints.dynamodb}, SQS ${runtime.endpoints.sqs}`,
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
    ...(providers?.smartcar === undefined
      ? []
      : [
          `    GET  ${runtime.url}/connect/smartcar?invite=<id>  (Smartcar Connect, against the simulator)`,
          "         by invitation only: `npx dashlight connect invite` prints a single-use link",
        ]),
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
  let stopDemo: (() => void) | undefined;
  if (demoWanted && providers !== undefined) {
    const timeZone = nightTimeZone(new Date());
    const vehicles = await registerDemoFleet({ url: runtime.url, runtime, providers, timeZone });
    const simulated = Object.entries({ smartcar: providers.smartcar, dimo: providers.dimo, ovms: providers.ovms })
      .map(([name, sim]) => (sim === undefined ? `${name}: configured, not simulated` : `${name} ${sim.url}`))
      .join(", ");
    print(`Demo: simulators ${simulated}`);
    print(
      `Demo: the fleet's time zone is ${timeZone} (local hour ${localHour(timeZone, new Date())}, inside geofence-exit's 22:00-06:00 window)`,
    );
    for (const vehicle of [{ id: `automatic:${DEMO_VEHICLE}`, displayName: "Demo Speedster" }, ...vehicles]) {
      print(`  ${vehicle.displayName.padEnd(16)} GET ${runtime.url}/vehicles/${encodeURIComponent(vehicle.id)}`);
    }
    stopDemo = startDemo({
      url: runtime.url,
      automaticSecret,
      print,
      fleet: { runtime, providers, vehicles },
    });
    print("Demo: the cars are driving; their firings appear below.");
  }
  const shutdown = async () => {
    stopDemo?.();
    removeRuntimeFile(runtimeDir);
    await runtime.stop();
    await providers?.stop();
    process.exit(0);
  };
  process.once("SIGINT", shutdown);
  process.once("SIGTERM", shutdown);
};

main().catch((error: unknown) => {
  process.stderr.write(`dashlight: could not start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
