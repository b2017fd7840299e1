import type { Server } from "node:http";
import { GetQueueAttributesCommand, SQSClient } from "@aws-sdk/client-sqs";
import { HTTP_ROUTES } from "#handlers/routes.ts";
import { logger } from "#shared/logger.ts";
import { type EngineChoice, openEngines } from "./engines.ts";
import { type HttpHandler, startHttpGateway } from "./http-gateway.ts";
import { invokedFunction } from "./invoked-function.ts";
import { type Provisioned, provision, type QueueSettings } from "./provision.ts";
import { type QueuePoller, type SqsHandler, startQueuePoller } from "./queue-poller.ts";

export type LocalRuntimeOptions = {
  /** Port of the HTTP API on 127.0.0.1; 0 picks a free one. */
  port: number;
  /** The embedded engines (with a data folder, or in memory) or external ones (moto, AWS). */
  engines: EngineChoice;
  automaticWebhookSecret: string;
  smartcarManagementToken: string;
  rawRetentionDays: number;
  /** The rules to load (rules/ in the repository). */
  rulesDir: string;
  eventsQueue: QueueSettings & { batchSize: number; concurrency: number };
  /** The standard queues: actions and poll jobs. */
  standardQueues: QueueSettings;
  /** Whether the dispatcher consumes the actions queue (tests of the dispatcher run their own). */
  runDispatcher: boolean;
  /** Signs outgoing webhooks (also those that only reach the outbox). */
  webhookSigningSecret: string;
  /**
   * Seals Smartcar tokens in the table (DASHLIGHT_TOKEN_ENCRYPTION_KEY, 32 bytes in base64) and signs the Connect
   * session cookie (DASHLIGHT_CONNECT_COOKIE_SECRET); `npm start` reads them from `<data dir>/secrets.json`
   * (./secrets.ts). When undefined the handlers read whatever the environment holds.
   */
  tokenEncryptionKey?: string;
  connectCookieSecret?: string;
  /** How often the tick runs (Lambda: every minute); undefined runs it only when `tick()` is called. */
  tickIntervalMs: number | undefined;
};

export type LocalRuntime = {
  url: string;
  endpoints: { dynamodb: string; sqs: string };
  provisioned: Provisioned;
  /** The environment the handlers were started with (as Lambda would get from the stack). */
  env: Record<string, string>;
  /** Runs the tick handler now, as the schedule would. */
  tick(): Promise<{ vehicles: number; firings: number }>;
  /** Runs the poll scheduler now, as the schedule would. */
  schedulePolls(): Promise<{ jobs: number }>;
  stop(): Promise<void>;
};

const REGION = "us-east-1";
let instances = 0;

/**
 * Runs the whole pipeline in this process: the embedded engines, tables and
 * queues, the same Lambda handlers behind a local API Gateway, and queue
 * pollers with Lambda's batch semantics.
 */
