import { CreateTableCommand, DynamoDBClient, ScanCommand } from "@aws-sdk/client-dynamodb";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { afterAll, beforeAll } from "vitest";
import { createDocumentClient } from "#adapters/aws-clients.ts";
import { TABLE_DEFINITION } from "#adapters/dynamodb/table.ts";
import { type Engines, openEngines } from "#local/engines.ts";
import { testEngineChoice } from "./test-engines.ts";

/** A new, empty Dashlight table on the local engines, with a client for it and a way to read back every item. */
export type LocalTable = {
  readonly tableName: string;
  readonly client: DynamoDBDocumentClient;
  readonly scan: () => Promise<Record<string, unknown>[]>;
};

/**
 * Starts the local engines (in memory) for the calling test file, or joins the strict tier's moto server, and stops
 * them after it; returns a function that makes a fresh table per call, named `<prefix>-<n>` (behind the file's own
 * prefix in moto), so each test starts empty. Adapter tests talk to a real
 * DynamoDB-compatible server this way, not to a double.
 *
 * @example const freshTable = useLocalTables("invites"); … const { client, tableName } = await freshTable();
 */
export const useLocalTables = (prefix: string): (() => Promise<LocalTable>) => {
  let engines: Engines | undefined;
  let count = 0;
  beforeAll(async () => {
    process.env.AWS_REGION ??= "us-east-1";
    process.env.AWS_ACCESS_KEY_ID ??= "local";
    process.env.AWS_SECRET_ACCESS_KEY ??= "local";
    engines = await openEngines(testEngineChoice());
  });
  afterAll(async () => {
    await engines?.stop();
  });
  return async () => {
    if (engines === undefined) throw new Error("the local engines start in beforeAll: ask for a table inside a test");
    const tableName = `${engines.resourcePrefix}${prefix}-${++count}`;
    const raw = new DynamoDBClient({ endpoint: engines.dynamodbEndpoint });
    await raw.send(new CreateTableCommand({ TableName: tableName, ...TABLE_DEFINITION }));
    const client = createDocumentClient({ dynamodb: engines.dynamodbEndpoint, sqs: undefined });
    const scan = async () => (await raw.send(new ScanCommand({ TableName: tableName }))).Items ?? [];
    return { tableName, client, scan };
  };
};
