import { type DynamoDBDocumentClient, PutCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { StorageError } from "#adapters/dynamodb/errors.ts";
import { OUTBOX_GSI1PK, OUTBOX_SK, outboxPk } from "#adapters/dynamodb/table.ts";
import { type OutboxEntry, outboxMessageId } from "#core/dispatch/outbox.ts";
import type {
  EmailChannel,
  EmailContent,
  Envelope,
  Sent,
  SmsChannel,
  WebhookChannel,
  WebhookRequest,
} from "#core/dispatch/ports.ts";

/** Outbox entries are kept this long. */
const OUTBOX_RETENTION_SECONDS = 30 * 24 * 3600;

/**
 * The local outbox: every channel without a configured transport writes here
 * instead of sending, so nothing leaves the machine by surprise. Entries are
 * keyed by delivery id (a repeated write keeps one entry) and listed newest
 * first by `GET /outbox`. `onEntry` lets the local console print each one.
 */
export class DynamoDbOutbox implements SmsChannel, EmailChannel, WebhookChannel {
  readonly transport = "outbox" as const;
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly options: { now?: () => Date; onEntry?: (entry: OutboxEntry) => void } = {},
  ) {}

  sendSms(envelope: Envelope, sms: { to: string; text: string }): Promise<Sent> {
    return this.put({ ...this.base(envelope), channel: "sms", to: sms.to, text: sms.text });
  }

  sendEmail(envelope: Envelope, email: EmailContent): Promise<Sent> {
    return this.put({ ...this.base(envelope), channel: "email", ...email });
  }

  postWebhook(envelope: Envelope, request: WebhookRequest): Promise<Sent> {
    return this.put({ ...this.base(envelope), channel: "webhook", request });
  }

  private base(envelope: Envelope) {
    return { ...envelope, id: outboxMessageId(envelope.deliveryId), createdAt: this.now().toISOString() };
  }

  private now(): Date {
    return this.options.now?.() ?? new Date();
  }

  private async put(entry: OutboxEntry): Promise<Sent> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            pk: outboxPk(entry.deliveryId),
            sk: OUTBOX_SK,
            gsi1pk: OUTBOX_GSI1PK,
            gsi1sk: `${entry.createdAt}#${entry.deliveryId}`,
            entry: JSON.stringify(entry),
            expiresAt: Math.floor(Date.parse(entry.createdAt) / 1000) + OUTBOX_RETENTION_SECONDS,
          },
        }),
      );
    } catch (error) {
      throw new StorageError(`could not store outbox entry ${entry.deliveryId}`, { cause: error });
    }
    this.options.onEntry?.(entry);
    return { messageId: entry.id };
  }

  /** Newest first; `since` (ISO) keeps entries created at or after it. */
  async list(options: { limit: number; since?: string }): Promise<OutboxEntry[]> {
    const result = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: "gsi1",
        // DynamoDB refuses an empty string as a key-condition value: without `since` there is no sort-key bound.
        ...(options.since === undefined || options.since === ""
          ? { KeyConditionExpression: "gsi1pk = :pk", ExpressionAttributeValues: { ":pk": OUTBOX_GSI1PK } }
          : {
              KeyConditionExpression: "gsi1pk = :pk AND gsi1sk >= :since",
              ExpressionAttributeValues: { ":pk": OUTBOX_GSI1PK, ":since": options.since },
            }),
        ScanIndexForward: false,
        Limit: options.limit,
      }),
    );
    return (result.Items ?? []).map((item) => JSON.parse(item.entry as string) as OutboxEntry);
  }
}
