import { type CfnElement, Stack } from "aws-cdk-lib";
import type { IQueue } from "aws-cdk-lib/aws-sqs";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { Firing } from "#core/rules/state.ts";
import { startDemo } from "#local/demo.ts";
import { type DemoProviders, nightTimeZone, registerDemoFleet, startDemoProviders } from "#local/demo-fleet.ts";
import type { LocalRuntime } from "#local/runtime.ts";
import { OUTSIDE_FUNCTIONS, type RecordedAwsCall, recordAwsCalls } from "#test/support/aws-call-recorder.ts";
import {
  type IamRequest,
  iamRequestsOf,
  isAllowed,
  type ResourceMap,
  TemplateResolver,
} from "#test/support/iam-policy-check.ts";
import { getJson, startTestRuntime, TEST_AUTOMATIC_SECRET } from "#test/support/local-runtime.ts";
import { statementsOf, synthDashlight } from "./support.ts";

/**
 * Least privilege, checked against use: the demo fleet drives every function of the local runtime (webhooks, Connect,
 * polls, rules, timers, dispatch, the read APIs) while every AWS SDK call is recorded with the function that made it.
 * Each call is then evaluated by an offline IAM policy simulator against that function's synthesized policy, so a
 * grant the code needs but the stack forgot fails here, not at the first event in AWS; and every granted action the
 * run never used must be listed below with the reason it is still granted.
 */
const SMARTCAR_CONTEXT = {
  clientId: "iam-test-client",
  redirectUri: "https://api.example.com/connect/smartcar/callback",
};

/** Used by Lambda itself for every function, never by the code: its log stream and X-Ray segments. */
const LAMBDA_SERVICE = {
  "logs:CreateLogStream": "Lambda writes the function's logs",
  "logs:PutLogEvents": "Lambda writes the function's logs",
  "xray:PutTelemetryRecords": "active tracing",
  "xray:PutTraceSegments": "active tracing",
};
/** Used by the SQS event source mapping (Lambda's poller), which the local runtime's queue poller stands in for. */
const EVENT_SOURCE = {
  "sqs:ChangeMessageVisibility": "the event source mapping",
  "sqs:DeleteMessage": "the event source mapping",
  "sqs:GetQueueAttributes": "the event source mapping",
  "sqs:GetQueueUrl": "the event source mapping",
  "sqs:ReceiveMessage": "the event source mapping",
};
const SECRETS = {
  "secretsmanager:GetSecretValue":
    "in AWS each *_SECRET_ARN is read at cold start; locally secrets are in the environment",
};
/** Actions granted but not used by the local run, and why each stays. */
const GRANTED_BUT_UNUSED_LOCALLY: Record<string, Record<string, string>> = {
  ingest: { ...LAMBDA_SERVICE, ...SECRETS },
  "process-events": { ...LAMBDA_SERVICE, ...EVENT_SOURCE },
  tick: {
    ...LAMBDA_SERVICE,
    "dynamodb:PutItem":
      "a timer that comes due (for:, no_data_for, schedules) stores its firing; the demo brings none due",
    "sqs:SendMessage": "a timer that comes due enqueues its firing's actions; the demo brings none due",
  },
  "management-api": LAMBDA_SERVICE,
  "poll-schedule": LAMBDA_SERVICE,
  "poll-worker": {
    ...LAMBDA_SERVICE,
    ...EVENT_SOURCE,
    ...SECRETS,
    "dynamodb:UpdateItem":
      "the Smartcar token store's conditional update on a refresh; demo tokens do not expire in the run",
  },
  "dispatch-actions": {
    ...LAMBDA_SERVICE,
    ...EVENT_SOURCE,
    ...SECRETS,
    "dynamodb:DeleteItem":
      "Powertools idempotency deletes a claim whose side effect threw, so the retry can claim again",
    "dynamodb:GetItem": "Powertools idempotency reads a claim back when its conditional put fails without the old item",
    "sns:Publish": "SMS through SNS; locally SMS goes to the outbox",
  },
  "dispatch-api": LAMBDA_SERVICE,
  connect: { ...LAMBDA_SERVICE, ...SECRETS },
};

let calls: RecordedAwsCall[] = [];
let runtime: LocalRuntime;
let providers: DemoProviders;

