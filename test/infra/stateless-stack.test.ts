import { Match } from "aws-cdk-lib/assertions";
import { beforeAll, describe, expect, it } from "vitest";
import { HTTP_ROUTES } from "#handlers/routes.ts";
import { actionsOf, envKeysOf, functionProperties, statementsOf, synthDashlight } from "./support.ts";

let synth: ReturnType<typeof synthDashlight>;
beforeAll(() => {
  synth = synthDashlight();
});

const CONSUMER_ACTIONS = [
  "sqs:ChangeMessageVisibility",
  "sqs:DeleteMessage",
  "sqs:GetQueueAttributes",
  "sqs:GetQueueUrl",
  "sqs:ReceiveMessage",
];
const BASELINE_ACTIONS = [
  "logs:CreateLogStream",
  "logs:PutLogEvents",
  "xray:PutTelemetryRecords",
  "xray:PutTraceSegments",
];

describe("the stateless stack's functions", () => {
  it("run every function on Node 22, arm64, with source maps, tracing and a one-month log group", () => {
    const stateless = synth.stateless;
    stateless.resourceCountIs("AWS::Lambda::Function", 9);
    for (const fn of Object.values(synth.functions)) {
      expect(functionProperties(stateless, fn)).toMatchObject({
        Runtime: "nodejs22.x",
        Architectures: ["arm64"],
        Handler: "index.handler",
        MemorySize: 512,
        TracingConfig: { Mode: "Active" },
        Environment: { Variables: expect.objectContaining({ NODE_OPTIONS: "--enable-source-maps" }) },
      });
    }
    const logGroups = Object.values(stateless.findResources("AWS::Logs::LogGroup"));
    // One per function, one for the API's access logs.
    expect(logGroups.map((group) => group.Properties.RetentionInDays)).toStrictEqual(
      Array.from({ length: Object.keys(synth.functions).length + 1 }, () => 30),
    );
  });

  it("gives ingest the table name, events queue URL, secret ARNs and raw retention, and a 10 s timeout", () => {
    const props = functionProperties(synth.stateless, synth.functionNamed("ingest"));
    expect(props.Timeout).toBe(10);
    expect(Object.keys((props.Environment as { Variables: object }).Variables).sort()).toStrictEqual([
      "DASHLIGHT_AUTOMATIC_WEBHOOK_SECRET_SECRET_ARN",
      "DASHLIGHT_EVENTS_QUEUE_URL",
      "DASHLIGHT_RAW_RETENTION_DAYS",
      "DASHLIGHT_TABLE_NAME",
      "NODE_OPTIONS",
      "SMARTCAR_MANAGEMENT_TOKEN_SECRET_ARN",
    ]);
    expect(props.Environment).toMatchObject({ Variables: { DASHLIGHT_RAW_RETENTION_DAYS: "30" } });
  });

  it("gives the rule evaluators the table, the actions queue and the rules shipped in their bundle", () => {
    for (const name of ["processEvents", "tick"]) {
      const variables = (
        functionProperties(synth.stateless, synth.functionNamed(name)).Environment as {
          Variables: Record<string, unknown>;
        }
      ).Variables;
      expect(Object.keys(variables).sort()).toStrictEqual([
        "DASHLIGHT_ACTIONS_QUEUE_URL",
        "DASHLIGHT_RULES_DIR",
        "DASHLIGHT_TABLE_NAME",
        "NODE_OPTIONS",
      ]);
      expect(variables.DASHLIGHT_RULES_DIR).toBe("/var/task/rules");
    }
    expect(functionProperties(synth.stateless, synth.functionNamed("processEvents")).Timeout).toBe(30);
    expect(functionProperties(synth.stateless, synth.functionNamed("tick")).Timeout).toBe(50);
  });

  it("gives the management API only the table name", () => {
    const props = functionProperties(synth.stateless, synth.functionNamed("managementApi"));
    expect(Object.keys((props.Environment as { Variables: object }).Variables).sort()).toStrictEqual([
      "DASHLIGHT_TABLE_NAME",
      "NODE_OPTIONS",
    ]);
  });

  it("grants ingest PutItem, SendMessage and GetSecretValue, nothing more", () => {
    expect(actionsOf(synth.stateless, synth.functionNamed("ingest"))).toStrictEqual(
      [...BASELINE_ACTIONS, "dynamodb:PutItem", "secretsmanager:GetSecretValue", "sqs:SendMessage"].sort(),
    );
  });

  it("grants process-events Query, PutItem, SendMessage to the actions queue and consumption of the events queue", () => {
    expect(actionsOf(synth.stateless, synth.functionNamed("processEvents"))).toStrictEqual(
      [...BASELINE_ACTIONS, "dynamodb:PutItem", "dynamodb:Query", "sqs:SendMessage", ...CONSUMER_ACTIONS].sort(),
    );
  });

  it("grants tick Query (table and gsi1), PutItem and SendMessage to the actions queue", () => {
    expect(actionsOf(synth.stateless, synth.functionNamed("tick"))).toStrictEqual(
      [...BASELINE_ACTIONS, "dynamodb:PutItem", "dynamodb:Query", "sqs:SendMessage"].sort(),
    );
  });

  it("grants the poll scheduler Query (gsi1), PutItem and SendMessage to the poll jobs queue", () => {
    expect(actionsOf(synth.stateless, synth.functionNamed("pollSchedule"))).toStrictEqual(
      [...BASELINE_ACTIONS, "dynamodb:PutItem", "dynamodb:Query", "sqs:SendMessage"].sort(),
    );
  });

  it("grants the poll worker GetItem, Query, PutItem, SendMessage to the events queue and consumption of poll jobs", () => {
    expect(actionsOf(synth.stateless, synth.functionNamed("pollWorker"))).toStrictEqual(
      [
        ...BASELINE_ACTIONS,
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:Query",
        "sqs:SendMessage",
        ...CONSUMER_ACTIONS,
      ].sort(),
    );
  });

  it("grants the dispatcher its claims' table actions, direct SMS, the signing secret and consumption of actions", () => {
    expect(actionsOf(synth.stateless, synth.functionNamed("dispatchActions"))).toStrictEqual(
      [
        ...BASELINE_ACTIONS,
        "dynamodb:DeleteItem",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:Query",
        "dynamodb:UpdateItem",
        "secretsmanager:GetSecretValue",
        "sns:Publish",
        ...CONSUMER_ACTIONS,
      ].sort(),
    );
    const sms = statementsOf(synth.stateless, synth.functionNamed("dispatchActions")).find(
      (statement) => statement.Action === "sns:Publish",
    );
    // Phone numbers only: every topic is excluded.
    expect(sms).toMatchObject({
      Effect: "Allow",
      NotResource: { "Fn::Join": ["", ["arn:", { Ref: "AWS::Partition" }, ":sns:*:*:*"]] },
    });
  });

  it("sends email to the outbox, saying so, when no SES identity is given", () => {
    synth.stateless.hasResourceProperties("AWS::Lambda::Function", {
      Environment: {
        Variables: Match.objectLike({
          DASHLIGHT_MODE: "aws",
          DASHLIGHT_SMS_TRANSPORT: "sns",
          DASHLIGHT_EMAIL_TRANSPORT: "outbox",
          DASHLIGHT_WEBHOOK_TRANSPORT: "http",
        }),
      },
    });
  });

  it("gives Connect a 29 s timeout, under the HTTP API's 30 s, for the code exchange and the vehicle reads", () => {
    expect(functionProperties(synth.stateless, synth.functionNamed("connect")).Timeout).toBe(29);
  });

  it("deploys Connect answering 404 (no Smartcar env) until Smartcar is configured", () => {
    expect(actionsOf(synth.stateless, synth.functionNamed("connect"))).toStrictEqual(
      [...BASELINE_ACTIONS, "dynamodb:GetItem", "dynamodb:PutItem"].sort(),
    );
    expect(envKeysOf(synth.stateless, synth.functionNamed("connect"))).not.toContain("SMARTCAR_API_BASE_URL");
  });

  it("gives Connect, the poll worker and the dispatcher Smartcar's settings and sealed-token access when configured", () => {
    const configured = synthDashlight({
      "dashlight:smartcar": { clientId: "client-1", redirectUri: "https://api.example.com/connect/smartcar/callback" },
    });
    for (const name of ["connect", "pollWorker", "dispatchActions"]) {
      const keys = envKeysOf(configured.stateless, configured.functionNamed(name));
      expect(keys).toEqual(
        expect.arrayContaining([
          "SMARTCAR_API_BASE_URL",
          "SMARTCAR_CLIENT_ID",
          "SMARTCAR_REDIRECT_URI",
          "SMARTCAR_CLIENT_SECRET_SECRET_ARN",
          "DASHLIGHT_TOKEN_ENCRYPTION_KEY_SECRET_ARN",
        ]),
      );
      expect(actionsOf(configured.stateless, configured.functionNamed(name))).toEqual(
        expect.arrayContaining(["dynamodb:UpdateItem", "secretsmanager:GetSecretValue"]),
      );
    }
    expect(envKeysOf(configured.stateless, configured.functionNamed("connect"))).toContain(
      "DASHLIGHT_CONNECT_COOKIE_SECRET_SECRET_ARN",
    );
    // UpdateItem is also the invite claim (a conditional write); nothing more on the table.
    expect(actionsOf(configured.stateless, configured.functionNamed("connect"))).toStrictEqual(
      [
        ...BASELINE_ACTIONS,
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "secretsmanager:GetSecretValue",
      ].sort(),
    );
    configured.stateful.resourceCountIs("AWS::SecretsManager::Secret", 6);
  });

  it("grants the management API GetItem and Query on the table and Query on gsi1, nothing else", () => {
    expect(actionsOf(synth.stateless, synth.functionNamed("managementApi"))).toStrictEqual(
      [...BASELINE_ACTIONS, "dynamodb:GetItem", "dynamodb:Query"].sort(),
    );
    const indexStatement = statementsOf(synth.stateless, synth.functionNamed("managementApi")).find((statement) =>
      JSON.stringify(statement.Resource).includes("/index/"),
    );
    expect(indexStatement).toMatchObject({ Action: "dynamodb:Query" });
    expect(JSON.stringify(indexStatement?.Resource)).toContain("/index/gsi1");
  });

  it("sends to the queue each function is meant to: ingest to events, the evaluators to actions", () => {
    const sendTarget = (name: string) =>
      JSON.stringify(
        statementsOf(synth.stateless, synth.functionNamed(name)).find(
          (statement) => statement.Action === "sqs:SendMessage",
        )?.Resource,
      );
    expect(sendTarget("ingest")).toMatch(/EventsQueue/);
    expect(sendTarget("processEvents")).toMatch(/ActionsQueue/);
    expect(sendTarget("tick")).toMatch(/ActionsQueue/);
    expect(sendTarget("pollSchedule")).toMatch(/PollJobsQueue/);
    expect(sendTarget("pollWorker")).toMatch(/EventsQueue/);
  });

  it("allows '*' only for X-Ray, which has no resource-level permissions", () => {
    for (const fn of Object.values(synth.functions)) {
      const wildcard = statementsOf(synth.stateless, fn).filter((statement) => statement.Resource === "*");
      expect(wildcard.flatMap((statement) => statement.Action).sort()).toStrictEqual([
        "xray:PutTelemetryRecords",
        "xray:PutTraceSegments",
      ]);
    }
  });

  it("runs tick and the poll scheduler every minute through EventBridge Scheduler", () => {
    synth.stateless.resourceCountIs("AWS::Scheduler::Schedule", 2);
    for (const target of ["^TickFunction", "^PollScheduleFunction"]) {
      synth.stateless.hasResourceProperties("AWS::Scheduler::Schedule", {
        ScheduleExpression: "rate(1 minute)",
        FlexibleTimeWindow: { Mode: "OFF" },
        Target: { Arn: { "Fn::GetAtt": [Match.stringLikeRegexp(target), "Arn"] } },
      });
    }
  });

  it("consumes the events, poll jobs and actions queues in batches of 10 with partial batch responses", () => {
    synth.stateless.resourceCountIs("AWS::Lambda::EventSourceMapping", 3);
    for (const queue of ["EventsQueue.*Arn", "PollJobsQueue.*Arn", "ActionsQueue.*Arn"]) {
      synth.stateless.hasResourceProperties("AWS::Lambda::EventSourceMapping", {
        BatchSize: 10,
        FunctionResponseTypes: ["ReportBatchItemFailures"],
        EventSourceArn: { "Fn::ImportValue": Match.stringLikeRegexp(queue) },
      });
    }
  });
});

