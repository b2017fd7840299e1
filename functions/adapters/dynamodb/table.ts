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
 * | rule state      | VEHICLE#<vehicleId>   | RULE#<ruleId>                    | TIMERS#<shard> (when due)     | <dueAt>#<vehicleId>#<rule>|
 * | firing          | VEHICLE#<vehicleId>   | FIRING#<at>#<firingId>           | FIRING#<firingId>             | FIRING                   |
 * | action claim    | ACTION#<md5 b64>      | CLAIM                            |                               |                          |
 * | command audit   | VEHICLE#<vehicleId>   | COMMAND#<action at>#<actionId>   |                               |                          |
 * | command counter | VEHICLE#<vehicleId>   | CMDRATE#<window start>           |                               |                          |
 * | outbox entry    | OUTBOX#<deliveryId>   | OUTBOX                           | OUTBOX                        | <createdAt>#<deliveryId> |
 * | poll schedule   | VEHICLE#<vehicleId>   | POLL                             | POLLDUE#<shard> (unless reauth)| <nextPollAt>#<vehicleId> |
 * | smartcar tokens | CREDENTIALS#<ref>     | SMARTCAR_TOKENS                  |                               |                          |
 * | connect invite  | INVITE#<sha256 of id> | INVITE                           |                               |                          |
 *
 * Sort keys are chosen so one query (sk BETWEEN "PROFILE" AND "SNAPSHOT") reads a vehicle's
 * registration, rule states and snapshot together: "EVENT#" and "FIRING#" sort before "PROFILE".
 * So do "COMMAND#" and "CMDRATE#". Action claims are Powertools idempotency records (status,
 * expiresAt, in_progress_expiration, data); their key is the base64 MD5 of the JSON delivery id, in pk so
 * claims spread over partitions. Claims, counters and outbox entries carry `expiresAt`.
 * Smartcar tokens (one Connect authorization, shared by its vehicles through their credentialsRef) are sealed with
 * AES-256-GCM before they are written (never in the table in clear); they carry `expiresAt` = the refresh token's
 * expiry, after which they are useless.
 * Connect invites are keyed by the SHA-256 (base64url) of their id, so the table never holds a usable invite; they
 * carry `expiresAt` = the invite's expiry (the claim checks it too, as TTL deletion lags).
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
export const RULE_SK_PREFIX = "RULE#";
export const ruleStateSk = (ruleId: string) => `${RULE_SK_PREFIX}${ruleId}`;
export const FIRING_SK_PREFIX = "FIRING#";
export const firingSk = (at: string, firingId: string) => `${FIRING_SK_PREFIX}${at}#${firingId}`;
export const firingGsi1pk = (firingId: string) => `FIRING#${firingId}`;
/** Due timers are spread over a few partitions so the tick's reads and the writers' updates never pile on one. */
export const TIMER_SHARDS = 8;
export const timerGsi1pk = (shard: number) => `TIMERS#${shard}`;
/** A vehicle's timers always live in the same shard. */
export const timerShardOf = (vehicleId: string): number => {
  let hash = 0;
  for (const char of vehicleId) hash = (hash * 31 + (char.codePointAt(0) ?? 0)) >>> 0;
  return hash % TIMER_SHARDS;
};
export const POLL_SK = "POLL";
export const pollDueGsi1pk = (shard: number) => `POLLDUE#${shard}`;
export const deliveryPk = (deliveryId: string) => `DELIVERY#${deliveryId}`;
export const DELIVERY_SK = "DELIVERY";
export const archiveGsi1pk = (provider: string, receivedAt: string) => `ARCHIVE#${provider}#${receivedAt.slice(0, 10)}`;

export const credentialsPk = (credentialsRef: string) => `CREDENTIALS#${credentialsRef}`;
export const SMARTCAR_TOKENS_SK = "SMARTCAR_TOKENS";
export const invitePk = (idHash: string) => `INVITE#${idHash}`;
export const INVITE_SK = "INVITE";

export const ACTION_CLAIM_KEY_PREFIX = "ACTION";
export const ACTION_CLAIM_SK = "CLAIM";
export const COMMAND_SK_PREFIX = "COMMAND#";
export const commandSk = (at: string, actionId: string) => `${COMMAND_SK_PREFIX}${at}#${actionId}`;
export const commandRateSk = (windowStart: string) => `CMDRATE#${windowStart}`;
export const outboxPk = (deliveryId: string) => `OUTBOX#${deliveryId}`;
export const OUTBOX_SK = "OUTBOX";
export const OUTBOX_GSI1PK = "OUTBOX";

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
