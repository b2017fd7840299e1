import type { CreateTableCommandInput } from "@aws-sdk/client-dynamodb";
import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps, Validations } from "aws-cdk-lib";
import { Alarm, ComparisonOperator, TreatMissingData } from "aws-cdk-lib/aws-cloudwatch";
import { SnsAction } from "aws-cdk-lib/aws-cloudwatch-actions";
import {
  AttributeType,
  BillingMode,
  type GlobalSecondaryIndexProps,
  ProjectionType,
  Table,
  type TableProps,
} from "aws-cdk-lib/aws-dynamodb";
import { Secret } from "aws-cdk-lib/aws-secretsmanager";
import { Topic } from "aws-cdk-lib/aws-sns";
import { EmailSubscription } from "aws-cdk-lib/aws-sns-subscriptions";
import { DeduplicationScope, FifoThroughputLimit, Queue, QueueEncryption } from "aws-cdk-lib/aws-sqs";
import type { Construct } from "constructs";
import { TABLE_DEFINITION, TABLE_KEYS } from "#adapters/dynamodb/table.ts";
import type { DashlightQueue } from "./dashlight-function.ts";

/** Receives after which a message is moved to its dead-letter queue (the local runtime uses the same). */
export const MAX_RECEIVE_COUNT = 5;

/** The consumers' longest runs; each queue's visibility timeout is six times that (AWS's guidance for Lambda). */
export const CONSUMER_TIMEOUTS = {
  events: Duration.seconds(30),
  /** Three webhook attempts with backoff can take over 30 s. */
  actions: Duration.seconds(60),
  /** A poll of one vehicle: provider calls with their retries and backoff. */
  pollJobs: Duration.seconds(60),
} as const;

export type StatefulStackProps = StackProps & {
  /** With Smartcar Connect configured, its client secret, token encryption key and cookie key are created. */
  smartcarConnect?: boolean;
  /** Where the DLQ alarms are emailed; without it they only notify the alarm topic. */
  alarmEmail?: string | undefined;
};

/**
 * What Dashlight keeps: the table, the queues with their dead-letter queues
 * and alarms, and the provider secrets. Nothing here is rebuilt by a code
 * deploy, and the table survives the stack.
 */
export class StatefulStack extends Stack {
  readonly table: Table;
  readonly eventsQueue: DashlightQueue;
  readonly actionsQueue: DashlightQueue;
  readonly pollJobsQueue: DashlightQueue;
  readonly alarmTopic: Topic;
  readonly automaticWebhookSecret: Secret;
  readonly smartcarManagementToken: Secret;
  readonly webhookSigningSecret: Secret;
  /** Present when Smartcar Connect is configured (context `dashlight:smartcar`). */
  readonly smartcarSecrets:
    | { clientSecret: Secret; tokenEncryptionKey: Secret; connectCookieSecret: Secret }
    | undefined;

