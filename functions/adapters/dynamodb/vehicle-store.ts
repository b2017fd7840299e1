import {
  BatchGetCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
} from "@aws-sdk/lib-dynamodb";
import { SnapshotConflictError } from "#core/events/errors.ts";
import type { VehicleStore } from "#core/events/ports.ts";
import { emptySnapshot, type VehicleSnapshot } from "#core/model/snapshot.ts";
import type { Vehicle, VehicleId } from "#core/model/vehicle.ts";
import { isConditionFailed, StorageError } from "./errors.ts";
import { PROFILE_SK, SNAPSHOT_SK, VEHICLES_GSI1PK, vehiclePk } from "./table.ts";

/** Vehicle registrations and snapshots; snapshots are written with an optimistic version check. */
export class DynamoDbVehicleStore implements VehicleStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async loadVehicleState(vehicleId: VehicleId): Promise<{ vehicle: Vehicle | undefined; snapshot: VehicleSnapshot }> {
    const pk = vehiclePk(vehicleId);
    const result = await this.client.send(
      new BatchGetCommand({
        RequestItems: {
          [this.tableName]: {
            Keys: [
              { pk, sk: PROFILE_SK },
              { pk, sk: SNAPSHOT_SK },
            ],
            ConsistentRead: true,
          },
        },
      }),
    );
    if (Object.keys(result.UnprocessedKeys ?? {}).length > 0) {
      throw new StorageError(`could not read vehicle ${vehicleId}: the read was throttled`);
    }
    const items = result.Responses?.[this.tableName] ?? [];
    const profile = items.find((item) => item.sk === PROFILE_SK);
    const snapshot = items.find((item) => item.sk === SNAPSHOT_SK);
    return {
      vehicle: profile && (JSON.parse(profile.vehicle as string) as Vehicle),
      snapshot: snapshot
        ? { ...(JSON.parse(snapshot.snapshot as string) as VehicleSnapshot), version: snapshot.version as number }
        : emptySnapshot(vehicleId),
    };
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
        throw new SnapshotConflictError(`snapshot of ${snapshot.vehicleId} changed since version ${snapshot.version}`, {
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
          Item: {
            pk: vehiclePk(vehicle.id),
            sk: PROFILE_SK,
            gsi1pk: VEHICLES_GSI1PK,
            gsi1sk: vehicle.id,
            vehicle: JSON.stringify(vehicle),
          },
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
        KeyConditionExpression: "gsi1pk = :pk AND gsi1sk > :after",
        ExpressionAttributeValues: { ":pk": VEHICLES_GSI1PK, ":after": options.after ?? "" },
        Limit: options.limit,
      }),
    );
    return (result.Items ?? []).map((item) => JSON.parse(item.vehicle as string) as Vehicle);
  }
}
