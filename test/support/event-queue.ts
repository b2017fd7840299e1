import { ReceiveMessageCommand, SendMessageBatchCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { VehicleEvent } from "#core/model/event.ts";

/**
 * Puts canonical events straight on the events FIFO queue, as ingest does. `attempt`
 * goes into the de-duplication id so a test can redeliver the same event on purpose.
 */
export const sendEvents = async (sqs: SQSClient, queueUrl: string, events: readonly VehicleEvent[], attempt = 1) => {
  for (let start = 0; start < events.length; start += 10) {
    const result = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: events.slice(start, start + 10).map((event, index) => ({
          Id: String(index),
          MessageBody: JSON.stringify(event),
          MessageGroupId: event.vehicleId,
          MessageDeduplicationId: `${event.id}-${attempt}`,
        })),
      }),
    );
    if ((result.Failed ?? []).length > 0) throw new Error(`could not send: ${JSON.stringify(result.Failed)}`);
  }
};

/** Drains a standard queue (no consumer runs on it in these tests) and returns the message bodies. */
export const drainQueue = async (sqs: SQSClient, queueUrl: string): Promise<unknown[]> => {
  const bodies: unknown[] = [];
  for (;;) {
    const received = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        VisibilityTimeout: 60,
      }),
    );
    const messages = received.Messages ?? [];
    if (messages.length === 0) return bodies;
    bodies.push(...messages.map((message) => JSON.parse(message.Body ?? "null")));
  }
};
