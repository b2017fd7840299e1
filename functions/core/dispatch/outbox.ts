import type { Envelope, WebhookRequest } from "./ports.ts";

/**
 * A notification kept instead of sent: the local outbox (no transport
 * configured). It holds exactly what a real transport would have sent.
 */
export type OutboxEntry = Envelope & {
  /** Also the outbox message id returned to the dispatcher: `outbox:<deliveryId>`. */
  id: string;
  channel: "sms" | "email" | "webhook";
  createdAt: string;
} & (
    | { channel: "sms"; to: string; text: string }
    | { channel: "email"; to: string; subject: string; text: string; html: string }
    | { channel: "webhook"; request: WebhookRequest }
  );

export const outboxMessageId = (deliveryId: string): string => `outbox:${deliveryId}`;
