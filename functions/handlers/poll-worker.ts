import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import * as z from "zod";
import { createDocumentClient, createSqsClient } from "#adapters/aws-clients.ts";
import { DynamoDbPollRegistry } from "#adapters/dynamodb/poll-registry.ts";
import { DynamoDbVehicleStore } from "#adapters/dynamodb/vehicle-store.ts";
import { providerClientsFromEnv } from "#adapters/providers/clients.ts";
import { SqsEventQueue } from "#adapters/sqs/event-queue.ts";
import { parsePayload } from "#core/ingest/errors.ts";
import { VehicleId } from "#core/model/vehicle.ts";
import { DEFAULT_POLL_SETTINGS } from "#core/polling/poll-policy.ts";
import { pollVehicle } from "#core/polling/poll-vehicle.ts";
import { logger } from "#shared/logger.ts";
import { pollWorkerConfigFromEnv } from "#shared/runtime-config.ts";

const config = pollWorkerConfigFromEnv();
const documentClient = createDocumentClient(config.endpoints);
const ports = {
  registry: new DynamoDbPollRegistry(documentClient, config.tableName),
  snapshots: new DynamoDbVehicleStore(documentClient, config.tableName),
  clients: await providerClientsFromEnv(config),
  events: new SqsEventQueue(createSqsClient(config.endpoints), config.eventsQueueUrl),
};
const processor = new BatchProcessor(EventType.SQS);
const PollJob = z.object({ vehicleId: VehicleId });

/** One poll job; a provider failure is recorded on the vehicle (stale, backoff), never a failed record. */
const pollRecord = async (record: SQSRecord): Promise<void> => {
  const { vehicleId } = parsePayload(PollJob, JSON.parse(record.body));
  const outcome = await pollVehicle(vehicleId, ports, (provider) => DEFAULT_POLL_SETTINGS[provider], new Date());
  if (outcome.result === "failed") logger.warn("poll failed", outcome);
  else logger.debug("poll", outcome);
};

/** Consumes the poll jobs queue; each job polls one vehicle. */
export const handler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> =>
  processPartialResponse(event, pollRecord, processor, { context });
