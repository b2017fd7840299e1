import { Duration, Stack, Validations } from "aws-cdk-lib";
import { ScheduleExpression } from "aws-cdk-lib/aws-scheduler";
import { Queue } from "aws-cdk-lib/aws-sqs";
import { AwsSolutionsChecks } from "cdk-nag";
import type { IConstruct } from "constructs";
import { describe, expect, it } from "vitest";
import { buildDashlightApp } from "../../infra/dashlight-app.ts";
import { DashlightFunction } from "../../infra/dashlight-function.ts";
import { appWithoutBundling } from "./support.ts";

const findings = (scope: IConstruct) =>
  new AwsSolutionsChecks().validateScope(scope).violations.map((violation) => ({
    rule: violation.ruleName,
    resources: violation.violatingResources.map((resource) => resource.constructPath),
  }));

/** Every acknowledgement in the tree: where, which rule, why. */
const acknowledgements = (scope: IConstruct) =>
  scope.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((entry) =>
        Object.entries(entry.data as Record<string, string>).map(([rule, reason]) => ({
          path: construct.node.path,
          rule: rule.replace(/^Annotation::/, ""),
          reason,
        })),
      ),
  );

describe("cdk-nag AwsSolutions", () => {
  it("finds nothing unacknowledged in Dashlight, and the synth runs the pack", () => {
    const app = appWithoutBundling();
    buildDashlightApp(app);
    expect(findings(app)).toStrictEqual([]);
    expect(() => app.synth()).not.toThrow();
  });

  it("acknowledges exactly these findings, each with a written reason", () => {
    const app = appWithoutBundling();
    buildDashlightApp(app);
    const acks = acknowledgements(app);
    expect(acks.map(({ path, rule }) => `${path} ${rule}`).sort()).toStrictEqual(
      [
        "DashlightStateful/AutomaticWebhookSecret AwsSolutions-SMG4",
        "DashlightStateful/SmartcarManagementToken AwsSolutions-SMG4",
        "DashlightStateful/WebhookSigningSecret AwsSolutions-SMG4",
        "DashlightStateless/HttpApi/POST--webhooks--automatic--{secret} AwsSolutions-APIG4",
        "DashlightStateless/HttpApi/POST--webhooks--{provider} AwsSolutions-APIG4",
        "DashlightStateless/HttpApi/GET--connect--smartcar AwsSolutions-APIG4",
        "DashlightStateless/HttpApi/GET--connect--smartcar--callback AwsSolutions-APIG4",
        "DashlightStateless/Tick/ScheduleRole AwsSolutions-IAM5[Resource::<TickFunction412909D5.Arn>:*]",
        "DashlightStateless/PollSchedule/ScheduleRole AwsSolutions-IAM5[Resource::<PollScheduleFunction56E57902.Arn>:*]",
        ...[
          "Ingest",
          "ProcessEvents",
          "Tick",
          "ManagementApi",
          "PollSchedule",
          "PollWorker",
          "DispatchActions",
          "DispatchApi",
          "Connect",
        ].flatMap((fn) => [
          `DashlightStateless/${fn}/Function AwsSolutions-L1`,
          `DashlightStateless/${fn}/Role AwsSolutions-IAM5[Resource::*]`,
        ]),
      ].sort(),
    );
    for (const { reason } of acks) expect(reason.length).toBeGreaterThan(60);
  });

  it("fails the synth on an unacknowledged finding", () => {
    const app = appWithoutBundling();
    const { stateless } = buildDashlightApp(app);
    new Queue(stateless, "QueueWithoutDeadLetters");
    expect(() => app.synth()).toThrow(/AwsSolutions-SQS3/);
  });

  it("finds nothing unacknowledged in the building blocks of the upcoming functions (schedule, SMS, email, consumer)", () => {
    const app = appWithoutBundling();
    const stack = new Stack(app, "Upcoming");
    const dlq = new Queue(stack, "Dlq", { enforceSSL: true });
    const queue = new Queue(stack, "Queue", { enforceSSL: true, deadLetterQueue: { queue: dlq, maxReceiveCount: 5 } });
    new DashlightFunction(stack, "Dispatch", { entry: "management-api", description: "stand-in" })
      .consume({ queue, deadLetterQueue: dlq, consumerTimeout: Duration.seconds(30) }, { batchSize: 1 })
      .allowSms()
      .allowEmail("alerts@example.com")
      .runOnSchedule(ScheduleExpression.rate(Duration.minutes(1)), "stand-in");
    expect(findings(app)).toStrictEqual([]);
  });
});
