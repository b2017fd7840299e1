import {
  IdempotencyAlreadyInProgressError,
  IdempotencyConfig,
  makeIdempotent,
} from "@aws-lambda-powertools/idempotency";
import { DynamoDBPersistenceLayer } from "@aws-lambda-powertools/idempotency/dynamodb";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { Context } from "aws-lambda";
import { DeliveryInProgressError } from "#core/dispatch/errors.ts";
import type { DeliveryOutcome, ExactlyOnce } from "#core/dispatch/ports.ts";
import { ACTION_CLAIM_KEY_PREFIX, ACTION_CLAIM_SK, TABLE_KEYS } from "./table.ts";

/**
 * How long a completed claim answers redeliveries: longer than a message can
 * live in the actions queue and its DLQ (14 days each at most, and a redrive
 * can follow), so no redelivery ever finds the claim gone and acts again.
 */
export const COMPLETED_CLAIM_SECONDS = 30 * 24 * 3600;

type Request = { id: string; perform: () => Promise<DeliveryOutcome> };

/**
 * Exactly-once deliveries on Powertools idempotency (DynamoDBPersistenceLayer)
 * in the single table. The claim is Powertools' INPROGRESS record, whose
 * in-progress expiry is the invocation's deadline (registerLambdaContext): a
 * crashed or timed-out attempt is taken over by the next delivery after that.
 * The stored result is the DeliveryOutcome. A thrown error deletes the claim.
 *
 * Key layout: Powertools puts its hashed key (`ACTION#<md5>`) in the attribute
 * it calls the sort key and a static value in the one it calls the partition
 * key. Naming them the other way round (keyAttr "sk", sortKeyAttr "pk") puts
 * the hash in the table's partition key, so claims spread over partitions
 * instead of all landing on one static partition.
 */
export class PowertoolsExactlyOnce implements ExactlyOnce {
  private readonly config: IdempotencyConfig;
  private readonly idempotent: (request: Request) => Promise<DeliveryOutcome>;

  constructor(client: DynamoDBClient, tableName: string, completedForSeconds = COMPLETED_CLAIM_SECONDS) {
    const persistenceStore = new DynamoDBPersistenceLayer({
      tableName,
      awsSdkV3Client: client,
      keyAttr: TABLE_KEYS.sortKey,
      sortKeyAttr: TABLE_KEYS.partitionKey,
      staticPkValue: ACTION_CLAIM_SK,
      expiryAttr: TABLE_KEYS.timeToLive,
    });
    this.config = new IdempotencyConfig({
      eventKeyJmesPath: "id",
      expiresAfterSeconds: completedForSeconds,
      throwOnNoIdempotencyKey: true,
    });
    this.idempotent = makeIdempotent(async (request: Request) => request.perform(), {
      persistenceStore,
      config: this.config,
      keyPrefix: ACTION_CLAIM_KEY_PREFIX,
    });
  }

  /** Call once per invocation: the claim of an attempt expires at the invocation's deadline. */
  registerLambdaContext(context: Context): void {
    this.config.registerLambdaContext(context);
  }

  async run(
    deliveryId: string,
    perform: () => Promise<DeliveryOutcome>,
  ): Promise<{ outcome: DeliveryOutcome; replayed: boolean }> {
    let performed = false;
    try {
      const outcome = await this.idempotent({
        id: deliveryId,
        perform: () => {
          performed = true;
          return perform();
        },
      });
      return { outcome, replayed: !performed };
    } catch (error) {
      if (error instanceof IdempotencyAlreadyInProgressError)
        throw new DeliveryInProgressError(`delivery ${deliveryId} is claimed by another attempt`, undefined, {
          cause: error,
        });
      throw error;
    }
  }
}
