import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SQSClient } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { VehicleEvent } from "#core/model/event.ts";
import type { SignalSamples } from "#core/model/signals.ts";
import type { Firing } from "#core/rules/state.ts";
import { type LocalRuntime, startLocalRuntime } from "#local/runtime.ts";
import { sendEvents } from "#test/support/event-queue.ts";
import { getJson, queueDepth, RULES_DIR, startTestRuntime } from "#test/support/local-runtime.ts";
import { freshResourcePrefix, testEngineChoice } from "#test/support/test-engines.ts";

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

/** Event times close to now, so no firing counts as late (the default maximum delay is 5 minutes). */
const secondsAgo = (seconds: number, from = Date.now()) => new Date(from - seconds * 1000).toISOString();

let sequence = 0;
const signalsEvent = (vehicle: string, at: string, signals: SignalSamples): VehicleEvent => ({
  id: `evt_rules_${vehicle}_${++sequence}`,
  vehicleId: `smartcar:${vehicle}`,
  type: "signals",
  occurredAt: at,
  receivedAt: at,
  source: { provider: "smartcar" },
  data: {},
  signals,
});
const speed = (vehicle: string, at: string, kph: number) =>
  signalsEvent(vehicle, at, { speed_kph: { value: kph, observedAt: at } });

const firingsOf = async (vehicleId: string, target = runtime) =>
  ((await getJson(`${target.url}/vehicles/${encodeURIComponent(vehicleId)}/firings`)).body.firings ?? []) as Firing[];

type OutboxEntry = { channel: string; actionId: string; vehicleId: string; to?: string };
const outboxOf = async (vehicleId: string) =>
  ((await getJson(`${runtime.url}/outbox?limit=500`)).body.entries as OutboxEntry[]).filter(
    (entry) => entry.vehicleId === vehicleId,
  );

/** Waits until the events queue is empty (every event processed or dead-lettered). */
const settled = async (target = runtime) =>
  vi.waitFor(async () => expect(await queueDepth(target, target.provisioned.eventsQueue.url)).toBe(0), {
    timeout: 15_000,
    interval: 100,
  });

