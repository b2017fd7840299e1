import { ReceiveMessageCommand, SendMessageBatchCommand, SQSClient } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { VehicleEvent } from "#core/model/event.ts";
import type { LocalRuntime } from "#local/runtime.ts";
import { getJson, queueDepth, startTestRuntime } from "#test/support/local-runtime.ts";

let runtime: LocalRuntime;
let sqs: SQSClient;
beforeAll(async () => {
  runtime = await startTestRuntime();
  sqs = new SQSClient({ endpoint: runtime.endpoints.sqs });
});
afterAll(async () => {
  sqs?.destroy();
  await runtime?.stop();
});

const ignitionOn = (vehicle: string, at: string): VehicleEvent => ({
  id: `evt_${vehicle}`,
  vehicleId: `automatic:${vehicle}`,
  type: "ignition.on",
  occurredAt: at,
  receivedAt: at,
  source: { provider: "automatic" },
  data: {},
  signals: { ignition_on: { value: true, observedAt: at } },
});

describe("the events queue consumer", () => {
  it("loses no other record when one record of a batch fails, and dead-letters the failing one", async () => {
    const good = ["C_batch_a", "C_batch_b", "C_batch_c"].map((vehicle) =>
      ignitionOn(vehicle, "2026-11-22T08:00:00.000Z"),
    );
    const poison = { ...ignitionOn("C_batch_poison", "2026-11-22T08:00:00.000Z"), type: "teleported" };
    const entries = [good[0], poison, good[1], good[2]].map((event, index) => ({
      Id: String(index),
      MessageBody: JSON.stringify(event),
      MessageGroupId: event?.vehicleId,
      MessageDeduplicationId: `${event?.id}-batch`,
    }));
    const sent = await sqs.send(
      new SendMessageBatchCommand({ QueueUrl: runtime.provisioned.eventsQueue.url, Entries: entries }),
    );
    expect(sent.Failed ?? []).toStrictEqual([]);

    for (const event of good) {
      await vi.waitFor(
        async () => {
          const response = await getJson(`${runtime.url}/vehicles/${encodeURIComponent(event.vehicleId)}`);
          expect((response.body.snapshot as { signals: unknown } | undefined)?.signals).toStrictEqual(event.signals);
        },
        { timeout: 10_000 },
      );
    }
    await vi.waitFor(async () => expect(await queueDepth(runtime, runtime.provisioned.eventsQueue.dlqUrl)).toBe(1), {
      timeout: 15_000,
      interval: 250,
    });
    expect(await queueDepth(runtime, runtime.provisioned.eventsQueue.url)).toBe(0);
    const dead = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: runtime.provisioned.eventsQueue.dlqUrl, MaxNumberOfMessages: 10 }),
    );
    expect((dead.Messages ?? []).map((message) => JSON.parse(message.Body ?? "{}").vehicleId)).toStrictEqual([
      "automatic:C_batch_poison",
    ]);
    const poisonVehicle = await getJson(`${runtime.url}/vehicles/${encodeURIComponent("automatic:C_batch_poison")}`);
    expect(poisonVehicle.status).toBe(404);
  });
});
