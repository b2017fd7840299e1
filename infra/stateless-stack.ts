import { Annotations, CfnOutput, Duration, RemovalPolicy, Stack, type StackProps, Validations } from "aws-cdk-lib";
import { AccessLogFormat } from "aws-cdk-lib/aws-apigateway";
import { HttpApi, HttpMethod, HttpStage, LogGroupLogDestination } from "aws-cdk-lib/aws-apigatewayv2";
import { HttpIamAuthorizer } from "aws-cdk-lib/aws-apigatewayv2-authorizers";
import { HttpLambdaIntegration } from "aws-cdk-lib/aws-apigatewayv2-integrations";
import { LogGroup, RetentionDays } from "aws-cdk-lib/aws-logs";
import { ScheduleExpression } from "aws-cdk-lib/aws-scheduler";
import type { Construct } from "constructs";
import { HTTP_ROUTES, type HttpFunctionName, type HttpRoute } from "#handlers/routes.ts";
import { DashlightFunction, type DashlightQueue } from "./dashlight-function.ts";
import type { StatefulStack } from "./stateful-stack.ts";

/** Days a raw provider delivery is kept (DynamoDB TTL); the local runtime uses the same. */
export const RAW_RETENTION_DAYS = 30;

/** Steady and burst request rates of the whole API: far above real provider traffic, far below a runaway bill. */
export const API_THROTTLE = { rateLimit: 50, burstLimit: 100 } as const;

/** Smartcar as configured for a deployment (context `dashlight:smartcar`). */
export type SmartcarSettings = { clientId: string; redirectUri: string; apiBaseUrl?: string };

/** The Vehicles API the seed documents. */
const SMARTCAR_API_BASE_URL = "https://vehicle.api.smartcar.com/v2.0";

export type StatelessStackProps = StackProps & {
  /** Smartcar Connect and polling; without it the connect routes answer 404 and Smartcar vehicles are not polled. */
  smartcar?: SmartcarSettings | undefined;
  /** The verified SES identity (address or domain) emails are sent from; undefined sends email to the outbox. */
  sesIdentity?: string | undefined;
  stateful: Pick<
    StatefulStack,
    | "table"
    | "eventsQueue"
    | "actionsQueue"
    | "pollJobsQueue"
    | "automaticWebhookSecret"
    | "smartcarManagementToken"
    | "webhookSigningSecret"
    | "smartcarSecrets"
  >;
};

/**
 * What Dashlight runs: the functions, the HTTP API and the schedules, bound
 * to the stateful stack's resources with exactly the access each needs.
 */
export class StatelessStack extends Stack {
  readonly api: HttpApi;
  readonly stage: HttpStage;
  readonly functions: Readonly<Record<string, DashlightFunction>>;

