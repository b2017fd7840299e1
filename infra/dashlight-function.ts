import { join, resolve } from "node:path";
import { type CfnElement, Duration, RemovalPolicy, Stack, Validations } from "aws-cdk-lib";
import type { ITable } from "aws-cdk-lib/aws-dynamodb";
import { Effect, PolicyStatement, Role, ServicePrincipal } from "aws-cdk-lib/aws-iam";
import { Architecture, Runtime, Tracing } from "aws-cdk-lib/aws-lambda";
import { SqsEventSource } from "aws-cdk-lib/aws-lambda-event-sources";
import { NodejsFunction, OutputFormat } from "aws-cdk-lib/aws-lambda-nodejs";
import { LogGroup, RetentionDays } from "aws-cdk-lib/aws-logs";
import { Schedule, type ScheduleExpression } from "aws-cdk-lib/aws-scheduler";
import { LambdaInvoke } from "aws-cdk-lib/aws-scheduler-targets";
import type { ISecret } from "aws-cdk-lib/aws-secretsmanager";
import type { IQueue } from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";
import { BUNDLE_SETTINGS, DEFAULT_RULES_DIR, ESM_REQUIRE_SHIM, HANDLERS_DIR, REPO_ROOT } from "./bundling.ts";
import { BUNDLED_RULES_DIR, rulesBundleHooks } from "./rules-bundle.ts";

/** DynamoDB item actions a function may be granted; Scan is deliberately absent. */
export type TableAction =
  | "GetItem"
  | "BatchGetItem"
  | "Query"
  | "PutItem"
  | "UpdateItem"
  | "DeleteItem"
  | "BatchWriteItem"
  | "ConditionCheckItem";

/** A queue with its dead-letter queue and the longest run its consumer may take (sets the visibility timeout). */
export type DashlightQueue = {
  readonly queue: IQueue;
  readonly deadLetterQueue: IQueue;
  readonly consumerTimeout: Duration;
};

export type DashlightFunctionProps = {
  /** The handler file's name in functions/handlers/, without ".ts" (e.g. "ingest"). */
  entry: string;
  description: string;
  /** @default 10 seconds */
  timeout?: Duration;
  /** @default 512 (MB): on arm64 more memory is more CPU, which shortens cold starts. */
  memorySize?: number;
  /** Caps concurrent runs, e.g. to keep a poller within a provider's rate budget. @default none */
  reservedConcurrentExecutions?: number;
  /**
   * Ships the rule files in the bundle and sets DASHLIGHT_RULES_DIR to them:
   * for the functions that evaluate rules. Only their code changes with a rule.
   * @default false
   */
  rules?: boolean;
};

/** Where Lambda unpacks the bundle (LAMBDA_TASK_ROOT). */
const LAMBDA_TASK_ROOT = "/var/task";

/** The Lambda runtime every Dashlight function uses (package.json engines, the local runtime). */
export const DASHLIGHT_RUNTIME = Runtime.NODEJS_22_X;

/**
 * "A Dashlight function": a handler from functions/handlers bundled with the
 * local esbuild (ESM, minified, source maps), optionally with the rule files, on Node 22
 * and arm64, with X-Ray tracing, a one-month log group and a role that starts
 * empty. Every access is added by a bind method, which sets the environment
 * variable the handler reads and grants exactly the actions asked for.
 *
 * @example
 *   new DashlightFunction(this, "Poll", { entry: "poll", description: "Due polls" })
 *     .bindTable(table, ["Query", "PutItem"])
 *     .runOnSchedule(ScheduleExpression.rate(Duration.minutes(5)), "Dashlight poll: due vehicles");
 */
export class DashlightFunction extends Construct {
  /** The handler file's name in functions/handlers/ (the local runtime names the function by it too). */
  readonly entry: string;
  readonly fn: NodejsFunction;
  readonly role: Role;
  readonly logGroup: LogGroup;
  private readonly timeout: Duration;

