import { describe, expect, it } from "vitest";
import { DynamoDbVehicleStore } from "#adapters/dynamodb/vehicle-store.ts";
import type { Vehicle } from "#core/model/vehicle.ts";
import { useLocalTables } from "#test/support/local-tables.ts";

const freshTable = useLocalTables("vehicles");

const vehicle = (id: string): Vehicle => ({
  id,
  provider: "dimo",
  providerVehicleId: id.split(":")[1] ?? id,
  displayName: `Van ${id}`,
  tags: ["fleet"],
  timeZone: "Europe/Berlin",
  contacts: [],
  createdAt: "2026-12-01T10:00:00.000Z",
});

describe("DynamoDbVehicleStore.listVehicles", () => {
  it("lists the first page with no bound (DynamoDB refuses an empty key-condition value) and the next after the last id", async () => {
    const { client, tableName } = await freshTable();
    const store = new DynamoDbVehicleStore(client, tableName);
    for (const id of ["dimo:3", "dimo:1", "dimo:2"]) await store.putVehicle(vehicle(id));

    expect((await store.listVehicles({ limit: 2 })).map((listed) => listed.id)).toStrictEqual(["dimo:1", "dimo:2"]);
    expect((await store.listVehicles({ limit: 2, after: "dimo:2" })).map((listed) => listed.id)).toStrictEqual([
      "dimo:3",
    ]);
    expect(await store.listVehicles({ limit: 2, after: "" })).toStrictEqual([vehicle("dimo:1"), vehicle("dimo:2")]);
  });
});
