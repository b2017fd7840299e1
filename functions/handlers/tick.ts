import { createDocumentClient, createSqsClient } from "#adapters/aws-clients.ts";
import { DynamoDbDueTimerIndex } from "#adapters/dynamodb/due-timer-index.ts";
import { DynamoDbFiringStore } from "#adapters/dynamodb/firing-store.ts";
import { DynamoDbVehicleStore } from "#adapters/dynamodb/vehicle-store.ts";
import { SqsActionQueue } from "#adapters/sqs/action-queue.ts";
import { tickDueVehicles } from "#core/events/tick-vehicles.ts";
import { loadRuleSet } from "#core/rules/load.ts";
import { logger } from "#shared/logger.ts";
import { evaluationConfigFromEnv } from "#shared/runtime-config.ts";

const config = evaluationConfigFromEnv();
const documentClient = createDocumentClient(config.endpoints);
const ports = {
  timers: new DynamoDbDueTimerIndex(documentClient, config.tableName),
  vehicles: new DynamoDbVehicleStore(documentClient, config.tableName),
  firings: new DynamoDbFiringStore(documentClient, config.tableName),
  actions: new SqsActionQueue(createSqsClient(config.endpoints), config.actionsQueueUrl),
};
const ruleSet = await loadRuleSet(config.rulesDir);

export class TickFailedError extends AggregateError {
  override name = "TickFailedError";
}

/**
 * Every minute (EventBridge Scheduler): fires due timers. Vehicles that fail are
 * reported and stay due; the invocation fails so the failure shows in metrics.
 */
export const handler = async (): Promise<{ vehicles: number; firings: number }> => {
  const report = await tickDueVehicles(ruleSet, ports, new Date());
  logger.info("tick", {
    vehicles: report.vehicles,
    firings: report.firings.map((firing) => firing.id),
    failed: report.failures.map((failure) => failure.vehicleId),
  });
  if (report.failures.length > 0) {
    throw new TickFailedError(
      report.failures.map((failure) => failure.error),
      `tick failed for ${report.failures.length} of ${report.vehicles} vehicle(s)`,
    );
  }
  return { vehicles: report.vehicles, firings: report.firings.length };
};
