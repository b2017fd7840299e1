import type { SQSClient } from "@aws-sdk/client-sqs";
import type { ActionQueue } from "#core/events/ports.ts";
import type { Action } from "#core/rules/state.ts";
import { sqsMessageBody } from "./message-body.ts";
import { sendInBatches } from "./send-batches.ts";

/** The actions queue (standard SQS): one message per action, its id in an attribute for the dispatcher. */
export class SqsActionQueue implements ActionQueue {
  constructor(
    private readonly client: SQSClient,
    private readonly queueUrl: string,
  ) {}

  enqueue(actions: readonly Action[]): Promise<void> {
    return sendInBatches(
      this.client,
      this.queueUrl,
      actions,
      (action) => ({
        MessageBody: sqsMessageBody(action),
        MessageAttributes: { actionId: { DataType: "String", StringValue: action.id } },
      }),
      (action) => action.id,
    );
  }
}
