import type { CreateTableCommandInput } from "@aws-sdk/client-dynamodb";

/**
 * The single DynamoDB table: its key schema (shared by the CDK stack and the
 * local runtime) and the key of every item kind, in one place.
 *
 * | item            | pk                    | sk                               | gsi1pk                        | gsi1sk                   |
 * |-----------------|-----------------------|----------------------------------|-------------------------------|--------------------------|
 * | vehicle         | VEHICLE#<vehicleId>   | PROFILE                          | VEHICLES                      | <vehicleId>              |
 * | snapshot        | VEHICLE#<vehicleId>   | SNAPSHOT                         |                               |                          |
 * | event           | VEHICLE#<vehicleId>   | EVENT#<occurredAt>#<eventId>     |                               |                          |
 * | raw delivery    | DELIVERY#<deliveryId> | DELIVERY                         | ARCHIVE#<provider>#<day>      | <receivedAt>#<deliveryId>|
 */
export const TABLE_KEYS = {
  partitionKey: "pk",
  sortKey: "sk",
  gsi1: { indexName: "gsi1", partitionKey: "gsi1pk", sortKey: "gsi1sk" },
  /** Epoch seconds after which DynamoDB deletes the item. */
  timeToLive: "expiresAt",
} as const;

export const vehiclePk = (vehicleId: string) => `VEHICLE#${vehicleId}`;
export const PROFILE_SK = "PROFILE";
export const SNAPSHOT_SK = "SNAPSHOT";
export const EVENT_SK_PREFIX = "EVENT#";
export const eventSk = (occurredAt: string, eventId: string) => `${EVENT_SK_PREFIX}${occurredAt}#${eventId}`;
export const VEHICLES_GSI1PK = "VEHICLES";
export const deliveryPk = (deliveryId: string) => `DELIVERY#${deliveryId}`;
export const DELIVERY_SK = "DELIVERY";
export const archiveGsi1pk = (provider: string, receivedAt: string) => `ARCHIVE#${provider}#${receivedAt.slice(0, 10)}`;

/** Attribute definitions and indexes for CreateTable (local runtime, tests) and the CDK table. */
export const TABLE_DEFINITION: Omit<CreateTableCommandInput, "TableName"> = {
  AttributeDefinitions: [
    { AttributeName: "pk", AttributeType: "S" },
    { AttributeName: "sk", AttributeType: "S" },
    { AttributeName: "gsi1pk", AttributeType: "S" },
    { AttributeName: "gsi1sk", AttributeType: "S" },
  ],
  KeySchema: [
    { AttributeName: "pk", KeyType: "HASH" },
    { AttributeName: "sk", KeyType: "RANGE" },
  ],
  GlobalSecondaryIndexes: [
    {
      IndexName: "gsi1",
      KeySchema: [
        { AttributeName: "gsi1pk", KeyType: "HASH" },
        { AttributeName: "gsi1sk", KeyType: "RANGE" },
      ],
      Projection: { ProjectionType: "ALL" },
    },
  ],
  BillingMode: "PAY_PER_REQUEST",
};
