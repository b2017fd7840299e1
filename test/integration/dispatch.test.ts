import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { DeleteMessageCommand, ReceiveMessageCommand, SendMessageBatchCommand, SQSClient } from "@aws-sdk/client-sqs";
import type { APIGatewayProxyEventV2, Context, SQSEvent } from "aws-lambda";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createDocumentClient } from "#adapters/aws-clients.ts";
import { createDispatcher } from "#adapters/dispatcher.ts";
import { DynamoDbVehicleStore } from "#adapters/dynamodb/vehicle-store.ts";
import { HttpWebhookChannel } from "#adapters/notify/http-webhook.ts";
import { SqsDeadLetterQueue } from "#adapters/sqs/dead-letter-queue.ts";
import type { DispatchDeps } from "#core/dispatch/dispatch-action.ts";
import type { CommandClients, Envelope } from "#core/dispatch/ports.ts";
import { redriveActions } from "#core/dispatch/redrive.ts";
import type { Vehicle } from "#core/model/vehicle.ts";
import type { Action } from "#core/rules/state.ts";
import { lambdaContext } from "#local/lambda-context.ts";
import { type QueuePoller, type SqsHandler, startQueuePoller } from "#local/queue-poller.ts";
import type { LocalRuntime } from "#local/runtime.ts";
import { dispatchConfigFromEnv } from "#shared/dispatch-config.ts";
import { FakeCommandClient, RecordingChannels, sampleActions, snapshotOf } from "#test/support/dispatch-doubles.ts";
import { queueDepth, scanTable, startTestRuntime } from "#test/support/local-runtime.ts";

/**
 * The dispatcher on the local engines (dynalite, fauxqs) under the local
 * runtime's queue poller, which has Lambda's batch semantics. The runtime is
 * started without its own dispatcher, so each test starts a poller on the actions
 * queue with a dispatcher built by the handler's own composition
 * (createDispatcher) and test doubles for the side effects it counts; the
 * first test imports the real handler module instead.
 */
let runtime: LocalRuntime;
let sqs: SQSClient;
let dispatchEnv: NodeJS.ProcessEnv;
type ApiHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<{ statusCode: number; body: string }>;
let api: ApiHandler;

beforeAll(async () => {
  runtime = await startTestRuntime(undefined, { runDispatcher: false });
  sqs = new SQSClient({ endpoint: runtime.endpoints.sqs });
  dispatchEnv = {
    ...runtime.env,
    DASHLIGHT_MODE: "local",
    DASHLIGHT_WEBHOOK_SIGNING_SECRET: "whsec_integration",
    DASHLIGHT_COMMANDS_PER_HOUR: "2",
  };
  Object.assign(process.env, dispatchEnv);
  api = ((await import("#handlers/dispatch-api.ts")) as unknown as { handler: ApiHandler }).handler;
});
afterAll(async () => {
  sqs?.destroy();
  await runtime?.stop();
});

const get = async (routeKey: string, pathParameters: Record<string, string> = {}) => {
  const response = await api(
    { routeKey, pathParameters, queryStringParameters: { limit: "100" } } as unknown as APIGatewayProxyEventV2,
    lambdaContext("dispatch-api"),
  );
  return { status: response.statusCode, body: JSON.parse(response.body) as Record<string, unknown[]> };
};

const send = async (bodies: string[]) => {
  const sent = await sqs.send(
    new SendMessageBatchCommand({
      QueueUrl: runtime.provisioned.actionsQueue.url,
      Entries: bodies.map((body, index) => ({ Id: String(index), MessageBody: body })),
    }),
  );
  expect(sent.Failed ?? []).toStrictEqual([]);
};

const poll = (handler: SqsHandler): QueuePoller =>
  startQueuePoller({
    sqs,
    queueUrl: runtime.provisioned.actionsQueue.url,
    queueArn: runtime.provisioned.actionsQueue.arn,
    functionName: "dispatch-actions",
    handler,
    batchSize: 10,
    concurrency: 2,
    region: "us-east-1",
  });

/** Runs `body` with a poller on the actions queue, stopped even when an assertion fails. */
const polling = async (handler: SqsHandler, body: () => Promise<void>) => {
  const poller = poll(handler);
  try {
    await body();
  } finally {
    await poller.stop();
  }
};

