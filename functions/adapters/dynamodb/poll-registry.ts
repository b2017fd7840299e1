import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
} from "@aws-sdk/lib-dynamodb";
import type { VehicleId } from "#core/model/vehicle.ts";
import type { PollRegistration, PollRegistry } from "#core/polling/ports.ts";
import { isConditionFailed, StorageError } from "./errors.ts";
import { POLL_SK, pollDueGsi1pk, TIMER_SHARDS, timerShardOf, vehiclePk } from "./table.ts";

/** Polled vehicles and their next poll time, due ones found through sparse gsi1 entries per shard. */
export class DynamoDbPollRegistry implements PollRegistry {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async get(vehicleId: VehicleId): Promise<PollRegistration | undefined> {
    const result = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { pk: vehiclePk(vehicleId), sk: POLL_SK },
        ConsistentRead: true,
      }),
    );
    return result.Item && (JSON.parse(result.Item.registration as string) as PollRegistration);
  }

  async save(registration: PollRegistration): Promise<boolean> {
    const first = registration.version === 1;
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            pk: vehiclePk(registration.vehicleId),
            sk: POLL_SK,
            version: registration.version,
            registration: JSON.stringify(registration),
            ...(registration.needsReauth
              ? {}
              : {
                  gsi1pk: pollDueGsi1pk(timerShardOf(registration.vehicleId)),
                  gsi1sk: `${registration.state.nextPollAt}#${registration.vehicleId}`,
                }),
          },
          ConditionExpression: first ? "attribute_not_exists(pk)" : "version = :previous",
          ExpressionAttributeValues: first ? undefined : { ":previous": registration.version - 1 },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailed(error)) return false;
      throw new StorageError(`could not store the poll schedule of ${registration.vehicleId}`, { cause: error });
    }
  }

  async due(now: Date, limit: number): Promise<PollRegistration[]> {
    const upper = `${now.toISOString()}#\uffff`;
    const shards = await Promise.all(
      Array.from({ length: TIMER_SHARDS }, async (_, shard) => {
        const result = await this.client.send(
          new QueryCommand({
            TableName: this.tableName,
            IndexName: "gsi1",
            KeyConditionExpression: "gsi1pk = :pk AND gsi1sk <= :upper",
            ExpressionAttributeValues: { ":pk": pollDueGsi1pk(shard), ":upper": upper },
            Limit: limit,
          }),
        );
        return (result.Items ?? []).map((item) => JSON.parse(item.registration as string) as PollRegistration);
      }),
    );
    return shards
      .flat()
      .sort((a, b) => a.state.nextPollAt.localeCompare(b.state.nextPollAt))
      .slice(0, limit);
  }

  async remove(vehicleId: VehicleId): Promise<void> {
    await this.client.send(
      new DeleteCommand({ TableName: this.tableName, Key: { pk: vehiclePk(vehicleId), sk: POLL_SK } }),
    );
  }

  /** Every polled vehicle (an operator's listing: a scan, not for hot paths). */
  async list(): Promise<PollRegistration[]> {
    const registrations: PollRegistration[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new ScanCommand({
          TableName: this.tableName,
          FilterExpression: "sk = :poll",
          ExpressionAttributeValues: { ":poll": POLL_SK },
          ExclusiveStartKey: start,
        }),
      );
      registrations.push(
        ...(page.Items ?? []).map((item) => JSON.parse(item.registration as string) as PollRegistration),
      );
      start = page.LastEvaluatedKey;
    } while (start);
    return registrations.sort((a, b) => a.vehicleId.localeCompare(b.vehicleId));
  }
}
