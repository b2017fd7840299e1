import { type AwsEndpoints, awsEndpointsFromEnv, requiredEnv, requiredIntEnv } from "./config.ts";

/** Where Dashlight keeps its data and queues; read by every handler at cold start. */
export type StorageConfig = {
  tableName: string;
  eventsQueueUrl: string;
  endpoints: AwsEndpoints;
};

export const storageConfigFromEnv = (env: NodeJS.ProcessEnv = process.env): StorageConfig => ({
  tableName: requiredEnv("DASHLIGHT_TABLE_NAME", env),
  eventsQueueUrl: requiredEnv("DASHLIGHT_EVENTS_QUEUE_URL", env),
  endpoints: awsEndpointsFromEnv(env),
});

export type IngestConfig = StorageConfig & {
  automaticWebhookSecret: string;
  smartcarManagementToken: string;
  rawRetentionDays: number;
};

export const ingestConfigFromEnv = (env: NodeJS.ProcessEnv = process.env): IngestConfig => ({
  ...storageConfigFromEnv(env),
  automaticWebhookSecret: requiredEnv("DASHLIGHT_AUTOMATIC_WEBHOOK_SECRET", env),
  smartcarManagementToken: requiredEnv("SMARTCAR_MANAGEMENT_TOKEN", env),
  rawRetentionDays: requiredIntEnv("DASHLIGHT_RAW_RETENTION_DAYS", env),
});
