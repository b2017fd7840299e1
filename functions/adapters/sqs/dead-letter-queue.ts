import {
  DeleteMessageBatchCommand,
  type MessageAttributeValue,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import type { DeadLetterQueue } from "#core/dispatch/ports.ts";

/** Seconds a message being redriven stays hidden in the DLQ while it is copied back. */
const REDRIVE_VISIBILITY_SECONDS = 60;

/**
 * The actions DLQ and the actions queue, for `redriveActions`. Copies body
 * and string attributes (the actionId attribute) back; SQS's own
 * StartMessageMoveTask would do the same in AWS, but the local engine lacks it.
 */
export class SqsDeadLetterQueue implements DeadLetterQueue {
  constructor(
    private readonly client: SQSClient,
    private readonly queues: { dlqUrl: string; queueUrl: string },
  ) {}

  async receive(max: number) {
    const result = await this.client.send(
      new ReceiveMessageCommand({
        QueueUrl: this.queues.dlqUrl,
        MaxNumberOfMessages: Math.min(10, max),
        MessageAttributeNames: ["All"],
        VisibilityTimeout: REDRIVE_VISIBILITY_SECONDS,
        WaitTimeSeconds: 0,
      }),
    );
    return (result.Messages ?? []).map((message) => ({
      handle: message.ReceiptHandle ?? "",
      body: message.Body ?? "",
      attributes: Object.fromEntries(
        Object.entries(message.MessageAttributes ?? {}).flatMap(([name, value]) =>
          value.StringValue === undefined ? [] : [[name, value.StringValue]],
        ),
      ),
    }));
  }

  async sendBack(messages: { handle: string; body: string; attributes: Record<string, string> }[]) {
    if (messages.length === 0) return [];
    const result = await this.client.send(
      new SendMessageBatchCommand({
        QueueUrl: this.queues.queueUrl,
        Entries: messages.map((message, index) => ({
          Id: String(index),
          MessageBody: message.body,
          MessageAttributes: Object.fromEntries(
            Object.entries(message.attributes).map(([name, value]): [string, MessageAttributeValue] => [
              name,
              { DataType: "String", StringValue: value },
            ]),
          ),
        })),
      }),
    );
    return (result.Successful ?? []).flatMap((entry) => {
      const message = messages[Number(entry.Id)];
      return message === undefined ? [] : [message.handle];
    });
  }

  async delete(handles: string[]) {
    if (handles.length === 0) return;
    await this.client.send(
      new DeleteMessageBatchCommand({
        QueueUrl: this.queues.dlqUrl,
        Entries: handles.map((handle, index) => ({ Id: String(index), ReceiptHandle: handle })),
      }),
    );
  }
}
