import { CreateTableCommand, DynamoDBClient, ResourceInUseException } from "@aws-sdk/client-dynamodb";
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from "@aws-sdk/client-sqs";
import { TABLE_DEFINITION } from "#adapters/dynamodb/table.ts";

export type QueueSettings = {
  /** Seconds a received message stays hidden before it is delivered again (Lambda: the function timeout × 6). */
  visibilityTimeoutSeconds: number;
  /** Receives after which a message moves to the dead-letter queue. */
  maxReceiveCount: number;
};

export type ProvisionedQueue = { url: string; arn: string; dlqUrl: string };
export type Provisioned = {
  tableName: string;
  eventsQueue: ProvisionedQueue;
  actionsQueue: ProvisionedQueue;
  pollJobsQueue: ProvisionedQueue;
};

/** Creates the table and queues if they are not there yet (a restart with kept data finds them). */
export const provision = async (
  endpoints: { dynamodb: string; sqs: string },
  names: { tableName: string; eventsQueueName: string; actionsQueueName: string; pollJobsQueueName: string },
  queueSettings: { events: QueueSettings; actions: QueueSettings; pollJobs: QueueSettings },
): Promise<Provisioned> => {
  const dynamodb = new DynamoDBClient({ endpoint: endpoints.dynamodb });
  const sqs = new SQSClient({ endpoint: endpoints.sqs });
  try {
    await dynamodb.send(new CreateTableCommand({ TableName: names.tableName, ...TABLE_DEFINITION }));
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
  const eventsQueue = await createQueueWithDlq(sqs, names.eventsQueueName, { fifo: true }, queueSettings.events);
  const actionsQueue = await createQueueWithDlq(sqs, names.actionsQueueName, { fifo: false }, queueSettings.actions);
  const pollJobsQueue = await createQueueWithDlq(sqs, names.pollJobsQueueName, { fifo: false }, queueSettings.pollJobs);
  dynamodb.destroy();
  sqs.destroy();
  return { tableName: names.tableName, eventsQueue, actionsQueue, pollJobsQueue };
};

const createQueueWithDlq = async (
  sqs: SQSClient,
  name: string,
  kind: { fifo: boolean },
  settings: QueueSettings,
): Promise<ProvisionedQueue> => {
  const suffix = kind.fifo ? ".fifo" : "";
  const fifoAttributes: Record<string, string> = kind.fifo ? { FifoQueue: "true" } : {};
  const dlq = await sqs.send(
    new CreateQueueCommand({ QueueName: `${name}-dlq${suffix}`, Attributes: { ...fifoAttributes } }),
  );
  const dlqUrl = required(dlq.QueueUrl, "dead-letter queue URL");
  const dlqArn = await queueArn(sqs, dlqUrl);
  const queue = await sqs.send(
    new CreateQueueCommand({
      QueueName: `${name}${suffix}`,
      Attributes: {
        ...fifoAttributes,
        VisibilityTimeout: String(settings.visibilityTimeoutSeconds),
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: settings.maxReceiveCount }),
      },
    }),
  );
  const url = required(queue.QueueUrl, "queue URL");
  return { url, arn: await queueArn(sqs, url), dlqUrl };
};

const queueArn = async (sqs: SQSClient, url: string): Promise<string> => {
  const result = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["QueueArn"] }));
  return required(result.Attributes?.QueueArn, `ARN of ${url}`);
};

const required = <T>(value: T | undefined, what: string): T => {
  if (value === undefined) throw new Error(`the local SQS engine returned no ${what}`);
  return value;
};
