import { SqsDeadLetterQueue } from "#adapters/sqs/dead-letter-queue.ts";
import { redriveActions } from "#core/dispatch/redrive.ts";
import type { Target } from "./connection.ts";

type Output = { write(text: string): unknown };
type Io = { out: Output; err: Output };

/** `dashlight actions redrive [--limit n]`: moves dead-lettered actions back to the actions queue after a fix. */
export const actionsCommand = async (args: readonly string[], target: () => Target, io: Io): Promise<number> => {
  const [command, flag, value] = args;
  if (command !== "redrive" || (flag !== undefined && (flag !== "--limit" || !/^\d+$/.test(value ?? "")))) {
    io.err.write("usage: dashlight actions redrive [--limit n]\n");
    return 2;
  }
  const resolved = target();
  if (resolved.actionsQueue === undefined) {
    io.err.write("set DASHLIGHT_ACTIONS_QUEUE_URL and DASHLIGHT_ACTIONS_DLQ_URL to name the deployment's queues\n");
    return 2;
  }
  const dlq = new SqsDeadLetterQueue(resolved.sqsClient, {
    dlqUrl: resolved.actionsQueue.dlqUrl,
    queueUrl: resolved.actionsQueue.url,
  });
  const { moved } = await redriveActions(dlq, value === undefined ? {} : { limit: Number(value) });
  io.out.write(
    `moved ${moved} action(s) from the dead-letter queue back to the actions queue of ${resolved.describe}\n`,
  );
  return 0;
};