export const startLocalRuntime = async (options: LocalRuntimeOptions): Promise<LocalRuntime> => {
  const engines = await openEngines(options.engines);
  const endpoints = { dynamodb: engines.dynamodbEndpoint, sqs: engines.sqsEndpoint };
  // The engines accept any credentials; the SDK only needs some to sign with.
  process.env.AWS_REGION ??= REGION;
  process.env.AWS_ACCESS_KEY_ID ??= "local";
  process.env.AWS_SECRET_ACCESS_KEY ??= "local";
  const provisioned = await provision(
    endpoints,
    {
      tableName: `${engines.resourcePrefix}dashlight`,
      eventsQueueName: `${engines.resourcePrefix}dashlight-events`,
      actionsQueueName: `${engines.resourcePrefix}dashlight-actions`,
      pollJobsQueueName: `${engines.resourcePrefix}dashlight-poll-jobs`,
    },
    { events: options.eventsQueue, actions: options.standardQueues, pollJobs: options.standardQueues },
  );
  const env = {
    DASHLIGHT_TABLE_NAME: provisioned.tableName,
    DASHLIGHT_EVENTS_QUEUE_URL: provisioned.eventsQueue.url,
    DASHLIGHT_ACTIONS_QUEUE_URL: provisioned.actionsQueue.url,
    DASHLIGHT_POLL_JOBS_QUEUE_URL: provisioned.pollJobsQueue.url,
    DASHLIGHT_RULES_DIR: options.rulesDir,
    DASHLIGHT_DYNAMODB_ENDPOINT: endpoints.dynamodb,
    DASHLIGHT_SQS_ENDPOINT: endpoints.sqs,
    DASHLIGHT_AUTOMATIC_WEBHOOK_SECRET: options.automaticWebhookSecret,
    SMARTCAR_MANAGEMENT_TOKEN: options.smartcarManagementToken,
    DASHLIGHT_RAW_RETENTION_DAYS: String(options.rawRetentionDays),
    // Local mode: notifications go to the outbox unless a transport is configured in the environment.
    DASHLIGHT_MODE: "local",
    DASHLIGHT_WEBHOOK_SIGNING_SECRET: options.webhookSigningSecret,
    ...(options.tokenEncryptionKey === undefined ? {} : { DASHLIGHT_TOKEN_ENCRYPTION_KEY: options.tokenEncryptionKey }),
    ...(options.connectCookieSecret === undefined
      ? {}
      : { DASHLIGHT_CONNECT_COOKIE_SECRET: options.connectCookieSecret }),
  };
  Object.assign(process.env, env);
  const instance = ++instances;
  const ingest = await importHandler<HttpHandler>("ingest", instance);
  const managementApi = await importHandler<HttpHandler>("management-api", instance);
  const processEvents = await importHandler<SqsHandler>("process-events", instance);
  const tick = await importHandler<() => Promise<{ vehicles: number; firings: number }>>("tick", instance);
  const schedulePolls = await importHandler<() => Promise<{ jobs: number }>>("poll-schedule", instance);
  const pollWorker = await importHandler<SqsHandler>("poll-worker", instance);
  const dispatchActions = await importHandler<SqsHandler>("dispatch-actions", instance);
  const dispatchApi = await importHandler<HttpHandler>("dispatch-api", instance);
  const connect = await importHandler<HttpHandler>("connect", instance);

  const sqs = new SQSClient({ endpoint: endpoints.sqs, region: REGION });
  const pollers: QueuePoller[] = [
    startQueuePoller({
      sqs,
      queueUrl: provisioned.eventsQueue.url,
      queueArn: provisioned.eventsQueue.arn,
      functionName: "process-events",
      handler: processEvents,
      batchSize: options.eventsQueue.batchSize,
      concurrency: options.eventsQueue.concurrency,
      region: REGION,
      timeoutMs: (options.eventsQueue.visibilityTimeoutSeconds * 1000) / 6,
    }),
    startQueuePoller({
      sqs,
      queueUrl: provisioned.pollJobsQueue.url,
      queueArn: provisioned.pollJobsQueue.arn,
      functionName: "poll-worker",
      handler: pollWorker,
      batchSize: 10,
      concurrency: 1,
      region: REGION,
      timeoutMs: (options.standardQueues.visibilityTimeoutSeconds * 1000) / 6,
    }),
  ];
  if (options.runDispatcher) {
    pollers.push(
      startQueuePoller({
        sqs,
        queueUrl: provisioned.actionsQueue.url,
        queueArn: provisioned.actionsQueue.arn,
        functionName: "dispatch-actions",
        handler: dispatchActions,
        batchSize: 10,
        concurrency: 2,
        region: REGION,
        // Lambda's rule: the queue's visibility timeout is six times the function's, so a crashed
        // attempt's claim has expired when the message comes back.
        timeoutMs: (options.standardQueues.visibilityTimeoutSeconds * 1000) / 6,
      }),
    );
  }
  // The two every-minute schedules of the AWS deployment: the tick and the poll scheduler.
  const tickTimer =
    options.tickIntervalMs === undefined
      ? undefined
      : setInterval(() => {
          tick().catch((error: unknown) => logger.error("tick failed", { error: error as Error }));
          schedulePolls().catch((error: unknown) => logger.error("poll scheduling failed", { error: error as Error }));
        }, options.tickIntervalMs);
  let ready = false;
  const gateway = await startHttpGateway({
    port: options.port,
    routes: HTTP_ROUTES,
    handlers: { ingest, "management-api": managementApi, "dispatch-api": dispatchApi, connect },
    extra: (request, response) => {
      if (request.method !== "GET" || request.url !== "/health") return false;
      deadLetterDepths(sqs, provisioned).then(
        (deadLetters) => {
          response.writeHead(ready ? 200 : 503, { "content-type": "application/json" });
          response.end(JSON.stringify({ status: ready ? "ok" : "starting", deadLetters }));
        },
        (error: unknown) => {
          logger.error("could not read dead-letter queue depths", { error: error as Error });
          response.writeHead(500, { "content-type": "application/json" });
          response.end(JSON.stringify({ status: "error", error: "could not read dead-letter queue depths" }));
        },
      );
      return true;
    },
  });
  ready = true;
  return {
    url: gateway.url,
    endpoints,
    provisioned,
    env,
    tick,
    schedulePolls,
    async stop() {
      ready = false;
      clearInterval(tickTimer);
      await closeServer(gateway.server);
      await Promise.all(pollers.map((poller) => poller.stop()));
      sqs.destroy();
      await engines.stop();
    },
  };
};

/** Messages waiting in each dead-letter queue: what an operator must look at. */
export const deadLetterDepths = async (sqs: SQSClient, provisioned: Provisioned): Promise<Record<string, number>> => {
  const queues = {
    events: provisioned.eventsQueue,
    actions: provisioned.actionsQueue,
    pollJobs: provisioned.pollJobsQueue,
  };
  const depths = await Promise.all(
    Object.entries(queues).map(async ([name, queue]) => {
      const result = await sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: queue.dlqUrl, AttributeNames: ["ApproximateNumberOfMessages"] }),
      );
      return [name, Number(result.Attributes?.ApproximateNumberOfMessages ?? 0)] as const;
    }),
  );
  return Object.fromEntries(depths);
};

/**
 * Imports a Lambda entry module as a fresh instance, so each runtime's handlers
 * read their configuration at "cold start" like a new Lambda would.
 */
const importHandler = async <T>(name: string, instance: number): Promise<T> => {
  const url = new URL(`../functions/handlers/${name}.ts`, import.meta.url);
  url.searchParams.set("runtime", String(instance));
  // Cold-start work (the module's top level) runs as the function too.
  const module = (await invokedFunction.run(name, () => import(url.href))) as { handler: T };
  const handler = module.handler as (...args: unknown[]) => unknown;
  return ((...args: unknown[]) => invokedFunction.run(name, () => handler(...args))) as T;
};

const closeServer = (server: Server) =>
  new Promise<void>((resolve, reject) => {
    server.closeAllConnections();
    server.close((error) => (error ? reject(error) : resolve()));
  });