const drained = async (url = runtime.provisioned.actionsQueue.url) =>
  vi.waitFor(async () => expect(await queueDepth(runtime, url)).toBe(0), { timeout: 15_000, interval: 200 });

const dispatcher = async (commands: CommandClients = new Map(), overrides: Partial<DispatchDeps> = {}) =>
  createDispatcher(await dispatchConfigFromEnv(dispatchEnv), commands, { sleep: async () => undefined, ...overrides });

const vehicles = () => new DynamoDbVehicleStore(createDocumentClient(runtime.endpoints), runtime.provisioned.tableName);
const registerCar = async (providerVehicleId: string, speedKph: number) => {
  const id = `smartcar:${providerVehicleId}` as Vehicle["id"];
  const store = vehicles();
  await store.registerVehicle({
    id,
    provider: "smartcar",
    providerVehicleId,
    displayName: "Blue Leaf",
    tags: [],
    timeZone: "Europe/Paris",
    contacts: [],
    createdAt: new Date().toISOString(),
  });
  const observedAt = new Date(Date.now() - 5_000).toISOString();
  await store.saveSnapshot({ ...snapshotOf(id, { speed_kph: { value: speedKph, observedAt } }), version: 0 });
  return id;
};

const smsTo = (id: string, text = "Blue Leaf is at 18%."): Action =>
  sampleActions.sms({ id, to: [{ name: "Alex", address: "+15555550100" }], message: text } as never);

describe("the dispatch-actions handler as deployed", () => {
  it("keeps an SMS in the outbox once, however often it is delivered, and lists it at GET /outbox", async () => {
    const handler = ((await import("#handlers/dispatch-actions.ts")) as { handler: SqsHandler }).handler;
    const action = smsTo("wired/sms/0");
    await send([JSON.stringify(action), JSON.stringify(action), JSON.stringify(action)]);
    await polling(handler, async () => {
      await drained();
    });
    const outbox = await get("GET /outbox");
    expect(outbox.status).toBe(200);
    expect(
      (outbox.body.entries as { deliveryId: string }[]).filter((entry) => entry.deliveryId.startsWith("wired/")),
    ).toStrictEqual([
      {
        deliveryId: "wired/sms/0/to/0",
        actionId: "wired/sms/0",
        ruleId: "low-charge",
        vehicleId: "smartcar:veh_1",
        episode: 3,
        id: "outbox:wired/sms/0/to/0",
        createdAt: expect.any(String),
        channel: "sms",
        to: "+15555550100",
        text: "Blue Leaf is at 18%.",
      },
    ]);
    expect(await queueDepth(runtime, runtime.provisioned.actionsQueue.dlqUrl)).toBe(0);
    // The claim: a Powertools idempotency record, its hashed key in the table's partition key.
    const claims = (await scanTable(runtime)).filter((item) => (item.sk as { S: string }).S === "CLAIM");
    expect(claims.length).toBeGreaterThanOrEqual(1);
    for (const claim of claims) {
      expect((claim.pk as { S: string }).S).toMatch(/^ACTION#[A-Za-z0-9+/]{22}==$/);
      expect((claim.status as { S: string }).S).toBe("COMPLETED");
      expect(claim.data).toMatchObject({ M: { deliveryId: { S: "wired/sms/0/to/0" }, status: { S: "sent" } } });
    }
  });
});

describe("exactly once", () => {
  it("performs one side effect for an action delivered 3 times, even in the same batch", async () => {
    const channels = new RecordingChannels();
    const { consumer } = await dispatcher(new Map(), { sms: channels.smsChannel });
    const action = smsTo("thrice/sms/0");
    await send([JSON.stringify(action), JSON.stringify(action)]);
    await polling(consumer, async () => {
      await drained();
      await send([JSON.stringify(action)]);
      await drained();
    });
    expect(channels.sms.map((sms) => sms.envelope.deliveryId)).toStrictEqual(["thrice/sms/0/to/0"]);
    expect(await queueDepth(runtime, runtime.provisioned.actionsQueue.dlqUrl)).toBe(0);
  });

  it("retries an attempt that died between claim and side effect once its claim expired, sending once", async () => {
    const sentAt: number[] = [];
    let calls = 0;
    const sms = {
      transport: "sns" as const,
      sendSms: async (_envelope: Envelope) => {
        calls++;
        // The first attempt dies here, after its claim and before the side effect: it never returns.
        if (calls === 1) return new Promise<never>(() => undefined);
        sentAt.push(Date.now());
        return { messageId: `sms-${calls}` };
      },
    };
    const { consumer } = await dispatcher(new Map(), { sms });
    const action = smsTo("crash/sms/0");
    await send([JSON.stringify(action)]);
    const received = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: runtime.provisioned.actionsQueue.url, WaitTimeSeconds: 2 }),
    );
    const message = received.Messages?.[0];
    const record = {
      messageId: message?.MessageId ?? "",
      receiptHandle: message?.ReceiptHandle ?? "",
      body: message?.Body ?? "",
      attributes: { ApproximateReceiveCount: "1" },
      messageAttributes: {},
      eventSource: "aws:sqs",
    } as unknown as SQSEvent["Records"][number];
    // The invocation's deadline is 400 ms away: its claim expires then (the queue redelivers after 1 s).
    const claimedAt = Date.now();
    void consumer({ Records: [record] }, lambdaContext("dispatch-actions", 400));
    await vi.waitFor(() => expect(calls).toBe(1));
    // While the claim holds, another delivery of the same action is turned away without a side effect.
    const early = await consumer({ Records: [{ ...record, messageId: "early" }] }, lambdaContext("dispatch-actions"));
    expect(early.batchItemFailures).toStrictEqual([{ itemIdentifier: "early" }]);
    expect(sentAt).toStrictEqual([]);

    await polling(consumer, async () => {
      await drained();
    });
    expect(sentAt).toHaveLength(1);
    expect((sentAt[0] ?? 0) - claimedAt).toBeGreaterThanOrEqual(400);
    expect(calls).toBe(2);
    expect(await queueDepth(runtime, runtime.provisioned.actionsQueue.dlqUrl)).toBe(0);
  });
});

