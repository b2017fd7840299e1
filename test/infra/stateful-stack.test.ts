import { Match } from "aws-cdk-lib/assertions";
import { beforeAll, describe, expect, it } from "vitest";
import { TABLE_DEFINITION, TABLE_KEYS } from "#adapters/dynamodb/table.ts";
import { synthDashlight } from "./support.ts";

let template: ReturnType<typeof synthDashlight>["stateful"];
beforeAll(() => {
  template = synthDashlight().stateful;
});

describe("the stateful stack", () => {
  it("creates the table from the shared table definition, with TTL, point-in-time recovery and deletion protection", () => {
    template.resourceCountIs("AWS::DynamoDB::Table", 1);
    template.hasResource("AWS::DynamoDB::Table", {
      DeletionPolicy: "Retain",
      UpdateReplacePolicy: "Retain",
      Properties: {
        KeySchema: [
          { AttributeName: "pk", KeyType: "HASH" },
          { AttributeName: "sk", KeyType: "RANGE" },
        ],
        AttributeDefinitions: Match.arrayEquals([
          { AttributeName: "pk", AttributeType: "S" },
          { AttributeName: "sk", AttributeType: "S" },
          { AttributeName: "gsi1pk", AttributeType: "S" },
          { AttributeName: "gsi1sk", AttributeType: "S" },
        ]),
        GlobalSecondaryIndexes: [
          {
            IndexName: "gsi1",
            KeySchema: [
              { AttributeName: "gsi1pk", KeyType: "HASH" },
              { AttributeName: "gsi1sk", KeyType: "RANGE" },
            ],
            Projection: { ProjectionType: "ALL" },
          },
        ],
        BillingMode: "PAY_PER_REQUEST",
        TimeToLiveSpecification: { AttributeName: "expiresAt", Enabled: true },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        DeletionProtectionEnabled: true,
      },
    });
  });

  it("keeps keys, indexes and TTL attribute identical to what the local runtime creates", () => {
    const [table] = Object.values(template.findResources("AWS::DynamoDB::Table")) as {
      Properties: Record<string, unknown>;
    }[];
    expect(table?.Properties.KeySchema).toStrictEqual(TABLE_DEFINITION.KeySchema);
    expect(table?.Properties.GlobalSecondaryIndexes).toStrictEqual(TABLE_DEFINITION.GlobalSecondaryIndexes);
    expect(table?.Properties.AttributeDefinitions).toStrictEqual(
      expect.arrayContaining(TABLE_DEFINITION.AttributeDefinitions ?? []),
    );
    expect(table?.Properties.TimeToLiveSpecification).toStrictEqual({
      AttributeName: TABLE_KEYS.timeToLive,
      Enabled: true,
    });
  });

  it("makes the events queue FIFO (high throughput, per-vehicle groups) with a FIFO dead-letter queue after 5 receives", () => {
    const dlq = template.findResources("AWS::SQS::Queue", {
      Properties: { FifoQueue: true, MessageRetentionPeriod: 1_209_600, RedrivePolicy: Match.absent() },
    });
    const [dlqId] = Object.keys(dlq);
    expect(Object.keys(dlq)).toHaveLength(1);
    template.hasResourceProperties("AWS::SQS::Queue", {
      FifoQueue: true,
      DeduplicationScope: "messageGroup",
      FifoThroughputLimit: "perMessageGroupId",
      ContentBasedDeduplication: Match.absent(),
      VisibilityTimeout: 180,
      SqsManagedSseEnabled: true,
      RedrivePolicy: { deadLetterTargetArn: { "Fn::GetAtt": [dlqId, "Arn"] }, maxReceiveCount: 5 },
    });
  });

  it("makes the actions and poll-jobs queues standard queues, each with its own dead-letter queue after 5 receives", () => {
    const standard = template.findResources("AWS::SQS::Queue", { Properties: { FifoQueue: Match.absent() } });
    expect(Object.keys(standard)).toHaveLength(4);
    const redriven = Object.values(standard).filter((queue) => "RedrivePolicy" in (queue.Properties ?? {}));
    // Six times each consumer's timeout: actions 60 s, poll jobs 60 s.
    expect(redriven.map((queue) => queue.Properties.VisibilityTimeout).sort()).toStrictEqual([360, 360]);
    for (const queue of redriven) {
      const dlqId = queue.Properties.RedrivePolicy.deadLetterTargetArn["Fn::GetAtt"][0];
      expect(standard[dlqId]?.Properties.RedrivePolicy).toBeUndefined();
      expect(queue.Properties.RedrivePolicy.maxReceiveCount).toBe(5);
      expect(queue.Properties.SqsManagedSseEnabled).toBe(true);
    }
  });

  it("allows only TLS on every queue", () => {
    template.resourceCountIs("AWS::SQS::Queue", 6);
    const policies = Object.values(template.findResources("AWS::SQS::QueuePolicy"));
    expect(policies).toHaveLength(6);
    for (const policy of policies) {
      expect(policy.Properties.PolicyDocument.Statement).toStrictEqual([
        expect.objectContaining({
          Effect: "Deny",
          Action: "sqs:*",
          Condition: { Bool: { "aws:SecureTransport": "false" } },
        }),
      ]);
    }
  });

  it("alarms to the alarm topic as soon as one message sits in a dead-letter queue", () => {
    template.resourceCountIs("AWS::CloudWatch::Alarm", 3);
    const dlqIds = Object.keys(
      template.findResources("AWS::SQS::Queue", { Properties: { RedrivePolicy: Match.absent() } }),
    );
    const topicId = Object.keys(template.findResources("AWS::SNS::Topic"))[0];
    for (const dlqId of dlqIds) {
      template.hasResourceProperties("AWS::CloudWatch::Alarm", {
        Namespace: "AWS/SQS",
        MetricName: "ApproximateNumberOfMessagesVisible",
        Dimensions: [{ Name: "QueueName", Value: { "Fn::GetAtt": [dlqId, "QueueName"] } }],
        Statistic: "Maximum",
        Period: 60,
        Threshold: 0,
        ComparisonOperator: "GreaterThanThreshold",
        EvaluationPeriods: 1,
        TreatMissingData: "notBreaching",
        AlarmActions: [{ Ref: topicId }],
      });
    }
  });

  it("keeps the provider credentials in Secrets Manager, the Automatic secret URL-safe", () => {
    template.resourceCountIs("AWS::SecretsManager::Secret", 3);
    template.hasResourceProperties("AWS::SecretsManager::Secret", {
      GenerateSecretString: { PasswordLength: 48, ExcludePunctuation: true, IncludeSpace: false },
    });
  });

  it("exports what an operator needs: table, secret ARNs, dead-letter queue URLs, alarm topic", () => {
    const outputs = Object.keys(template.findOutputs("*")).filter((name) => !name.startsWith("ExportsOutput"));
    expect(outputs.sort()).toStrictEqual([
      "ActionsDeadLetterQueueUrl",
      "AlarmTopicArn",
      "AutomaticWebhookSecretArn",
      "EventsDeadLetterQueueUrl",
      "PollJobsDeadLetterQueueUrl",
      "SmartcarManagementTokenSecretArn",
      "TableName",
      "WebhookSigningSecretArn",
    ]);
  });
});
