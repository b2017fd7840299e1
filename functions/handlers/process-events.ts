import { processPartialResponse, SqsFifoPartialProcessorAsync } from "@aws-lambda-powertools/batch";
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { createDocumentClient, createSqsClient } from "#adapters/aws-clients.ts";
import { DynamoDbEventStore } from "#adapters/dynamodb/event-store.ts";
import { DynamoDbFiringStore } from "#adapters/dynamodb/firing-store.ts";
import { DynamoDbVehicleStore } from "#adapters/dynamodb/vehicle-store.ts";
import { SqsActionQueue } from "#adapters/sqs/action-queue.ts";
import { processEvent } from "#core/events/process-event.ts";
import { parsePayload } from "#core/ingest/errors.ts";
import { VehicleEvent } from "#core/model/event.ts";
import { loadRuleSet } from "#core/rules/load.ts";
import { logger } from "#shared/logger.ts";
import { evaluationConfigFromEnv } from "#shared/runtime-config.ts";

const config = evaluationConfigFromEnv();
const documentClient = createDocumentClient(config.endpoints);
const ports = {
  events: new DynamoDbEventStore(documentClient, config.tableName),
  vehicles: new DynamoDbVehicleStore(documentClient, config.tableName),
  firings: new DynamoDbFiringStore(documentClient, config.tableName),
  actions: new SqsActionQueue(createSqsClient(config.endpoints), config.actionsQueueUrl),
};
/** Compiled once per cold start; a bad rule stops the cold start (and, before that, `cdk synth`). */
const ruleSet = await loadRuleSet(config.rulesDir);
const processor = new SqsFifoPartialProcessorAsync();

/** One message of the events queue: parse it (a bad record fails alone), then store, evaluate and apply it. */
const processRecord = async (record: SQSRecord): Promise<void> => {
  const event = parsePayload(VehicleEvent, JSON.parse(record.body)) as VehicleEvent;
  const applied = await processEvent(event, ruleSet, ports, () => new Date());
  logger.debug("event applied", {
    eventId: event.id,
    vehicleId: event.vehicleId,
    type: event.type,
    firstDelivery: applied.firstDelivery,
    staleSignals: applied.staleSignals,
    firings: applied.firings.map((firing) => firing.id),
  });
};

/**
 * Consumes the events FIFO queue in batches. A failed record is reported in
 * batchItemFailures; later records of the same vehicle are failed with it so
 * their order holds, while other vehicles' records go on.
 */
export const handler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> =>
  processPartialResponse(event, processRecord, processor, { context, skipGroupOnError: true });
