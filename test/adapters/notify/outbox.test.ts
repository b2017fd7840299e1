import { describe, expect, it } from "vitest";
import { DynamoDbOutbox } from "#adapters/notify/outbox.ts";
import { useLocalTables } from "#test/support/local-tables.ts";

const freshTable = useLocalTables("outbox");

const envelope = (n: number) => ({
  deliveryId: `act-${n}`,
  actionId: `act-${n}`,
  ruleId: "speeding",
  vehicleId: "dimo:7",
  episode: 1,
});

describe("DynamoDbOutbox.list", () => {
  it("lists every entry newest first without `since` (no empty key-condition value), and from `since` on with it", async () => {
    const { client, tableName } = await freshTable();
    const times = ["2026-12-01T10:00:00.000Z", "2026-12-01T11:00:00.000Z", "2026-12-01T12:00:00.000Z"];
    for (const [n, at] of times.entries()) {
      const outbox = new DynamoDbOutbox(client, tableName, { now: () => new Date(at) });
      await outbox.sendSms(envelope(n), { to: "+14155550100", text: `message ${n}` });
    }
    const outbox = new DynamoDbOutbox(client, tableName);

    expect(
      (await outbox.list({ limit: 10 })).map((entry) => [entry.createdAt, entry.channel === "sms" && entry.text]),
    ).toStrictEqual([
      ["2026-12-01T12:00:00.000Z", "message 2"],
      ["2026-12-01T11:00:00.000Z", "message 1"],
      ["2026-12-01T10:00:00.000Z", "message 0"],
    ]);
    expect(
      (await outbox.list({ limit: 10, since: "2026-12-01T11:00:00.000Z" })).map(
        (entry) => entry.channel === "sms" && entry.text,
      ),
    ).toStrictEqual(["message 2", "message 1"]);
  });
});
