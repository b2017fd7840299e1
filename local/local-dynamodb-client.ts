import { DynamoDBClient } from "@aws-sdk/client-dynamodb";

/** dynalite accepts any credentials; the SDK only needs some to sign with. */
export const localDynamoDbClient = (endpoint: string): DynamoDBClient =>
  new DynamoDBClient({
    endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "local", secretAccessKey: "local" },
  });
