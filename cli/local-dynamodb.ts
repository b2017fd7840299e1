import { existsSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import dynalite from "dynalite";
import { isLevelDbLocked } from "#local/level-lock.ts";
import { localDynamoDbClient } from "#local/local-dynamodb-client.ts";
import { readRuntimeFile } from "#local/runtime-file.ts";
import { LocalDataLockedError, LocalDataMissingError } from "./errors.ts";

/** The table the local runtime provisions (local/runtime.ts). */
export const LOCAL_TABLE_NAME = "dashlight";

export type LocalDynamoDb = {
  readonly client: DynamoDBDocumentClient;
  readonly tableName: string;
  close(): Promise<void>;
};

/**
 * The local runtime's DynamoDB, for read-only tools such as `rules replay`. While
 * `npm start` runs from `dataDir`, its `runtime.json` says where its dynalite listens and
 * the tool connects there. Otherwise the data (`<dataDir>/dynamodb`, dynalite's LevelDB)
 * is opened with an in-process dynalite on a loopback port.
 *
 * LevelDB allows one process at a time, and a dynalite that cannot open its directory
 * only finds out on the first request (and then throws outside any handler), so the
 * lock is tried first with the same `level` package dynalite uses.
 *
 * @example const db = await openLocalDynamoDb(".dashlight"); …; await db.close();
 */
export const openLocalDynamoDb = async (dataDir: string): Promise<LocalDynamoDb> => {
  const running = readRuntimeFile(dataDir);
  if (running !== undefined) {
    const raw = localDynamoDbClient(running.endpoints.dynamodb);
    return {
      client: DynamoDBDocumentClient.from(raw),
      tableName: running.tableName,
      async close() {
        raw.destroy();
      },
    };
  }
  const path = join(dataDir, "dynamodb");
  if (!existsSync(path)) {
    throw new LocalDataMissingError(
      `no local data in ${path}: run \`npm start\` once to record events, or set DASHLIGHT_DATA_DIR`,
    );
  }
  await assertUnlocked(path);
  const server = dynalite({ path, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const raw = localDynamoDbClient(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  return {
    client: DynamoDBDocumentClient.from(raw),
    tableName: LOCAL_TABLE_NAME,
    async close() {
      raw.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
};

const assertUnlocked = async (path: string): Promise<void> => {
  let locked: boolean;
  try {
    locked = await isLevelDbLocked(path);
  } catch (error) {
    throw new LocalDataMissingError(`cannot open the local data in ${path}`, { cause: error });
  }
  if (locked) {
    throw new LocalDataLockedError(
      `${path} is in use by another process, and no runtime.json in ${join(path, "..")} says where it ` +
        "listens (a Dashlight started before runtime.json existed?): restart it with npm start, or stop it, " +
        "and run replay again",
    );
  }
};
