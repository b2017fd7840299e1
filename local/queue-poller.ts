import { createHash } from "node:crypto";
import { DeleteMessageBatchCommand, type Message, ReceiveMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { logger } from "#shared/logger.ts";
import { lambdaContext } from "./lambda-context.ts";

export type SqsHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | undefined>;

export type QueuePoller = { stop(): Promise<void> };

/**
 * Invokes a Lambda SQS handler the way the SQS event source mapping does:
 * batches of up to `batchSize`, records deleted only when the handler reports
 * them processed (partial batch response), failed ones left to reappear after
 * the visibility timeout and, past the queue's maxReceiveCount, to be moved to
 * its dead-letter queue by the engine.
 */
export const startQueuePoller = (options: {
  sqs: SQSClient;
  queueUrl: string;
  queueArn: string;
  functionName: string;
  handler: SqsHandler;
  batchSize: number;
  concurrency: number;
  region: string;
  /** The function timeout each invocation's context reports (getRemainingTimeInMillis). */
  timeoutMs?: number;
}): QueuePoller => {
  let running = true;
  const loops = Array.from({ length: options.concurrency }, async () => {
    while (running) {
      try {
        await pollOnce(options, () => running);
      } catch (error) {
        if (!running) return;
        logger.error("queue poll failed", { queue: options.functionName, error: error as Error });
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  });
  return {
    async stop() {
      running = false;
      await Promise.all(loops);
    },
  };
};

const pollOnce = async (options: Parameters<typeof startQueuePoller>[0], isRunning: () => boolean): Promise<void> => {
  const received = await options.sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: options.queueUrl,
      MaxNumberOfMessages: options.batchSize,
      WaitTimeSeconds: 1,
      MessageSystemAttributeNames: ["All"],
      MessageAttributeNames: ["All"],
    }),
  );
  const messages = received.Messages ?? [];
  if (messages.length === 0 || !isRunning()) return;
  const event: SQSEvent = { Records: messages.map((message) => toRecord(message, options)) };
  let failedIds: Set<string>;
  try {
    const response = await options.handler(event, lambdaContext(options.functionName, options.timeoutMs));
    failedIds = new Set((response?.batchItemFailures ?? []).map((failure) => failure.itemIdentifier));
  } catch (error) {
    // A thrown handler fails the whole batch, as in Lambda.
    logger.error("handler failed the whole batch", { function: options.functionName, error: error as Error });
    failedIds = new Set(messages.map((message) => message.MessageId ?? ""));
  }
  const done = messages.filter((message) => !failedIds.has(message.MessageId ?? ""));
  if (done.length === 0) return;
  const deleted = await options.sqs.send(
    new DeleteMessageBatchCommand({
      QueueUrl: options.queueUrl,
      Entries: done.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle })),
    }),
  );
  if ((deleted.Failed ?? []).length > 0) {
    logger.error("could not delete processed messages", { function: options.functionName, failed: deleted.Failed });
  }
};

const toRecord = (message: Message, options: { queueArn: string; region: string }): SQSRecord => {
  const attributes = message.Attributes ?? {};
  const body = message.Body ?? "";
  return {
    messageId: message.MessageId ?? "",
    receiptHandle: message.ReceiptHandle ?? "",
    body,
    attributes: {
      ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? "1",
      SentTimestamp: attributes.SentTimestamp ?? String(Date.now()),
      SenderId: attributes.SenderId ?? "local",
      ApproximateFirstReceiveTimestamp: attributes.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
      ...(attributes.MessageGroupId === undefined ? {} : { MessageGroupId: attributes.MessageGroupId }),
      ...(attributes.MessageDeduplicationId === undefined
        ? {}
        : { MessageDeduplicationId: attributes.MessageDeduplicationId }),
      ...(attributes.SequenceNumber === undefined ? {} : { SequenceNumber: attributes.SequenceNumber }),
    },
    messageAttributes: {},
    md5OfBody: message.MD5OfBody ?? createHash("md5").update(body).digest("hex"),
    eventSource: "aws:sqs",
    eventSourceARN: options.queueArn,
    awsRegion: options.region,
  };
};
