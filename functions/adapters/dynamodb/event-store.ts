import { type DynamoDBDocumentClient, PutCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import type { EventStore } from "#core/events/ports.ts";
import type { VehicleEvent } from "#core/model/event.ts";
import { isConditionFailed, StorageError } from "./errors.ts";
import { EVENT_SK_PREFIX, eventSk, vehiclePk } from "./table.ts";

/** Events by vehicle and event time. The event is kept as JSON text: exactly what was enqueued. */
export class DynamoDbEventStore implements EventStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async putEvent(event: VehicleEvent): Promise<"stored" | "duplicate"> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            pk: vehiclePk(event.vehicleId),
            sk: eventSk(event.occurredAt, event.id),
            type: event.type,
            occurredAt: event.occurredAt,
            event: JSON.stringify(event),
          },
          ConditionExpression: "attribute_not_exists(pk)",
        }),
      );
      return "stored";
    } catch (error) {
      if (isConditionFailed(error)) return "duplicate";
      throw new StorageError(`could not store event ${event.id}`, { cause: error });
    }
  }

  /** A vehicle's events, newest first, optionally only those at or after `since`. */
  async listEvents(vehicleId: string, options: { since?: string; limit: number }): Promise<VehicleEvent[]> {
    const lower = `${EVENT_SK_PREFIX}${options.since ?? ""}`;
    const result = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: "pk = :pk AND sk BETWEEN :lower AND :upper",
        ExpressionAttributeValues: {
          ":pk": vehiclePk(vehicleId),
          ":lower": lower,
          ":upper": `${EVENT_SK_PREFIX}\uffff`,
        },
        ScanIndexForward: false,
        Limit: options.limit,
      }),
    );
    return (result.Items ?? []).map((item) => JSON.parse(item.event as string) as VehicleEvent);
  }

  /**
   * A vehicle's events with `from` ≤ occurredAt < `to`, oldest first, every page read.
   * Bounds are canonical ISO instants (`toISOString()`), the form the sort key holds;
   * an event at exactly `to` sorts after `EVENT#<to>` (its `#<id>` suffix) and is left out.
   */
  async listEventsBetween(vehicleId: string, window: { from: string; to: string }): Promise<VehicleEvent[]> {
    const events: VehicleEvent[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: "pk = :pk AND sk BETWEEN :lower AND :upper",
          ExpressionAttributeValues: {
            ":pk": vehiclePk(vehicleId),
            ":lower": `${EVENT_SK_PREFIX}${window.from}`,
            ":upper": `${EVENT_SK_PREFIX}${window.to}`,
          },
          ScanIndexForward: true,
          ExclusiveStartKey: start,
        }),
      );
      for (const item of page.Items ?? []) events.push(JSON.parse(item.event as string) as VehicleEvent);
      start = page.LastEvaluatedKey;
    } while (start);
    return events;
  }
}
