import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { SQSClient } from "@aws-sdk/client-sqs";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { AwsEndpoints } from "#shared/config.ts";

/**
 * SDK clients, created once per module scope by the handlers. An endpoint in
 * the config points them at the local engines; without one they talk to AWS.
 */
export const createDocumentClient = (endpoints: AwsEndpoints): DynamoDBDocumentClient =>
  DynamoDBDocumentClient.from(
    new DynamoDBClient(endpoints.dynamodb === undefined ? {} : { endpoint: endpoints.dynamodb }),
    { marshallOptions: { removeUndefinedValues: true } },
  );

/** The plain client, for libraries that marshal themselves (Powertools idempotency). */
export const createDynamoDbClient = (endpoints: AwsEndpoints): DynamoDBClient =>
  new DynamoDBClient(endpoints.dynamodb === undefined ? {} : { endpoint: endpoints.dynamodb });

export const createSqsClient = (endpoints: AwsEndpoints): SQSClient =>
  new SQSClient(endpoints.sqs === undefined ? {} : { endpoint: endpoints.sqs });
