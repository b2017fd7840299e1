import { mkdirSync } from "node:fs";
import { type AddressInfo, Server } from "node:net";
import { join } from "node:path";
import { ListTablesCommand } from "@aws-sdk/client-dynamodb";
import dynalite from "dynalite";
import { startFauxqs } from "fauxqs";
import { isLevelDbLocked } from "./level-lock.ts";
import { localDynamoDbClient } from "./local-dynamodb-client.ts";

/** The data directory is held by another running Dashlight (LevelDB allows one process). */
export class DataDirInUseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DataDirInUseError";
  }
}

export type Engines = {
  dynamodbEndpoint: string;
  sqsEndpoint: string;
  /** Prepended to the table and queue names, so several runtimes can share one external engine. */
  resourcePrefix: string;
  stop(): Promise<void>;
};

/**
 * Where the runtime's DynamoDB and SQS live: the embedded engines (in a data folder, or in memory), or
 * engines someone else runs (moto, or an AWS account), which the runtime neither starts nor stops.
 */
export type EngineChoice =
  | { kind: "embedded"; dataDir: string | undefined }
  | { kind: "external"; dynamodbEndpoint: string; sqsEndpoint: string; resourcePrefix: string };

export const openEngines = (choice: EngineChoice): Promise<Engines> =>
  choice.kind === "embedded"
    ? startEngines({ dataDir: choice.dataDir })
    : Promise.resolve({
        dynamodbEndpoint: choice.dynamodbEndpoint,
        sqsEndpoint: choice.sqsEndpoint,
        resourcePrefix: choice.resourcePrefix,
        stop: async () => {},
      });

/**
 * Starts the embedded DynamoDB-compatible (dynalite) and SQS-compatible (fauxqs)
 * engines on ephemeral loopback ports. With a data directory their state
 * survives a restart; without one it lives in memory. A data directory another
 * running Dashlight holds is refused up front (DataDirInUseError), rather than
 * crashing later on dynalite's first request.
 */
export const startEngines = async (options: { dataDir: string | undefined }): Promise<Engines> => {
  const dynamoPath = options.dataDir && join(options.dataDir, "dynamodb");
  const sqsPath = options.dataDir && join(options.dataDir, "sqs");
  if (dynamoPath) mkdirSync(dynamoPath, { recursive: true });
  if (sqsPath) mkdirSync(sqsPath, { recursive: true });
  if (options.dataDir && dynamoPath && (await isLevelDbLocked(dynamoPath))) {
    throw new DataDirInUseError(
      `${options.dataDir} is in use by another running Dashlight: stop that one, or give this one its own ` +
        "folder with DASHLIGHT_DATA_DIR=<folder> (or run it in memory with --memory)",
    );
  }

  const dynamo = dynalite({
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
    ...(dynamoPath ? { path: dynamoPath } : {}),
  });
  await new Promise<void>((resolve, reject) => {
    dynamo.once("error", reject);
    dynamo.listen(0, "127.0.0.1", () => resolve());
  });
  const dynamodbEndpoint = `http://127.0.0.1:${(dynamo.address() as AddressInfo).port}`;
  let sqs: Awaited<ReturnType<typeof startFauxqs>>;
  try {
    await untilStoreOpen(dynamodbEndpoint);
    sqs = await onLoopback(() =>
      startFauxqs({
        port: 0,
        host: "127.0.0.1",
        logger: false,
        ...(sqsPath ? { dataDir: sqsPath } : {}),
      }),
    );
  } catch (error) {
    // Half started: release the port and the LevelDB lock before reporting.
    await new Promise<void>((resolve) => dynamo.close(() => resolve()));
    throw error;
  }
  return {
    dynamodbEndpoint,
    sqsEndpoint: sqs.address,
    resourcePrefix: "",
    async stop() {
      await sqs.stop();
      await new Promise<void>((resolve) => dynamo.close(() => resolve()));
    },
  };
};

/**
 * dynalite opens its LevelDB in the background after listen. Until that open holds the
 * LOCK file, another start would find the folder free, so "started" waits for a first
 * request, which LevelDB answers only once open.
 */
const untilStoreOpen = async (endpoint: string): Promise<void> => {
  const client = localDynamoDbClient(endpoint);
  try {
    await client.send(new ListTablesCommand({ Limit: 1 }));
  } finally {
    client.destroy();
  }
};

/**
 * Runs `start` with every listen on all interfaces (0.0.0.0) moved to loopback. fauxqs 2.4
 * listens on 0.0.0.0 whatever its `host` option says (that only names queue URLs), which
 * would let anyone on the network read the queues or put actions, commands included, on them.
 */
const onLoopback = async <T>(start: () => Promise<T>): Promise<T> => {
  const listen = Server.prototype.listen;
  Server.prototype.listen = function (this: Server, ...args: unknown[]) {
    const [options] = args;
    if (typeof options === "object" && options !== null && (options as { host?: unknown }).host === "0.0.0.0") {
      args[0] = { ...options, host: "127.0.0.1" };
    }
    return Reflect.apply(listen, this, args);
  } as typeof listen;
  try {
    return await start();
  } finally {
    Server.prototype.listen = listen;
  }
};