  constructor(scope: Construct, id: string, props: StatelessStackProps) {
    super(scope, id, props);
    const {
      table,
      eventsQueue,
      actionsQueue,
      pollJobsQueue,
      automaticWebhookSecret,
      smartcarManagementToken,
      webhookSigningSecret,
      smartcarSecrets,
    } = props.stateful;
    const smartcar =
      props.smartcar === undefined || smartcarSecrets === undefined
        ? undefined
        : { settings: props.smartcar, secrets: smartcarSecrets };
    /** Gives a function Smartcar's configuration and the token store's access, when Smartcar is configured. */
    const withSmartcar = (fn: DashlightFunction): DashlightFunction =>
      smartcar === undefined
        ? fn
        : fn
            .bindTable(table, ["UpdateItem"])
            .withEnvironment("SMARTCAR_API_BASE_URL", smartcar.settings.apiBaseUrl ?? SMARTCAR_API_BASE_URL)
            .withEnvironment("SMARTCAR_CLIENT_ID", smartcar.settings.clientId)
            .withEnvironment("SMARTCAR_REDIRECT_URI", smartcar.settings.redirectUri)
            .bindSecret(smartcar.secrets.clientSecret, "SMARTCAR_CLIENT_SECRET")
            .bindSecret(smartcar.secrets.tokenEncryptionKey, "DASHLIGHT_TOKEN_ENCRYPTION_KEY");

    const ingest = new DashlightFunction(this, "Ingest", {
      entry: "ingest",
      description: "Provider webhooks: verify, archive, normalize, enqueue (POST /webhooks/...)",
      // Providers give up after about 15 s; answer well before.
      timeout: Duration.seconds(10),
    })
      .bindTable(table, ["PutItem"])
      .bindQueue(eventsQueue.queue, "DASHLIGHT_EVENTS_QUEUE_URL", { send: true })
      .bindSecret(automaticWebhookSecret, "DASHLIGHT_AUTOMATIC_WEBHOOK_SECRET")
      .bindSecret(smartcarManagementToken, "SMARTCAR_MANAGEMENT_TOKEN")
      .withEnvironment("DASHLIGHT_RAW_RETENTION_DAYS", String(RAW_RETENTION_DAYS));

    const processEvents = new DashlightFunction(this, "ProcessEvents", {
      entry: "process-events",
      description: "Events FIFO queue consumer: store each event, evaluate the rules, apply it to the snapshot",
      timeout: eventsQueue.consumerTimeout,
      rules: true,
    })
      .bindTable(table, ["Query", "PutItem"])
      .bindQueue(actionsQueue.queue, "DASHLIGHT_ACTIONS_QUEUE_URL", { send: true })
      .consume(eventsQueue, { batchSize: 10 });

    const tick = new DashlightFunction(this, "Tick", {
      entry: "tick",
      description: "Every minute: fire due timers (for: durations, staleness, time triggers)",
      // Done before the next tick starts.
      timeout: Duration.seconds(50),
      rules: true,
    })
      .bindTable(table, ["Query", "PutItem"], { queryIndexes: ["gsi1"] })
      .bindQueue(actionsQueue.queue, "DASHLIGHT_ACTIONS_QUEUE_URL", { send: true })
      .runOnSchedule(ScheduleExpression.rate(Duration.minutes(1)), "Dashlight tick: due timers");

    const managementApi = new DashlightFunction(this, "ManagementApi", {
      entry: "management-api",
      description: "Read-only management API: vehicles, snapshots, events, firings (IAM-authorized)",
    }).bindTable(table, ["GetItem", "Query"], { queryIndexes: ["gsi1"] });

    const pollSchedule = new DashlightFunction(this, "PollSchedule", {
      entry: "poll-schedule",
      description: "Every minute: hand the vehicles due for a poll to the poll workers",
      timeout: Duration.seconds(50),
    })
      .bindTable(table, ["Query", "PutItem"], { queryIndexes: ["gsi1"] })
      .bindQueue(pollJobsQueue.queue, "DASHLIGHT_POLL_JOBS_QUEUE_URL", { send: true })
      .runOnSchedule(ScheduleExpression.rate(Duration.minutes(1)), "Dashlight poll scheduler");

    const pollWorker = withSmartcar(
      new DashlightFunction(this, "PollWorker", {
        entry: "poll-worker",
        description: "Poll jobs queue consumer: poll one vehicle, diff against its snapshot, enqueue the events",
        timeout: pollJobsQueue.consumerTimeout,
      })
        .bindTable(table, ["GetItem", "Query", "PutItem"])
        .bindQueue(eventsQueue.queue, "DASHLIGHT_EVENTS_QUEUE_URL", { send: true })
        .consume(pollJobsQueue, { batchSize: 10 }),
    );

    const dispatchActions = withSmartcar(
      this.dispatchFunction(props.sesIdentity, actionsQueue, table, webhookSigningSecret),
    );

    // GetItem reads invites and vehicles; withSmartcar's UpdateItem also claims invites (without Smartcar, 404s only).
    const connect = new DashlightFunction(this, "Connect", {
      entry: "connect",
      description:
        "Smartcar Connect by invite: GET /connect/smartcar and its OAuth callback; registers the owner's vehicles",
      // As long as API Gateway waits (the HTTP API's integration timeout is 30 s): one callback exchanges the code
      // (15 s timeout), then reads the granted vehicles (15 s per request, retried), and a Lambda killed by its
      // timeout never releases the invite it claimed. 20 s could not hold one slow exchange and one slow read.
      timeout: Duration.seconds(29),
    }).bindTable(table, ["GetItem", "PutItem"]);
    if (smartcar !== undefined) {
      withSmartcar(connect).bindSecret(smartcar.secrets.connectCookieSecret, "DASHLIGHT_CONNECT_COOKIE_SECRET");
    }

    const dispatchApi = new DashlightFunction(this, "DispatchApi", {
      entry: "dispatch-api",
      description: "Read-only: the outbox and each vehicle's command audit trail (IAM-authorized)",
    }).bindTable(table, ["GetItem", "Query"], { queryIndexes: ["gsi1"] });

    this.functions = {
      ingest,
      processEvents,
      tick,
      managementApi,
      pollSchedule,
      pollWorker,
      dispatchActions,
      dispatchApi,
      connect,
    };

    ({ api: this.api, stage: this.stage } = this.httpApi({
      ingest,
      "management-api": managementApi,
      "dispatch-api": dispatchApi,
      connect,
    }));

    const url = this.stage.url;
    new CfnOutput(this, "ApiUrl", { value: url, description: "Base URL of the HTTP API" });
    new CfnOutput(this, "WebhookUrlAutomatic", {
      value: `${url}webhooks/automatic/{secret}`,
      description: "Register with Automatic, {secret} replaced by the AutomaticWebhookSecret value",
    });
    new CfnOutput(this, "WebhookUrlSmartcar", {
      value: `${url}webhooks/smartcar`,
      description: "Register with Smartcar as the webhook callback URI",
    });
  }

