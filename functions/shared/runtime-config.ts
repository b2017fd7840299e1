import { type AwsEndpoints, awsEndpointsFromEnv, requiredEnv, requiredIntEnv, secretFromEnv } from "./config.ts";

/**
 * What each handler reads from its environment at cold start. Every variable is
 * required: a missing one stops the cold start with its name.
 */
export type TableConfig = { tableName: string; endpoints: AwsEndpoints };

export const tableConfigFromEnv = (env: NodeJS.ProcessEnv = process.env): TableConfig => ({
  tableName: requiredEnv("DASHLIGHT_TABLE_NAME", env),
  endpoints: awsEndpointsFromEnv(env),
});

export type IngestConfig = TableConfig & {
  eventsQueueUrl: string;
  automaticWebhookSecret: string;
  smartcarManagementToken: string;
  rawRetentionDays: number;
};

export const ingestConfigFromEnv = async (env: NodeJS.ProcessEnv = process.env): Promise<IngestConfig> => ({
  ...tableConfigFromEnv(env),
  eventsQueueUrl: requiredEnv("DASHLIGHT_EVENTS_QUEUE_URL", env),
  rawRetentionDays: requiredIntEnv("DASHLIGHT_RAW_RETENTION_DAYS", env),
  automaticWebhookSecret: await secretFromEnv("DASHLIGHT_AUTOMATIC_WEBHOOK_SECRET", env),
  smartcarManagementToken: await secretFromEnv("SMARTCAR_MANAGEMENT_TOKEN", env),
});

/** For the functions that evaluate rules: the event consumer and the tick. */
export type EvaluationConfig = TableConfig & { actionsQueueUrl: string; rulesDir: string };

export const evaluationConfigFromEnv = (env: NodeJS.ProcessEnv = process.env): EvaluationConfig => ({
  ...tableConfigFromEnv(env),
  actionsQueueUrl: requiredEnv("DASHLIGHT_ACTIONS_QUEUE_URL", env),
  rulesDir: requiredEnv("DASHLIGHT_RULES_DIR", env),
});

/** For the poll scheduler: where due vehicles go as jobs. */
export type PollScheduleConfig = TableConfig & { pollJobsQueueUrl: string };

export const pollScheduleConfigFromEnv = (env: NodeJS.ProcessEnv = process.env): PollScheduleConfig => ({
  ...tableConfigFromEnv(env),
  pollJobsQueueUrl: requiredEnv("DASHLIGHT_POLL_JOBS_QUEUE_URL", env),
});

/** For the poll workers: where the events of a poll go. */
export type PollWorkerConfig = TableConfig & { eventsQueueUrl: string };

export const pollWorkerConfigFromEnv = (env: NodeJS.ProcessEnv = process.env): PollWorkerConfig => ({
  ...tableConfigFromEnv(env),
  eventsQueueUrl: requiredEnv("DASHLIGHT_EVENTS_QUEUE_URL", env),
});