beforeAll(async () => {
  const recorder = recordAwsCalls();
  providers = await startDemoProviders({ env: {}, publicUrl: "http://127.0.0.1:1" });
  Object.assign(process.env, providers.env, {
    DASHLIGHT_TOKEN_ENCRYPTION_KEY: Buffer.alloc(32, 5).toString("base64"),
    DASHLIGHT_CONNECT_COOKIE_SECRET: "iam-test-cookie-secret",
  });
  runtime = await startTestRuntime();
  const vehicles = await registerDemoFleet({
    url: runtime.url,
    runtime,
    providers,
    timeZone: nightTimeZone(new Date()),
  });
  const stopDemo = startDemo({
    url: runtime.url,
    automaticSecret: TEST_AUTOMATIC_SECRET,
    print: () => {},
    fleet: { runtime, providers, vehicles },
  });
  const firings = async (vehicleId: string) =>
    ((await getJson(`${runtime.url}/vehicles/${encodeURIComponent(vehicleId)}/firings`)).body.firings ??
      []) as Firing[];
  try {
    await vi.waitFor(
      async () => {
        expect((await firings("dimo:4242")).length).toBeGreaterThan(0);
        expect((await firings("smartcar:demo-ev")).length).toBeGreaterThan(0);
      },
      { timeout: 60_000, interval: 1_000 },
    );
  } finally {
    stopDemo();
  }
  const [firing] = await firings("dimo:4242");
  for (const path of [
    "/vehicles",
    "/vehicles/dimo%3A4242",
    "/vehicles/dimo%3A4242/events",
    `/firings/${encodeURIComponent(firing?.id ?? "none")}`,
    "/vehicles/dimo%3A4242/commands",
    "/outbox",
  ]) {
    expect((await getJson(`${runtime.url}${path}`)).status).toBe(200);
  }
  await runtime.tick();
  await runtime.schedulePolls();
  recorder.stop();
  calls = recorder.calls;
}, 120_000);
afterAll(async () => {
  await runtime?.stop();
  await providers?.stop();
});

describe("each function's synthesized IAM policy", () => {
  it("allows every AWS call the function made, and grants no action it did not use", async () => {
    const { stacks, stateful, stateless, functions } = synthDashlight({ "dashlight:smartcar": SMARTCAR_CONTEXT });
    const statefulJson = stateful.toJSON();
    const statelessJson = stateless.toJSON();
    const resolver = new TemplateResolver([statefulJson, statelessJson]);
    const logicalId = (element: unknown) => Stack.of(stacks.stateful).getLogicalId(element as CfnElement);
    const tableName = resolver.physicalName(logicalId(stacks.stateful.table.node.defaultChild), statefulJson);
    const queueArn = (queue: IQueue) =>
      `arn:aws:sqs:us-east-1:123456789012:${resolver.physicalName(logicalId(queue.node.defaultChild), statefulJson)}`;
    const resources: ResourceMap = {
      tables: { [runtime.provisioned.tableName]: `arn:aws:dynamodb:us-east-1:123456789012:table/${tableName}` },
      queuesByUrl: {
        [runtime.provisioned.eventsQueue.url]: queueArn(stacks.stateful.eventsQueue.queue),
        [runtime.provisioned.actionsQueue.url]: queueArn(stacks.stateful.actionsQueue.queue),
        [runtime.provisioned.pollJobsQueue.url]: queueArn(stacks.stateful.pollJobsQueue.queue),
      },
    };

    const byEntry = Object.fromEntries(Object.values(functions).map((fn) => [fn.entry, fn]));
    const made = calls.filter((call) => call.functionName !== OUTSIDE_FUNCTIONS);
    const denied: string[] = [];
    const used = new Map<string, Set<string>>();
    for (const call of made) {
      const fn = byEntry[call.functionName];
      if (fn === undefined)
        throw new Error(`the local runtime ran ${call.functionName}, which the stack does not define`);
      const statements = statementsOf(stateless, fn).map(
        (statement) => resolver.resolve(statement, statelessJson) as typeof statement,
      );
      for (const request of iamRequestsOf(call, resources)) {
        used.set(call.functionName, (used.get(call.functionName) ?? new Set()).add(request.action));
        if (!(await isAllowed(statements, request))) denied.push(describe_(call.functionName, request));
      }
    }
    expect([...new Set(denied)].sort()).toStrictEqual([]);

    const unused = Object.fromEntries(
      Object.values(functions).map((fn) => {
        const granted = statementsOf(stateless, fn)
          .filter((statement) => statement.Effect === "Allow")
          .flatMap((statement) => (Array.isArray(statement.Action) ? statement.Action : [statement.Action]));
        const notUsed = [...new Set(granted)].filter((action) => !used.get(fn.entry)?.has(action)).sort();
        return [fn.entry, notUsed];
      }),
    );
    const explained = Object.fromEntries(
      Object.values(functions).map((fn) => [fn.entry, Object.keys(GRANTED_BUT_UNUSED_LOCALLY[fn.entry] ?? {}).sort()]),
    );
    expect(unused).toStrictEqual(explained);
  }, 120_000);
});

const describe_ = (functionName: string, request: IamRequest) =>
  `${functionName}: ${request.action} on ${request.resource}${
    Object.keys(request.context).length === 0 ? "" : ` with ${JSON.stringify(request.context)}`
  }`;
