import { createDocumentClient, createSqsClient } from "#adapters/aws-clients.ts";
import { DynamoDbPollRegistry } from "#adapters/dynamodb/poll-registry.ts";
import { SqsPollJobQueue } from "#adapters/sqs/poll-job-queue.ts";
import { schedulePolls } from "#core/polling/schedule-polls.ts";
import { logger } from "#shared/logger.ts";
import { pollScheduleConfigFromEnv } from "#shared/runtime-config.ts";

const config = pollScheduleConfigFromEnv();
const ports = {
  registry: new DynamoDbPollRegistry(createDocumentClient(config.endpoints), config.tableName),
  jobs: new SqsPollJobQueue(createSqsClient(config.endpoints), config.pollJobsQueueUrl),
};

/** Every minute (EventBridge Scheduler): hands the vehicles due for a poll to the poll workers. */
export const handler = async (): Promise<{ jobs: number }> => {
  const leased = await schedulePolls(ports, new Date());
  logger.info("poll jobs scheduled", { jobs: leased.length });
  return { jobs: leased.length };
};