  /**
   * The dispatcher: SMS through SNS, email through SES from the identity given
   * as context `dashlight:sesIdentity` (without one, email goes to the outbox,
   * said explicitly in its environment), signed webhooks over https.
   */
  private dispatchFunction(
    sesIdentity: string | undefined,
    actionsQueue: DashlightQueue,
    table: StatefulStack["table"],
    webhookSigningSecret: StatefulStack["webhookSigningSecret"],
  ): DashlightFunction {
    const dispatch = new DashlightFunction(this, "DispatchActions", {
      entry: "dispatch-actions",
      description: "Actions queue consumer: SMS, email, webhooks and vehicle commands, each exactly once",
      timeout: actionsQueue.consumerTimeout,
    })
      // Claims (Powertools idempotency: put, update, get, delete on error), outbox, command audit and rate limit.
      .bindTable(table, ["GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query"])
      .bindSecret(webhookSigningSecret, "DASHLIGHT_WEBHOOK_SIGNING_SECRET")
      .withEnvironment("DASHLIGHT_MODE", "aws")
      .withEnvironment("DASHLIGHT_SMS_TRANSPORT", "sns")
      .withEnvironment("DASHLIGHT_WEBHOOK_TRANSPORT", "http")
      .allowSms()
      .consume(actionsQueue, { batchSize: 10 });
    if (sesIdentity === undefined) {
      Annotations.of(dispatch).addWarningV2(
        "dashlight:no-ses-identity",
        "No SES identity (context dashlight:sesIdentity): rule emails go to the outbox (GET /outbox), not to people.",
      );
      return dispatch.withEnvironment("DASHLIGHT_EMAIL_TRANSPORT", "outbox");
    }
    return dispatch
      .allowEmail(sesIdentity)
      .withEnvironment("DASHLIGHT_EMAIL_TRANSPORT", "ses")
      .withEnvironment("DASHLIGHT_EMAIL_FROM", sesIdentity.includes("@") ? sesIdentity : `dashlight@${sesIdentity}`);
  }

