import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { parseActionMessage } from "#core/dispatch/action-message.ts";
import type { ActionResult } from "#core/dispatch/dispatch-action.ts";
import type { Action } from "#core/rules/state.ts";
import { logger } from "#shared/logger.ts";

export type ActionConsumer = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

/**
 * The actions queue (standard SQS) consumer: each record is parsed and
 * dispatched on its own; a failing record is reported in batchItemFailures
 * and redelivered alone, the others are deleted. Records run concurrently
 * (standard queue: no order to keep). `beforeBatch` receives the invocation's
 * context (the claims' expiry).
 */
export const createActionConsumer = (
  dispatch: (action: Action) => Promise<ActionResult>,
  beforeBatch: (context: Context) => void = () => undefined,
): ActionConsumer => {
  const processor = new BatchProcessor(EventType.SQS);
  const processRecord = async (record: SQSRecord): Promise<void> => {
    const action = parseActionMessage(record.body);
    try {
      const result = await dispatch(action);
      logger.info("action dispatched", {
        actionId: action.id,
        type: action.type,
        replayed: result.replayed,
        outcomes: result.outcomes.map((outcome) => ({
          deliveryId: outcome.deliveryId,
          status: outcome.status,
          transport: outcome.transport,
          ...(outcome.reason === undefined ? {} : { reason: outcome.reason }),
        })),
      });
    } catch (error) {
      logger.warn("action will be retried", {
        actionId: action.id,
        type: action.type,
        receiveCount: record.attributes.ApproximateReceiveCount,
        error: error as Error,
      });
      throw error;
    }
  };
  return async (event, context) => {
    beforeBatch(context);
    // A batch whose records all failed is reported like any other (not thrown): same effect, uniform answer.
    return processPartialResponse(event, processRecord, processor, { context, throwOnFullBatchFailure: false });
  };
};
