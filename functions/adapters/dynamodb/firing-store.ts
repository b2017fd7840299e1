import { type DynamoDBDocumentClient, PutCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import type { FiringStore } from "#core/events/ports.ts";
import type { Firing } from "#core/rules/state.ts";
import { isConditionFailed, StorageError } from "./errors.ts";
import { listNewestFirst } from "./newest-first.ts";
import { FIRING_SK_PREFIX, firingGsi1pk, firingSk, vehiclePk } from "./table.ts";

/** Firings with their explanations: by vehicle and time, and by id through gsi1. */
export class DynamoDbFiringStore implements FiringStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async putFirings(firings: readonly Firing[]): Promise<void> {
    await Promise.all(firings.map((firing) => this.putFiring(firing)));
  }

  private async putFiring(firing: Firing): Promise<void> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            pk: vehiclePk(firing.vehicleId),
            sk: firingSk(firing.at, firing.id),
            gsi1pk: firingGsi1pk(firing.id),
            gsi1sk: "FIRING",
            firing: JSON.stringify(firing),
          },
          ConditionExpression: "attribute_not_exists(pk)",
        }),
      );
    } catch (error) {
      // Already stored by an earlier delivery of the same event: ids are deterministic.
      if (isConditionFailed(error)) return;
      throw new StorageError(`could not store firing ${firing.id}`, { cause: error });
    }
  }

  /** A vehicle's firings, newest first. */
  async listFirings(vehicleId: string, options: { since?: string; limit: number }): Promise<Firing[]> {
    return listNewestFirst<Firing>(this.client, this.tableName, {
      vehicleId,
      skPrefix: FIRING_SK_PREFIX,
      attribute: "firing",
      since: options.since,
      limit: options.limit,
    });
  }

  async getFiring(firingId: string): Promise<Firing | undefined> {
    const result = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: "gsi1",
        KeyConditionExpression: "gsi1pk = :pk",
        ExpressionAttributeValues: { ":pk": firingGsi1pk(firingId) },
        Limit: 1,
      }),
    );
    const item = result.Items?.[0];
    return item && (JSON.parse(item.firing as string) as Firing);
  }
}