  constructor(scope: Construct, id: string, props: DashlightFunctionProps) {
    super(scope, id);
    this.entry = props.entry;
    this.timeout = props.timeout ?? Duration.seconds(10);
    const rulesDir = resolve(
      REPO_ROOT,
      (this.node.tryGetContext("dashlight:rulesDir") as string | undefined) ?? DEFAULT_RULES_DIR,
    );

    this.logGroup = new LogGroup(this, "Logs", {
      retention: RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // Not AWSLambdaBasicExecutionRole: that one may write to every log group in the account.
    this.role = new Role(this, "Role", {
      assumedBy: new ServicePrincipal("lambda.amazonaws.com"),
      description: `Dashlight ${props.entry} function`,
    });
    this.role.addToPolicy(
      new PolicyStatement({
        actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
        resources: [this.logGroup.logGroupArn],
      }),
    );

    this.fn = new NodejsFunction(this, "Function", {
      description: props.description,
      entry: join(REPO_ROOT, HANDLERS_DIR, `${props.entry}.ts`),
      handler: "handler",
      runtime: DASHLIGHT_RUNTIME,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: this.timeout,
      tracing: Tracing.ACTIVE,
      role: this.role,
      logGroup: this.logGroup,
      ...(props.reservedConcurrentExecutions === undefined
        ? {}
        : { reservedConcurrentExecutions: props.reservedConcurrentExecutions }),
      projectRoot: REPO_ROOT,
      depsLockFilePath: join(REPO_ROOT, "package-lock.json"),
      environment: {
        NODE_OPTIONS: "--enable-source-maps",
        ...(props.rules === true ? { DASHLIGHT_RULES_DIR: `${LAMBDA_TASK_ROOT}/${BUNDLED_RULES_DIR}` } : {}),
      },
      bundling: {
        forceDockerBundling: false,
        format: OutputFormat.ESM,
        target: BUNDLE_SETTINGS.target,
        externalModules: [...BUNDLE_SETTINGS.external],
        mainFields: [...BUNDLE_SETTINGS.mainFields],
        minify: BUNDLE_SETTINGS.minify,
        sourceMap: true,
        sourcesContent: false,
        banner: ESM_REQUIRE_SHIM,
        ...(props.rules === true ? { commandHooks: rulesBundleHooks(rulesDir) } : {}),
      },
    });

    Validations.of(this.role).acknowledge({
      id: "AwsSolutions-IAM5[Resource::*]",
      reason:
        "X-Ray tracing (PutTraceSegments, PutTelemetryRecords) has no resource-level permissions; it is the only statement on '*'.",
    });
    Validations.of(this.fn).acknowledge({
      id: "AwsSolutions-L1",
      reason:
        "Node 22 is Dashlight's runtime by choice (package.json engines, the local runtime and CI run 22); moving to a newer one is a deliberate upgrade.",
    });
  }

  /**
   * The Dashlight table: sets DASHLIGHT_TABLE_NAME and grants the given item
   * actions on the table, plus Query on each named index.
   */
  bindTable(table: ITable, actions: readonly TableAction[], options: { queryIndexes?: readonly string[] } = {}): this {
    this.fn.addEnvironment("DASHLIGHT_TABLE_NAME", table.tableName);
    if (actions.length > 0) {
      this.role.addToPolicy(
        new PolicyStatement({ actions: actions.map((action) => `dynamodb:${action}`), resources: [table.tableArn] }),
      );
    }
    const indexes = options.queryIndexes ?? [];
    if (indexes.length > 0) {
      this.role.addToPolicy(
        new PolicyStatement({
          actions: ["dynamodb:Query"],
          resources: indexes.map((index) => `${table.tableArn}/index/${index}`),
        }),
      );
    }
    return this;
  }

  /**
   * A queue the function knows by URL (in `envName`); `send` grants
   * sqs:SendMessage (which also covers SendMessageBatch). Without it only the
   * URL is passed, for handlers whose config requires it.
   */
  bindQueue(queue: IQueue, envName: string, access: { send: boolean }): this {
    this.fn.addEnvironment(envName, queue.queueUrl);
    if (access.send) {
      this.role.addToPolicy(new PolicyStatement({ actions: ["sqs:SendMessage"], resources: [queue.queueArn] }));
    }
    return this;
  }

  /**
   * Makes the function the queue's consumer: batches with partial batch
   * responses (ReportBatchItemFailures). The function must finish within the
   * queue's consumer timeout, which its visibility timeout was sized for.
   */
  consume(queue: DashlightQueue, options: { batchSize: number; maxConcurrency?: number }): this {
    if (this.timeout.toSeconds() > queue.consumerTimeout.toSeconds()) {
      throw new Error(
        `${this.node.path}: timeout ${this.timeout.toSeconds()} s exceeds the queue's consumer timeout of ${queue.consumerTimeout.toSeconds()} s`,
      );
    }
    this.fn.addEventSource(
      new SqsEventSource(queue.queue, {
        batchSize: options.batchSize,
        reportBatchItemFailures: true,
        ...(options.maxConcurrency === undefined ? {} : { maxConcurrency: options.maxConcurrency }),
      }),
    );
    return this;
  }

  /**
   * A Secrets Manager secret the function reads at cold start: sets
   * `<envName>_SECRET_ARN` and grants secretsmanager:GetSecretValue on that
   * secret only. The value itself never appears in the function's
   * configuration.
   */
  bindSecret(secret: ISecret, envName: string): this {
    this.fn.addEnvironment(`${envName}_SECRET_ARN`, secret.secretArn);
    this.role.addToPolicy(
      new PolicyStatement({ actions: ["secretsmanager:GetSecretValue"], resources: [secret.secretArn] }),
    );
    return this;
  }

  /** Sets a plain (non-secret) configuration variable. */
  withEnvironment(name: string, value: string): this {
    this.fn.addEnvironment(name, value);
    return this;
  }

  /**
   * Invokes the function on an EventBridge Scheduler schedule (UTC). A run
   * that fails is retried twice within five minutes, then dropped: the next
   * run picks up whatever is still due.
   */
  runOnSchedule(schedule: ScheduleExpression, description: string): this {
    const stack = Stack.of(this);
    // Its own role rather than the stack-wide one the target would share, so the acknowledgement below stays local.
    const role = new Role(this, "ScheduleRole", {
      assumedBy: new ServicePrincipal("scheduler.amazonaws.com", {
        conditions: { StringEquals: { "aws:SourceAccount": stack.account } },
      }),
      description: `Dashlight: invokes ${this.node.id} on its schedule`,
    });
    new Schedule(this, "Schedule", {
      schedule,
      description,
      target: new LambdaInvoke(this.fn, { role, retryAttempts: 2, maxEventAge: Duration.minutes(5) }),
    });
    const functionId = stack.getLogicalId(this.fn.node.defaultChild as CfnElement);
    Validations.of(role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${functionId}.Arn>:*]`,
      reason:
        "lambda:InvokeFunction on this one function and its versions/aliases (the ':*' that grantInvoke adds); no other function can be invoked.",
    });
    return this;
  }

  /**
   * SMS through SNS. SNS cannot scope Publish to phone numbers, so the
   * statement allows Publish on everything that is not a topic (NotResource),
   * i.e. direct SMS only.
   */
  allowSms(): this {
    const stack = Stack.of(this);
    this.role.addToPolicy(
      new PolicyStatement({
        effect: Effect.ALLOW,
        actions: ["sns:Publish"],
        notResources: [`arn:${stack.partition}:sns:*:*:*`],
      }),
    );
    return this;
  }

  /** Email through SES from one verified identity (an address or a domain), and only from it. */
  allowEmail(identity: string): this {
    const stack = Stack.of(this);
    this.role.addToPolicy(
      new PolicyStatement({
        actions: ["ses:SendEmail", "ses:SendRawEmail"],
        resources: [stack.formatArn({ service: "ses", resource: "identity", resourceName: identity })],
      }),
    );
    return this;
  }
}
