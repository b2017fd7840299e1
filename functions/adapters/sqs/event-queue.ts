import type { SQSClient } from "@aws-sdk/client-sqs";
import type { EventQueue } from "#core/ingest/ports.ts";
import type { VehicleEvent } from "#core/model/event.ts";
import { sqsMessageBody } from "./message-body.ts";
import { sendInBatches } from "./send-batches.ts";

/** The events FIFO queue: one message group per vehicle (order), de-duplicated by event id. */
export class SqsEventQueue implements EventQueue {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  enqueue(events: readonly VehicleEvent[]): Promise<void> {
    return sendInBatches(
      this.client,
      this.queueUrl,
      events,
      (event) => ({
        MessageBody: sqsMessageBody(event),
        MessageGroupId: event.vehicleId,
        MessageDeduplicationId: event.id,
      }),
      (event) => event.id,
    );
  }
}