  constructor(scope: Construct, id: string, props: StatefulStackProps = {}) {
    super(scope, id, props);

    this.table = new Table(this, "Table", {
      ...tablePropsFromDefinition(TABLE_DEFINITION),
      timeToLiveAttribute: TABLE_KEYS.timeToLive,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    for (const index of TABLE_DEFINITION.GlobalSecondaryIndexes ?? []) {
      this.table.addGlobalSecondaryIndex(gsiPropsFromDefinition(index, TABLE_DEFINITION));
    }

    this.alarmTopic = new Topic(this, "AlarmTopic", { displayName: "Dashlight alarms", enforceSSL: true });
    if (props.alarmEmail !== undefined) this.alarmTopic.addSubscription(new EmailSubscription(props.alarmEmail));

    this.eventsQueue = this.queueWithDeadLetters("Events", { fifo: true, consumerTimeout: CONSUMER_TIMEOUTS.events });
    this.actionsQueue = this.queueWithDeadLetters("Actions", {
      fifo: false,
      consumerTimeout: CONSUMER_TIMEOUTS.actions,
    });
    this.pollJobsQueue = this.queueWithDeadLetters("PollJobs", {
      fifo: false,
      consumerTimeout: CONSUMER_TIMEOUTS.pollJobs,
    });

    this.automaticWebhookSecret = new Secret(this, "AutomaticWebhookSecret", {
      description: "Dashlight: the secret in the Automatic webhook URL (POST /webhooks/automatic/{secret})",
      // It travels in a URL path: letters and digits only.
      generateSecretString: { passwordLength: 48, excludePunctuation: true, includeSpace: false },
    });
    this.smartcarManagementToken = new Secret(this, "SmartcarManagementToken", {
      description:
        "Dashlight: the Smartcar application management token (SC-Signature, VERIFY); replace the generated placeholder with the real token",
    });
    this.webhookSigningSecret = new Secret(this, "WebhookSigningSecret", {
      description: "Dashlight: the HMAC key of outgoing rule webhooks (x-dashlight-signature); share it with receivers",
      generateSecretString: { passwordLength: 48, excludePunctuation: true, includeSpace: false },
    });
    for (const secret of [this.automaticWebhookSecret, this.smartcarManagementToken]) {
      Validations.of(secret).acknowledge({
        id: "AwsSolutions-SMG4",
        reason:
          "Rotation is a change at the provider (a new webhook URL registered with Automatic, a new management token issued by Smartcar); a Lambda rotator cannot do it, so these are rotated by hand with the provider.",
      });
    }
    Validations.of(this.webhookSigningSecret).acknowledge({
      id: "AwsSolutions-SMG4",
      reason:
        "Every webhook receiver verifies signatures with this key; rotating it without them would make every delivery fail verification, so it is rotated by hand together with the receivers.",
    });

    this.smartcarSecrets = props.smartcarConnect ? this.smartcarConnectSecrets() : undefined;

    new CfnOutput(this, "TableName", { value: this.table.tableName });
    new CfnOutput(this, "AutomaticWebhookSecretArn", { value: this.automaticWebhookSecret.secretArn });
    new CfnOutput(this, "SmartcarManagementTokenSecretArn", { value: this.smartcarManagementToken.secretArn });
    new CfnOutput(this, "WebhookSigningSecretArn", { value: this.webhookSigningSecret.secretArn });
    new CfnOutput(this, "AlarmTopicArn", { value: this.alarmTopic.topicArn });
  }

  /**
   * Smartcar Connect's secrets. The operator puts the client secret from the Smartcar dashboard and a
   * 32-byte base64 key (`openssl rand -base64 32`) in place of the generated placeholders; a placeholder
   * key stops the functions' cold start with a message naming the variable, never weakens the sealing.
   */
  private smartcarConnectSecrets() {
    const clientSecret = new Secret(this, "SmartcarClientSecret", {
      description: "Dashlight: the Smartcar application client secret (OAuth); replace the generated placeholder",
    });
    const tokenEncryptionKey = new Secret(this, "TokenEncryptionKey", {
      description: "Dashlight: the AES-256-GCM key sealing stored provider tokens; put `openssl rand -base64 32` here",
    });
    const connectCookieSecret = new Secret(this, "ConnectCookieSecret", {
      description: "Dashlight: the HMAC key of the Connect flow's short-lived session cookie",
      generateSecretString: { passwordLength: 48, excludePunctuation: true, includeSpace: false },
    });
    for (const secret of [clientSecret, tokenEncryptionKey, connectCookieSecret]) {
      Validations.of(secret).acknowledge({
        id: "AwsSolutions-SMG4",
        reason:
          "Rotating the client secret is done in the Smartcar dashboard, and rotating the sealing key needs every stored token re-sealed; a Lambda rotator can do neither, so these are rotated by hand.",
      });
    }
    return { clientSecret, tokenEncryptionKey, connectCookieSecret };
  }

  /**
   * A queue and its dead-letter queue (FIFO for FIFO), encrypted, TLS only,
   * redriven after MAX_RECEIVE_COUNT receives, with an alarm as soon as a
   * message lands in the dead-letter queue.
   */
  queueWithDeadLetters(id: string, options: { fifo: boolean; consumerTimeout: Duration }): DashlightQueue {
    const common = { encryption: QueueEncryption.SQS_MANAGED, enforceSSL: true } as const;
    const fifo = options.fifo
      ? {
          fifo: true,
          // Many vehicles, one message group each: dedupe and throughput per group (high-throughput FIFO).
          deduplicationScope: DeduplicationScope.MESSAGE_GROUP,
          fifoThroughputLimit: FifoThroughputLimit.PER_MESSAGE_GROUP_ID,
        }
      : {};
    const deadLetterQueue = new Queue(this, `${id}DeadLetterQueue`, {
      ...common,
      ...(options.fifo ? { fifo: true } : {}),
      retentionPeriod: Duration.days(14),
    });
    const queue = new Queue(this, `${id}Queue`, {
      ...common,
      ...fifo,
      visibilityTimeout: Duration.seconds(options.consumerTimeout.toSeconds() * 6),
      deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount: MAX_RECEIVE_COUNT },
    });
    new Alarm(this, `${id}DeadLetterAlarm`, {
      alarmDescription: `Messages in the ${id.toLowerCase()} dead-letter queue: they failed ${MAX_RECEIVE_COUNT} times and wait for a look and a redrive`,
      metric: deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(1),
        statistic: "Maximum",
      }),
      threshold: 0,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    }).addAlarmAction(new SnsAction(this.alarmTopic));
    new CfnOutput(this, `${id}DeadLetterQueueUrl`, { value: deadLetterQueue.queueUrl });
    return { queue, deadLetterQueue, consumerTimeout: options.consumerTimeout };
  }
}

