import { SendMessageBatchCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { EventQueue } from "#core/ingest/ports.ts";
import type { VehicleEvent } from "#core/model/event.ts";

/** SQS accepts at most 10 entries per SendMessageBatch. */
const SQS_BATCH_LIMIT = 10;

export class QueueError extends Error {
  override name = "QueueError";
}

/** The events FIFO queue: one message group per vehicle (order), de-duplicated by event id. */
export class SqsEventQueue implements EventQueue {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  async enqueue(events: readonly VehicleEvent[]): Promise<void> {
    for (let start = 0; start < events.length; start += SQS_BATCH_LIMIT) {
      const chunk = events.slice(start, start + SQS_BATCH_LIMIT);
      const result = await this.client.send(
        new SendMessageBatchCommand({
          QueueUrl: this.queueUrl,
          Entries: chunk.map((event, index) => ({
            Id: String(index),
            MessageBody: JSON.stringify(event),
            MessageGroupId: event.vehicleId,
            MessageDeduplicationId: event.id,
          })),
        }),
      );
      const failed = result.Failed ?? [];
      if (failed.length > 0) {
        const detail = failed.map((entry) => `${chunk[Number(entry.Id)]?.id}: ${entry.Code} ${entry.Message}`);
        throw new QueueError(`could not enqueue ${failed.length} event(s): ${detail.join("; ")}`);
      }
    }
  }
}
