import { Duration, Stack } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { AttributeType, Table } from "aws-cdk-lib/aws-dynamodb";
import { ScheduleExpression } from "aws-cdk-lib/aws-scheduler";
import { Queue } from "aws-cdk-lib/aws-sqs";
import { describe, expect, it } from "vitest";
import { DashlightFunction } from "../../infra/dashlight-function.ts";
import { appWithoutBundling, statementsOf } from "./support.ts";

// The upcoming functions (tick, poll, dispatch) have no handler yet; an existing entry stands in for them.
const STAND_IN_ENTRY = "management-api";

const stackWithResources = () => {
  const stack = new Stack(appWithoutBundling(), "Test");
  const table = new Table(stack, "Table", { partitionKey: { name: "pk", type: AttributeType.STRING } });
  const queue = new Queue(stack, "Queue");
  const dlq = new Queue(stack, "Dlq");
  return { stack, table, queue, dlq };
};

const logicalId = (stack: Stack, construct: { node: { defaultChild?: unknown } }) =>
  stack.getLogicalId(construct.node.defaultChild as Parameters<Stack["getLogicalId"]>[0]);

describe("DashlightFunction", () => {
  it("grants table actions on the table and Query on the named indexes only", () => {
    const { stack, table } = stackWithResources();
    const fn = new DashlightFunction(stack, "Fn", { entry: STAND_IN_ENTRY, description: "test" }).bindTable(
      table,
      ["GetItem", "PutItem"],
      { queryIndexes: ["gsi1"] },
    );
    const tableArn = { "Fn::GetAtt": [logicalId(stack, table), "Arn"] };
    const statements = statementsOf(Template.fromStack(stack), fn);
    expect(statements).toContainEqual({
      Effect: "Allow",
      Action: ["dynamodb:GetItem", "dynamodb:PutItem"],
      Resource: tableArn,
    });
    expect(statements).toContainEqual({
      Effect: "Allow",
      Action: "dynamodb:Query",
      Resource: { "Fn::Join": ["", [tableArn, "/index/gsi1"]] },
    });
  });

  it("passes a queue's URL without any permission unless sending is asked for", () => {
    const { stack, queue } = stackWithResources();
    const reader = new DashlightFunction(stack, "Reader", { entry: STAND_IN_ENTRY, description: "test" }).bindQueue(
      queue,
      "QUEUE_URL",
      { send: false },
    );
    const sender = new DashlightFunction(stack, "Sender", { entry: STAND_IN_ENTRY, description: "test" }).bindQueue(
      queue,
      "QUEUE_URL",
      { send: true },
    );
    const template = Template.fromStack(stack);
    expect(statementsOf(template, reader).flatMap((s) => s.Action)).not.toContain("sqs:SendMessage");
    expect(statementsOf(template, sender)).toContainEqual({
      Effect: "Allow",
      Action: "sqs:SendMessage",
      Resource: { "Fn::GetAtt": [logicalId(stack, queue), "Arn"] },
    });
  });

  it("refuses to consume a queue whose visibility timeout was sized for a shorter consumer", () => {
    const { stack, queue, dlq } = stackWithResources();
    const fn = new DashlightFunction(stack, "Slow", {
      entry: STAND_IN_ENTRY,
      description: "test",
      timeout: Duration.seconds(60),
    });
    expect(() =>
      fn.consume({ queue, deadLetterQueue: dlq, consumerTimeout: Duration.seconds(30) }, { batchSize: 1 }),
    ).toThrow("Test/Slow: timeout 60 s exceeds the queue's consumer timeout of 30 s");
  });

  it("runs on an EventBridge Scheduler schedule with bounded retries (tick, poll)", () => {
    const { stack } = stackWithResources();
    const fn = new DashlightFunction(stack, "Tick", { entry: STAND_IN_ENTRY, description: "test" }).runOnSchedule(
      ScheduleExpression.rate(Duration.minutes(1)),
      "Due timers",
    );
    const template = Template.fromStack(stack);
    template.hasResourceProperties("AWS::Scheduler::Schedule", {
      ScheduleExpression: "rate(1 minute)",
      State: "ENABLED",
      FlexibleTimeWindow: { Mode: "OFF" },
      Target: {
        Arn: { "Fn::GetAtt": [logicalId(stack, fn.fn), "Arn"] },
        RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 300 },
      },
    });
  });

  it("sends SMS only to phone numbers (never to topics) and email only from the given identity", () => {
    const { stack } = stackWithResources();
    const fn = new DashlightFunction(stack, "Dispatch", { entry: STAND_IN_ENTRY, description: "test" })
      .allowSms()
      .allowEmail("alerts@example.com");
    const statements = statementsOf(Template.fromStack(stack), fn);
    expect(statements).toContainEqual({
      Effect: "Allow",
      Action: "sns:Publish",
      NotResource: { "Fn::Join": ["", ["arn:", { Ref: "AWS::Partition" }, ":sns:*:*:*"]] },
    });
    expect(statements).toContainEqual({
      Effect: "Allow",
      Action: ["ses:SendEmail", "ses:SendRawEmail"],
      Resource: {
        "Fn::Join": [
          "",
          [
            "arn:",
            { Ref: "AWS::Partition" },
            ":ses:",
            { Ref: "AWS::Region" },
            ":",
            { Ref: "AWS::AccountId" },
            ":identity/alerts@example.com",
          ],
        ],
      },
    });
  });
});
