import { SESv2Client } from "@aws-sdk/client-sesv2";
import { SNSClient } from "@aws-sdk/client-sns";
import type { Context } from "aws-lambda";
import { type DispatchDeps, dispatchAction } from "#core/dispatch/dispatch-action.ts";
import { DEFAULT_RETRY_POLICY } from "#core/dispatch/failures.ts";
import type { OutboxEntry } from "#core/dispatch/outbox.ts";
import type { CommandClients, EmailChannel, SmsChannel, WebhookChannel } from "#core/dispatch/ports.ts";
import { maskAddress } from "#core/dispatch/recipients.ts";
import { DEFAULT_COMMAND_POLICY } from "#core/dispatch/safety.ts";
import type { DispatchConfig } from "#shared/dispatch-config.ts";
import { logger } from "#shared/logger.ts";
import { createDocumentClient, createDynamoDbClient } from "./aws-clients.ts";
import { PowertoolsExactlyOnce } from "./dynamodb/action-claims.ts";
import { DynamoDbCommandStore } from "./dynamodb/command-store.ts";
import { StoredCommandVehicles } from "./dynamodb/command-vehicles.ts";
import { DynamoDbVehicleStore } from "./dynamodb/vehicle-store.ts";
import { HttpWebhookChannel } from "./notify/http-webhook.ts";
import { DynamoDbOutbox } from "./notify/outbox.ts";
import { SesEmailChannel } from "./notify/ses-email.ts";
import { SmtpEmailChannel } from "./notify/smtp-email.ts";
import { SnsSmsChannel } from "./notify/sns-sms.ts";
import { type ActionConsumer, createActionConsumer } from "./sqs/action-consumer.ts";

/**
 * Builds the dispatcher from its configuration: the channels the config
 * names (the outbox for the others), the stores on the single table, the
 * claims, and the SQS consumer. `overrides` replace parts (tests, benchmarks).
 */
export const createDispatcher = (
  config: DispatchConfig,
  commands: CommandClients,
  overrides: Partial<DispatchDeps> = {},
): { deps: DispatchDeps; consumer: ActionConsumer; outbox: DynamoDbOutbox; commandStore: DynamoDbCommandStore } => {
  const documentClient = createDocumentClient(config.endpoints);
  const outbox = new DynamoDbOutbox(documentClient, config.tableName, { onEntry: printOutboxEntry });
  const commandStore = new DynamoDbCommandStore(documentClient, config.tableName);
  const once = new PowertoolsExactlyOnce(createDynamoDbClient(config.endpoints), config.tableName);
  const sms: SmsChannel = config.sms.transport === "sns" ? new SnsSmsChannel(new SNSClient({})) : outbox;
  const email: EmailChannel =
    config.email.transport === "ses"
      ? new SesEmailChannel(new SESv2Client({}), {
          from: config.email.from,
          ...(config.email.configurationSet === undefined ? {} : { configurationSet: config.email.configurationSet }),
        })
      : config.email.transport === "smtp"
        ? new SmtpEmailChannel(config.email.url, { from: config.email.from })
        : outbox;
  const webhook: WebhookChannel = config.webhook.transport === "http" ? new HttpWebhookChannel(config.mode) : outbox;
  const deps: DispatchDeps = {
    sms,
    email,
    webhook,
    commands,
    vehicles: new StoredCommandVehicles(new DynamoDbVehicleStore(documentClient, config.tableName)),
    rateLimiter: commandStore,
    audit: commandStore,
    once,
    webhookSecret: config.webhook.signingSecret,
    policy: { ...DEFAULT_COMMAND_POLICY, maxCommandsPerWindow: config.commandsPerHour, windowMs: 3_600_000 },
    retry: DEFAULT_RETRY_POLICY,
    now: () => new Date(),
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    random: Math.random,
    ...overrides,
  };
  const consumer = createActionConsumer(
    (action) => dispatchAction(action, deps),
    (context: Context) => once.registerLambdaContext(context),
  );
  logger.info("dispatcher ready", {
    mode: config.mode,
    sms: deps.sms.transport,
    email: deps.email.transport,
    webhook: deps.webhook.transport,
    commandProviders: [...commands.keys()],
  });
  return { deps, consumer, outbox, commandStore };
};

/** The local console's view of the outbox: what would have been sent, addresses masked. */
const printOutboxEntry = (entry: OutboxEntry): void => {
  const target = entry.channel === "webhook" ? new URL(entry.request.url).host : maskAddress(entry.to);
  logger.info(`outbox ${entry.channel} to ${target}`, {
    deliveryId: entry.deliveryId,
    ruleId: entry.ruleId,
    vehicleId: entry.vehicleId,
    ...(entry.channel === "email" ? { subject: entry.subject } : {}),
    ...(entry.channel === "webhook" ? {} : { text: entry.text }),
  });
};
