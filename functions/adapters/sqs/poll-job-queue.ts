import type { SQSClient } from "@aws-sdk/client-sqs";
import type { VehicleId } from "#core/model/vehicle.ts";
import type { PollJobQueue } from "#core/polling/ports.ts";
import { sqsMessageBody } from "./message-body.ts";
import { sendInBatches } from "./send-batches.ts";

/** The poll jobs queue (standard SQS): one message per vehicle to poll. */
export class SqsPollJobQueue implements PollJobQueue {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  enqueue(vehicleIds: readonly VehicleId[]): Promise<void> {
    return sendInBatches(
      this.client,
      this.queueUrl,
      vehicleIds,
      (vehicleId) => ({ MessageBody: sqsMessageBody({ vehicleId }) }),
      (vehicleId) => vehicleId,
    );
  }
}