  /**
   * The HTTP API with the routes of functions/handlers/routes.ts (the table the
   * local gateway serves too): webhooks public (each provider is verified by
   * the handler), management routes behind IAM.
   */
  private httpApi(handlers: Record<HttpFunctionName, DashlightFunction>): { api: HttpApi; stage: HttpStage } {
    const api = new HttpApi(this, "HttpApi", {
      description: "Dashlight: provider webhooks and the management API",
      createDefaultStage: false,
    });
    const accessLogs = new LogGroup(this, "HttpApiAccessLogs", {
      retention: RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const stage = new HttpStage(this, "HttpApiDefaultStage", {
      httpApi: api,
      stageName: "$default",
      autoDeploy: true,
      throttle: API_THROTTLE,
      // No path: the Automatic route carries its secret in the path, and logs must not hold secrets.
      accessLogSettings: {
        destination: new LogGroupLogDestination(accessLogs),
        format: AccessLogFormat.custom(
          JSON.stringify({
            requestId: "$context.requestId",
            requestTime: "$context.requestTime",
            routeKey: "$context.routeKey",
            status: "$context.status",
            responseLength: "$context.responseLength",
            integrationLatency: "$context.integrationLatency",
            integrationError: "$context.integrationErrorMessage",
          }),
        ),
      },
    });

    const integrations = new Map<HttpFunctionName, HttpLambdaIntegration>();
    const integrationOf = (name: HttpFunctionName) => {
      let integration = integrations.get(name);
      if (integration === undefined) {
        integration = new HttpLambdaIntegration(`${pascalCase(name)}Integration`, handlers[name].fn);
        integrations.set(name, integration);
      }
      return integration;
    };
    for (const route of HTTP_ROUTES as readonly (HttpRoute & { fn: HttpFunctionName })[]) {
      const { method, path } = parseRouteKey(route.routeKey);
      // HTTP API parameter mapping can rewrite headers, query strings and the
      // path, not path parameters: a route's pathDefaults are applied by its
      // handler from the routeKey it receives.
      const [created] = api.addRoutes({
        path,
        methods: [method],
        integration: integrationOf(route.fn),
        ...(route.management === true ? { authorizer: new HttpIamAuthorizer() } : {}),
      });
      if (route.management !== true && created !== undefined) {
        Validations.of(created).acknowledge({
          id: "AwsSolutions-APIG4",
          reason:
            route.fn === "connect"
              ? "Smartcar Connect runs in a car owner's browser, which cannot sign AWS requests; it starts only with a single-use invite the operator made, and the callback is accepted only with the HMAC-signed session cookie and the OAuth state it carries."
              : "A provider webhook: providers cannot sign AWS requests; the handler verifies each delivery (Smartcar SC-Signature HMAC, Automatic per-account secret compared in constant time).",
        });
      }
    }
    return { api, stage };
  }
}

const METHODS: Readonly<Record<string, HttpMethod>> = {
  GET: HttpMethod.GET,
  POST: HttpMethod.POST,
  PUT: HttpMethod.PUT,
  PATCH: HttpMethod.PATCH,
  DELETE: HttpMethod.DELETE,
};

/** "POST /webhooks/{provider}" → { method: POST, path: "/webhooks/{provider}" } */
export const parseRouteKey = (routeKey: string): { method: HttpMethod; path: string } => {
  const [verb = "", path = "", ...rest] = routeKey.split(" ");
  const method = METHODS[verb];
  if (method === undefined || !path.startsWith("/") || rest.length > 0) {
    throw new Error(`route key must be "<METHOD> /<path>": ${routeKey}`);
  }
  return { method, path };
};

const pascalCase = (name: string) =>
  name
    .split("-")
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join("");
