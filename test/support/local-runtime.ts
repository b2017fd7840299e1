import { fileURLToPath } from "node:url";
import { DynamoDBClient, ScanCommand } from "@aws-sdk/client-dynamodb";
import { GetQueueAttributesCommand, SQSClient } from "@aws-sdk/client-sqs";
import { createDocumentClient, createSqsClient } from "#adapters/aws-clients.ts";
import { type LocalRuntime, startLocalRuntime } from "#local/runtime.ts";
import type { Target } from "../../cli/connection.ts";
import { testEngineChoice } from "./test-engines.ts";

export const TEST_AUTOMATIC_SECRET = "test-automatic-secret";
export const TEST_SMARTCAR_TOKEN = "test-smartcar-management-token";

/** The example rules of the repository. */
export const RULES_DIR = fileURLToPath(new URL("../../rules", import.meta.url));

/** A whole local Dashlight in memory, with short redelivery times so failure paths finish quickly. */
export const startTestRuntime = (
  rulesDir = RULES_DIR,
  options: { runDispatcher: boolean } = { runDispatcher: true },
): Promise<LocalRuntime> =>
  startLocalRuntime({
    port: 0,
    engines: testEngineChoice(),
    automaticWebhookSecret: TEST_AUTOMATIC_SECRET,
    smartcarManagementToken: TEST_SMARTCAR_TOKEN,
    rawRetentionDays: 30,
    rulesDir,
    eventsQueue: { visibilityTimeoutSeconds: 1, maxReceiveCount: 2, batchSize: 10, concurrency: 2 },
    standardQueues: { visibilityTimeoutSeconds: 1, maxReceiveCount: 2 },
    runDispatcher: options.runDispatcher,
    webhookSigningSecret: "test-webhook-signing-secret",
    tickIntervalMs: undefined,
  });

/** Where the CLI's commands act when given the test runtime (as resolveTarget finds a running `npm start`). */
export const cliTarget = (runtime: LocalRuntime): Target => ({
  describe: "the test runtime",
  apiUrl: runtime.url,
  tableName: runtime.provisioned.tableName,
  documentClient: createDocumentClient(runtime.endpoints),
  sqsClient: createSqsClient(runtime.endpoints),
  actionsQueue: runtime.provisioned.actionsQueue,
});

export const postJson = async (url: string, body: string, headers: Record<string, string> = {}) => {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body,
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
};

export const getJson = async (url: string) => {
  const response = await fetch(url);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
};

/** Every item in the table, keyed "pk|sk", read straight from the engine. */
export const scanTable = async (runtime: LocalRuntime): Promise<Record<string, unknown>[]> => {
  const client = new DynamoDBClient({ endpoint: runtime.endpoints.dynamodb });
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await client.send(
      new ScanCommand({ TableName: runtime.provisioned.tableName, ExclusiveStartKey: start as never }),
    );
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  client.destroy();
  return items;
};

export const itemKeys = (items: Record<string, unknown>[]): string[] =>
  items.map((item) => `${(item.pk as { S: string }).S}|${(item.sk as { S: string }).S}`).sort();

/** Messages waiting, in flight and delayed in a queue. */
export const queueDepth = async (runtime: LocalRuntime, queueUrl: string): Promise<number> => {
  const client = new SQSClient({ endpoint: runtime.endpoints.sqs });
  const result = await client.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    }),
  );
  client.destroy();
  return (
    Number(result.Attributes?.ApproximateNumberOfMessages ?? 0) +
    Number(result.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0)
  );
};
