import { SendMessageBatchCommand, type SendMessageBatchRequestEntry, type SQSClient } from "@aws-sdk/client-sqs";

/** SQS accepts at most 10 entries per SendMessageBatch. */
const SQS_BATCH_LIMIT = 10;

export class QueueError extends Error {
  override name = "QueueError";
}

/**
 * Sends items in batches of 10, in order; throws a QueueError naming every
 * item SQS refused (by the id `idOf` gives), so the caller's retry resends them.
 */
export const sendInBatches = async <T>(
  client: SQSClient,
  queueUrl: string,
  items: readonly T[],
  toEntry: (item: T) => Omit<SendMessageBatchRequestEntry, "Id">,
  idOf: (item: T) => string,
): Promise<void> => {
  for (let start = 0; start < items.length; start += SQS_BATCH_LIMIT) {
    const chunk = items.slice(start, start + SQS_BATCH_LIMIT);
    const result = await client.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: chunk.map((item, index) => ({ Id: String(index), ...toEntry(item) })),
      }),
    );
    const failed = result.Failed ?? [];
    if (failed.length > 0) {
      const chunkItem = (id: string | undefined) => chunk[Number(id)];
      const detail = failed.map((entry) => {
        const item = chunkItem(entry.Id);
        return `${item === undefined ? entry.Id : idOf(item)}: ${entry.Code} ${entry.Message}`;
      });
      throw new QueueError(`SQS refused ${failed.length} message(s): ${detail.join("; ")}`);
    }
  }
};