describe("the HTTP API", () => {
  it("serves exactly the routes of routes.ts, management routes behind IAM and webhooks public", () => {
    const routes = Object.values(synth.stateless.findResources("AWS::ApiGatewayV2::Route")).map((route) => [
      route.Properties.RouteKey,
      route.Properties.AuthorizationType,
    ]);
    expect(routes.sort()).toStrictEqual(
      HTTP_ROUTES.map((route) => [route.routeKey, "management" in route ? "AWS_IAM" : "NONE"]).sort(),
    );
    expect(routes).toStrictEqual(
      expect.arrayContaining([
        ["POST /webhooks/automatic/{secret}", "NONE"],
        ["POST /webhooks/{provider}", "NONE"],
        ["GET /vehicles", "AWS_IAM"],
        ["GET /vehicles/{id}", "AWS_IAM"],
        ["GET /vehicles/{id}/events", "AWS_IAM"],
      ]),
    );
  });

  it("sends each route to its function through a payload 2.0 proxy integration", () => {
    const integrations = synth.stateless.findResources("AWS::ApiGatewayV2::Integration");
    expect(Object.keys(integrations)).toHaveLength(4);
    for (const integration of Object.values(integrations)) {
      expect(integration.Properties).toMatchObject({ IntegrationType: "AWS_PROXY", PayloadFormatVersion: "2.0" });
    }
  });

  it("has one auto-deployed default stage with throttling and access logs that leave out the path", () => {
    synth.stateless.resourceCountIs("AWS::ApiGatewayV2::Stage", 1);
    synth.stateless.hasResourceProperties("AWS::ApiGatewayV2::Stage", {
      StageName: "$default",
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
      AccessLogSettings: { DestinationArn: Match.anyValue(), Format: Match.not(Match.stringLikeRegexp("path")) },
    });
  });

  it("prints the API URL and one webhook URL per provider", () => {
    const outputs = synth.stateless.findOutputs("*");
    expect(Object.keys(outputs).sort()).toStrictEqual(["ApiUrl", "WebhookUrlAutomatic", "WebhookUrlSmartcar"]);
    expect(JSON.stringify(outputs.WebhookUrlAutomatic?.Value)).toContain("webhooks/automatic/{secret}");
    expect(JSON.stringify(outputs.WebhookUrlSmartcar?.Value)).toContain("webhooks/smartcar");
  });
});