type TableDefinition = Omit<CreateTableCommandInput, "TableName">;
type KeyElement = NonNullable<TableDefinition["KeySchema"]>[number];

const ATTRIBUTE_TYPES = { S: AttributeType.STRING, N: AttributeType.NUMBER, B: AttributeType.BINARY } as const;

const attributeOf = (name: string | undefined, definition: TableDefinition) => {
  const type = definition.AttributeDefinitions?.find((attribute) => attribute.AttributeName === name)?.AttributeType;
  if (name === undefined || type === undefined)
    throw new Error(`table definition: no attribute definition for ${name}`);
  return { name, type: ATTRIBUTE_TYPES[type] };
};

const keysOf = (keySchema: readonly KeyElement[] | undefined, definition: TableDefinition) => {
  const hash = keySchema?.find((key) => key.KeyType === "HASH");
  const range = keySchema?.find((key) => key.KeyType === "RANGE");
  return {
    partitionKey: attributeOf(hash?.AttributeName, definition),
    ...(range === undefined ? {} : { sortKey: attributeOf(range.AttributeName, definition) }),
  };
};

/**
 * The CDK table props for the table definition the local runtime creates
 * (functions/adapters/dynamodb/table.ts), so local and AWS cannot drift.
 */
export const tablePropsFromDefinition = (definition: TableDefinition): TableProps => {
  if (definition.BillingMode !== "PAY_PER_REQUEST") {
    throw new Error(`table definition: only PAY_PER_REQUEST is supported, got ${definition.BillingMode}`);
  }
  return { ...keysOf(definition.KeySchema, definition), billingMode: BillingMode.PAY_PER_REQUEST };
};

type IndexDefinition = NonNullable<TableDefinition["GlobalSecondaryIndexes"]>[number];

export const gsiPropsFromDefinition = (
  index: IndexDefinition,
  definition: TableDefinition,
): GlobalSecondaryIndexProps => {
  if (index.IndexName === undefined) throw new Error("table definition: an index has no name");
  if (index.Projection?.ProjectionType !== "ALL") {
    throw new Error(`table definition: index ${index.IndexName} must project ALL`);
  }
  return {
    indexName: index.IndexName,
    ...keysOf(index.KeySchema, definition),
    projectionType: ProjectionType.ALL,
  };
};
