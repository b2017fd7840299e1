import { mkdirSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import dynalite from "dynalite";
import { startFauxqs } from "fauxqs";

export type Engines = {
  dynamodbEndpoint: string;
  sqsEndpoint: string;
  stop(): Promise<void>;
};

/**
 * Starts the embedded DynamoDB-compatible (dynalite) and SQS-compatible (fauxqs)
 * engines on ephemeral loopback ports. With a data directory their state
 * survives a restart; without one it lives in memory.
 */
export const startEngines = async (options: { dataDir: string | undefined }): Promise<Engines> => {
  const dynamoPath = options.dataDir && join(options.dataDir, "dynamodb");
  const sqsPath = options.dataDir && join(options.dataDir, "sqs");
  if (dynamoPath) mkdirSync(dynamoPath, { recursive: true });
  if (sqsPath) mkdirSync(sqsPath, { recursive: true });

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
  const sqs = await startFauxqs({
    port: 0,
    host: "127.0.0.1",
    logger: false,
    ...(sqsPath ? { dataDir: sqsPath } : {}),
  });
  return {
    dynamodbEndpoint: `http://127.0.0.1:${(dynamo.address() as AddressInfo).port}`,
    sqsEndpoint: sqs.address,
    async stop() {
      await sqs.stop();
      await new Promise<void>((resolve) => dynamo.close(() => resolve()));
    },
  };
};
