import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";

/** A DynamoDB call failed for a reason other than a guarded condition. */
export class StorageError extends Error {
  override name = "StorageError";
}

/** True for the SDK error a failed ConditionExpression raises. */
export const isConditionFailed = (error: unknown): boolean => error instanceof ConditionalCheckFailedException;