describe("failures", () => {
  let hook: Server;
  let hookUrl: string;
  let hookStatus = 503;
  const hookHits: string[] = [];
  beforeAll(async () => {
    hook = createServer((request, response) => {
      request.resume();
      request.on("end", () => {
        hookHits.push(String(request.headers["x-dashlight-delivery"]));
        response.writeHead(hookStatus).end();
      });
    });
    await new Promise<void>((resolve) => hook.listen(0, "127.0.0.1", () => resolve()));
    hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`;
  });
  afterAll(async () => {
    hook.closeAllConnections();
    await new Promise<void>((resolve) => hook.close(() => resolve()));
  });

  it("sends a poison action to the DLQ while the rest of its batch is delivered once each", async () => {
    const channels = new RecordingChannels();
    const { consumer } = await dispatcher(new Map(), { sms: channels.smsChannel });
    const good = ["a", "b", "c"].map((name) => JSON.stringify(smsTo(`poison-batch/${name}/0`)));
    await send([good[0] ?? "", '{"type":"sms","id":"poison"', good[1] ?? "", good[2] ?? ""]);
    await polling(consumer, async () => {
      await vi.waitFor(async () => expect(await queueDepth(runtime, runtime.provisioned.actionsQueue.dlqUrl)).toBe(1), {
        timeout: 15_000,
        interval: 200,
      });
      await drained();
    });
    expect(channels.sms.map((sms) => sms.envelope.actionId).sort()).toStrictEqual([
      "poison-batch/a/0",
      "poison-batch/b/0",
      "poison-batch/c/0",
    ]);
    const dead = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: runtime.provisioned.actionsQueue.dlqUrl, VisibilityTimeout: 0 }),
    );
    expect(dead.Messages?.map((message) => message.Body)).toStrictEqual(['{"type":"sms","id":"poison"']);
    // Clear it so the next test's DLQ count starts from zero.
    await sqs.send(
      new DeleteMessageCommand({
        QueueUrl: runtime.provisioned.actionsQueue.dlqUrl,
        ReceiptHandle: dead.Messages?.[0]?.ReceiptHandle,
      }),
    );
  });

  it("dead-letters an action that keeps failing transiently, and a redrive after the fix delivers it once", async () => {
    const { consumer } = await dispatcher(new Map(), { webhook: new HttpWebhookChannel("local") });
    const action = sampleActions.webhook({ id: "outage/hook/1", url: hookUrl } as never);
    await send([JSON.stringify(action)]);
    await polling(consumer, async () => {
      await vi.waitFor(async () => expect(await queueDepth(runtime, runtime.provisioned.actionsQueue.dlqUrl)).toBe(1), {
        timeout: 15_000,
        interval: 200,
      });
      // 2 receives (the queue's maxReceiveCount) × 3 attempts each.
      expect(hookHits.filter((id) => id === "outage/hook/1")).toHaveLength(6);
      hookStatus = 200;
      const { moved } = await redriveActions(
        new SqsDeadLetterQueue(sqs, {
          dlqUrl: runtime.provisioned.actionsQueue.dlqUrl,
          queueUrl: runtime.provisioned.actionsQueue.url,
        }),
      );
      expect(moved).toBe(1);
      await drained();
      await send([JSON.stringify(action)]);
      await drained();
    });
    expect(hookHits.filter((id) => id === "outage/hook/1")).toHaveLength(7);
    expect(await queueDepth(runtime, runtime.provisioned.actionsQueue.dlqUrl)).toBe(0);
  });
});

describe("vehicle commands", () => {
  it("refuses an unlock while the car moves and audits the refusal", async () => {
    const vehicleId = await registerCar("moving_car", 48);
    const client = new FakeCommandClient("smartcar");
    const { consumer } = await dispatcher(new Map([["smartcar", client]]));
    const action = sampleActions.command({ id: "unsafe/unlock/0", vehicleId } as never);
    await send([JSON.stringify(action)]);
    await polling(consumer, async () => {
      await drained();
    });
    expect(client.sent).toStrictEqual([]);
    const trail = await get("GET /vehicles/{id}/commands", { id: vehicleId });
    expect(trail.status).toBe(200);
    expect(trail.body.commands).toStrictEqual([
      {
        actionId: "unsafe/unlock/0",
        vehicleId,
        ruleId: "left-unlocked",
        firingId: "left-unlocked/smartcar:veh_1/2/fire",
        episode: 2,
        phase: "fire",
        command: "unlock",
        params: {},
        at: "2026-05-01T08:00:00.000Z",
        decidedAt: expect.any(String),
        outcome: "refused",
        reason: expect.stringMatching(/^vehicle is moving: 48 km\/h at /),
      },
    ]);
  });

  it("refuses the command past the per-vehicle limit (2 per hour here), even when they race", async () => {
    const vehicleId = await registerCar("busy_car", 0);
    const client = new FakeCommandClient("smartcar");
    const { consumer } = await dispatcher(new Map([["smartcar", client]]));
    const actions = [1, 2, 3].map((episode) =>
      sampleActions.command({
        id: `limit/${episode}/0`,
        vehicleId,
        command: "lock",
        preconditions: { stationary: false },
        at: `2026-05-01T08:0${episode}:00.000Z`,
      } as never),
    );
    await send(actions.map((action) => JSON.stringify(action)));
    await polling(consumer, async () => {
      await drained();
    });
    expect(client.sent).toHaveLength(2);
    const trail = await get("GET /vehicles/{id}/commands", { id: vehicleId });
    const outcomes = (trail.body.commands as { outcome: string; reason?: string; confirmed?: boolean }[]).map(
      (entry) => [entry.outcome, entry.reason ?? null, entry.confirmed ?? null],
    );
    expect(outcomes.sort()).toStrictEqual([
      ["refused", "rate limit: 2 commands per 60 minutes already sent to this vehicle", null],
      ["sent", null, true],
      ["sent", null, true],
    ]);
  });

  it("answers 404 for the commands of an unknown vehicle", async () => {
    expect((await get("GET /vehicles/{id}/commands", { id: "smartcar:nobody" })).status).toBe(404);
  });
});
