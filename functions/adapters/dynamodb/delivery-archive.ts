import { type DynamoDBDocumentClient, PutCommand } from "@aws-sdk/lib-dynamodb";
import type { ArchivedDelivery, DeliveryArchive } from "#core/ingest/ports.ts";
import { isConditionFailed, StorageError } from "./errors.ts";
import { archiveGsi1pk, DELIVERY_SK, deliveryPk } from "./table.ts";

/** Raw deliveries in DynamoDB, one item per delivery id, deleted by TTL after `retentionDays`. */
export class DynamoDbDeliveryArchive implements DeliveryArchive {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly retentionDays: number,
  ) {}

  async archive(delivery: ArchivedDelivery): Promise<"stored" | "duplicate"> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            pk: deliveryPk(delivery.deliveryId),
            sk: DELIVERY_SK,
            gsi1pk: archiveGsi1pk(delivery.provider, delivery.receivedAt),
            gsi1sk: `${delivery.receivedAt}#${delivery.deliveryId}`,
            ...delivery,
            expiresAt: Math.floor(Date.parse(delivery.receivedAt) / 1000) + this.retentionDays * 86_400,
          },
          ConditionExpression: "attribute_not_exists(pk)",
        }),
      );
      return "stored";
    } catch (error) {
      if (isConditionFailed(error)) return "duplicate";
      throw new StorageError(`could not archive delivery ${delivery.deliveryId}`, { cause: error });
    }
  }
}
