import { type DynamoDBDocumentClient, QueryCommand } from "@aws-sdk/lib-dynamodb";
import type { DueTimerIndex } from "#core/events/ports.ts";
import { TIMER_SHARDS, timerGsi1pk } from "./table.ts";

/** Due rule timers, read from the sparse timer entries of gsi1 (one query per shard). */
export class DynamoDbDueTimerIndex implements DueTimerIndex {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async dueVehicles(now: Date): Promise<string[]> {
    const upper = `${now.toISOString()}#\uffff`;
    const shards = await Promise.all(Array.from({ length: TIMER_SHARDS }, (_, shard) => this.dueInShard(shard, upper)));
    return [...new Set(shards.flat())];
  }

  private async dueInShard(shard: number, upper: string): Promise<string[]> {
    const vehicleIds: string[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: "gsi1",
          KeyConditionExpression: "gsi1pk = :pk AND gsi1sk <= :upper",
          ExpressionAttributeValues: { ":pk": timerGsi1pk(shard), ":upper": upper },
          ProjectionExpression: "pk",
          ExclusiveStartKey: start,
        }),
      );
      for (const item of page.Items ?? []) vehicleIds.push((item.pk as string).slice("VEHICLE#".length));
      start = page.LastEvaluatedKey;
    } while (start);
    return vehicleIds;
  }
}
