import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
} from "@aws-sdk/lib-dynamodb";
import { StateConflictError } from "#core/events/errors.ts";
import type { VehicleState, VehicleStore } from "#core/events/ports.ts";
import { emptySnapshot, type VehicleSnapshot } from "#core/model/snapshot.ts";
import type { Vehicle, VehicleId } from "#core/model/vehicle.ts";
import type { RuleState } from "#core/rules/state.ts";
import { isConditionFailed, StorageError } from "./errors.ts";
import {
  PROFILE_SK,
  RULE_SK_PREFIX,
  ruleStateSk,
  SNAPSHOT_SK,
  timerGsi1pk,
  timerShardOf,
  VEHICLES_GSI1PK,
  vehiclePk,
} from "./table.ts";

/** Vehicle registrations and snapshots; snapshots are written with an optimistic version check. */
export class DynamoDbVehicleStore implements VehicleStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /** One strongly consistent query reads the registration, the rule states and the snapshot. */
  async loadVehicleState(vehicleId: VehicleId): Promise<VehicleState> {
    const items: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: "pk = :pk AND sk BETWEEN :first AND :last",
          ExpressionAttributeValues: { ":pk": vehiclePk(vehicleId), ":first": PROFILE_SK, ":last": SNAPSHOT_SK },
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      items.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start);
    const profile = items.find((item) => item.sk === PROFILE_SK);
    const snapshot = items.find((item) => item.sk === SNAPSHOT_SK);
    const ruleStates = new Map<string, RuleState>();
    for (const item of items) {
      if (!(item.sk as string).startsWith(RULE_SK_PREFIX)) continue;
      const state = JSON.parse(item.state as string) as RuleState;
      ruleStates.set(state.ruleId, state);
    }
    return {
      vehicle: profile && (JSON.parse(profile.vehicle as string) as Vehicle),
      snapshot: snapshot
        ? { ...(JSON.parse(snapshot.snapshot as string) as VehicleSnapshot), version: snapshot.version as number }
        : emptySnapshot(vehicleId),
      ruleStates,
    };
  }

  async saveRuleStates(states: readonly RuleState[]): Promise<void> {
    await Promise.all(states.map((state) => this.saveRuleState(state)));
  }

  private async saveRuleState(state: RuleState): Promise<void> {
    const first = state.version === 1;
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            pk: vehiclePk(state.vehicleId),
            sk: ruleStateSk(state.ruleId),
            version: state.version,
            state: JSON.stringify(state),
            ...(state.dueAt === null
              ? {}
              : {
                  gsi1pk: timerGsi1pk(timerShardOf(state.vehicleId)),
                  gsi1sk: `${state.dueAt}#${state.vehicleId}#${state.ruleId}`,
                }),
          },
          ConditionExpression: first ? "attribute_not_exists(pk)" : "version = :previous",
          ExpressionAttributeValues: first ? undefined : { ":previous": state.version - 1 },
        }),
      );
    } catch (error) {
      if (isConditionFailed(error)) {
        throw new StateConflictError(
          `rule ${state.ruleId} of ${state.vehicleId} changed since version ${state.version - 1}`,
          { cause: error },
        );
      }
      throw new StorageError(`could not store rule ${state.ruleId} of ${state.vehicleId}`, { cause: error });
    }
  }

  async saveSnapshot(snapshot: VehicleSnapshot): Promise<VehicleSnapshot> {
    const saved = { ...snapshot, version: snapshot.version + 1 };
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            pk: vehiclePk(snapshot.vehicleId),
            sk: SNAPSHOT_SK,
            version: saved.version,
            snapshot: JSON.stringify(saved),
          },
          ConditionExpression:
            snapshot.version === 0 ? "attribute_not_exists(pk)" : "attribute_exists(pk) AND version = :expected",
          ExpressionAttributeValues: snapshot.version === 0 ? undefined : { ":expected": snapshot.version },
        }),
      );
      return saved;
    } catch (error) {
      if (isConditionFailed(error)) {
        throw new StateConflictError(`snapshot of ${snapshot.vehicleId} changed since version ${snapshot.version}`, {
          cause: error,
        });
      }
      throw new StorageError(`could not store the snapshot of ${snapshot.vehicleId}`, { cause: error });
    }
  }

  async registerVehicle(vehicle: Vehicle): Promise<Vehicle> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: profileItem(vehicle),
          ConditionExpression: "attribute_not_exists(pk)",
        }),
      );
      return vehicle;
    } catch (error) {
      if (!isConditionFailed(error)) throw new StorageError(`could not register ${vehicle.id}`, { cause: error });
      const existing = await this.getVehicle(vehicle.id);
      if (existing === undefined) throw new StorageError(`vehicle ${vehicle.id} vanished while registering`);
      return existing;
    }
  }

  /** Stores a registration as given, replacing any (an operator's `dashlight vehicles add`). */
  async putVehicle(vehicle: Vehicle): Promise<void> {
    await this.client.send(
      new PutCommand({
        TableName: this.tableName,
        Item: profileItem(vehicle),
      }),
    );
  }

  /** Forgets the registration; the vehicle's events, firings and snapshot stay for history. */
  async removeVehicle(vehicleId: VehicleId): Promise<void> {
    await this.client.send(
      new DeleteCommand({ TableName: this.tableName, Key: { pk: vehiclePk(vehicleId), sk: PROFILE_SK } }),
    );
  }

  async getVehicle(vehicleId: VehicleId): Promise<Vehicle | undefined> {
    const result = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: { pk: vehiclePk(vehicleId), sk: PROFILE_SK },
        ConsistentRead: true,
      }),
    );
    return result.Item && (JSON.parse(result.Item.vehicle as string) as Vehicle);
  }

  async listVehicles(options: { limit: number; after?: string }): Promise<Vehicle[]> {
    const result = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: "gsi1",
        // DynamoDB refuses an empty string as a key-condition value: the first page has no sort-key bound.
        ...(options.after === undefined || options.after === ""
          ? { KeyConditionExpression: "gsi1pk = :pk", ExpressionAttributeValues: { ":pk": VEHICLES_GSI1PK } }
          : {
              KeyConditionExpression: "gsi1pk = :pk AND gsi1sk > :after",
              ExpressionAttributeValues: { ":pk": VEHICLES_GSI1PK, ":after": options.after },
            }),
        Limit: options.limit,
      }),
    );
    return (result.Items ?? []).map((item) => JSON.parse(item.vehicle as string) as Vehicle);
  }
}

/** A vehicle's registration item: under its own key, and listed in the VEHICLES index. */
const profileItem = (vehicle: Vehicle) => ({
  pk: vehiclePk(vehicle.id),
  sk: PROFILE_SK,
  gsi1pk: VEHICLES_GSI1PK,
  gsi1sk: vehicle.id,
  vehicle: JSON.stringify(vehicle),
});
