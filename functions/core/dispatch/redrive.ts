import type { DeadLetterQueue } from "./ports.ts";

/**
 * Moves messages from the actions dead-letter queue back to the actions queue
 * (after the cause was fixed): receive, send back, delete what was sent. An
 * action that was already done is not repeated: its claim answers the redelivery.
 *
 * `await redriveActions(new SqsDeadLetterQueue(sqs, { dlqUrl, queueUrl }))` → `{ moved: 3 }`
 */
export const redriveActions = async (
  dlq: DeadLetterQueue,
  options: { limit?: number } = {},
): Promise<{ moved: number }> => {
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  let moved = 0;
  while (moved < limit) {
    const batch = await dlq.receive(Math.min(10, limit - moved));
    if (batch.length === 0) break;
    const sent = await dlq.sendBack(batch);
    if (sent.length === 0) throw new Error("could not send any dead-lettered action back to the actions queue");
    await dlq.delete(sent);
    moved += sent.length;
  }
  return { moved };
};