describe("rules evaluated by the event consumer", () => {
  it("fires speeding once after 10 s above 120 km/h, stores the explanation and enqueues one SMS", async () => {
    const start = Date.now();
    await sendEvents(sqs, runtime.provisioned.eventsQueue.url, [
      speed("speedy", secondsAgo(30, start), 125),
      speed("speedy", secondsAgo(25, start), 131),
      speed("speedy", secondsAgo(18, start), 128),
      speed("speedy", secondsAgo(15, start), 126),
    ]);
    await settled();
    const firings = await firingsOf("smartcar:speedy");
    expect(firings.map((firing) => [firing.ruleId, firing.kind, firing.status, firing.at])).toStrictEqual([
      // In event time the episode opens when the 10 s elapsed, not at the sample that showed it.
      ["speeding", "fired", "actioned", secondsAgo(20, start)],
    ]);
    const stored = await getJson(`${runtime.url}/firings/${encodeURIComponent(firings[0]?.id ?? "")}`);
    expect(stored.status).toBe(200);
    const explanation = (stored.body.firing as Firing).explanation;
    expect(explanation.outcome).toBe("fired");
    expect(explanation.actioned).toBe(true);
    // The value in force at the deadline: the -25 s sample (131), the -18 s one came after it.
    expect(explanation.triggers[0]).toMatchObject({ value: 131, threshold: 120, since: secondsAgo(30, start) });

    // The dispatcher (outbox transport locally) performed the rule's one SMS action, to its one recipient.
    await vi.waitFor(async () => expect(await outboxOf("smartcar:speedy")).toHaveLength(1), { timeout: 10_000 });
    expect((await outboxOf("smartcar:speedy")).map((entry) => [entry.channel, entry.actionId, entry.to])).toStrictEqual(
      [["sms", `${firings[0]?.id}/0`, "+15555550100"]],
    );
  });

  it("resets the for-duration on a contrary sample, then fires from the durable timer at the deadline", async () => {
    const start = Date.now();
    await sendEvents(sqs, runtime.provisioned.eventsQueue.url, [
      speed("timer", secondsAgo(40, start), 130),
      speed("timer", secondsAgo(35, start), 100),
      speed("timer", secondsAgo(20, start), 130),
    ]);
    await settled();
    expect(await firingsOf("smartcar:timer")).toStrictEqual([]);

    await runtime.tick();
    const firings = await firingsOf("smartcar:timer");
    expect(firings.map((firing) => [firing.ruleId, firing.cause, firing.at])).toStrictEqual([
      ["speeding", "timer", secondsAgo(10, start)],
    ]);
    await runtime.tick();
    expect(await firingsOf("smartcar:timer")).toHaveLength(1);
  });

  it("produces each firing and action exactly once when the same event is delivered twice", async () => {
    const start = Date.now();
    const events = [speed("twice", secondsAgo(30, start), 140), speed("twice", secondsAgo(15, start), 141)];
    await sendEvents(sqs, runtime.provisioned.eventsQueue.url, events, 1);
    await settled();
    await sendEvents(sqs, runtime.provisioned.eventsQueue.url, events, 2);
    await settled();
    expect((await firingsOf("smartcar:twice")).map((firing) => firing.kind)).toStrictEqual(["fired"]);
    // The redelivery enqueues the same action id again; the dispatcher performs each id once.
    await vi.waitFor(async () => expect(await outboxOf("smartcar:twice")).toHaveLength(1), { timeout: 10_000 });
    await vi.waitFor(async () => expect(await queueDepth(runtime, runtime.provisioned.actionsQueue.url)).toBe(0), {
      timeout: 10_000,
    });
    expect(await outboxOf("smartcar:twice")).toHaveLength(1);
  });

  it("keeps rule state when an older sample arrives after a newer one", async () => {
    const start = Date.now();
    await sendEvents(sqs, runtime.provisioned.eventsQueue.url, [
      speed("late", secondsAgo(30, start), 90),
      speed("late", secondsAgo(40, start), 150),
      speed("late", secondsAgo(10, start), 95),
    ]);
    await settled();
    await runtime.tick();
    expect(await firingsOf("smartcar:late")).toStrictEqual([]);
    const vehicle = await getJson(`${runtime.url}/vehicles/${encodeURIComponent("smartcar:late")}`);
    expect((vehicle.body.snapshot as { signals: SignalSamples }).signals.speed_kph?.value).toBe(95);
  });
});

describe("durable timers", () => {
  it("loses no timer across a restart of the local runtime", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "dashlight-restart-"));
    const options = {
      port: 0,
      // The same data folder, or the same names in moto, for both runs.
      engines: testEngineChoice({ dataDir, resourcePrefix: freshResourcePrefix() }),
      automaticWebhookSecret: "secret",
      smartcarManagementToken: "token",
      rawRetentionDays: 30,
      rulesDir: RULES_DIR,
      eventsQueue: { visibilityTimeoutSeconds: 1, maxReceiveCount: 2, batchSize: 10, concurrency: 1 },
      standardQueues: { visibilityTimeoutSeconds: 1, maxReceiveCount: 2 },
      runDispatcher: true,
      webhookSigningSecret: "test-webhook-signing-secret",
      tickIntervalMs: undefined,
    };
    try {
      const first = await startLocalRuntime(options);
      const firstSqs = new SQSClient({ endpoint: first.endpoints.sqs });
      const start = Date.now();
      await sendEvents(firstSqs, first.provisioned.eventsQueue.url, [speed("restart", secondsAgo(5, start), 133)]);
      await settled(first);
      firstSqs.destroy();
      await first.stop();

      await new Promise((resolve) => setTimeout(resolve, 6_000)); // past the 10 s deadline
      const second = await startLocalRuntime(options);
      try {
        expect(await second.tick()).toStrictEqual({ vehicles: 1, firings: 1 });
        expect((await firingsOf("smartcar:restart", second)).map((firing) => [firing.cause, firing.at])).toStrictEqual([
          ["timer", secondsAgo(-5, start)],
        ]);
      } finally {
        await second.stop();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});
