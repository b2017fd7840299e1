import type { VehicleCommand } from "../model/commands.ts";
import type { VehicleSnapshot } from "../model/snapshot.ts";
import type { Provider } from "../model/vehicle.ts";
import type { ProviderVehicleRef, VehicleCommandClient } from "../providers/ports.ts";

/** Which rule decision a delivery belongs to: shown in the outbox and the audit trail. */
export type Envelope = {
  /** `<action id>` or `<action id>/to/<index>` for one recipient of a notification. */
  deliveryId: string;
  actionId: string;
  ruleId: string;
  vehicleId: string;
  episode: number;
};

export type Transport = "sns" | "ses" | "smtp" | "http" | "outbox" | "provider";

/** What a transport returns once the message is accepted. */
export type Sent = { messageId: string };

/** Each throws PermanentDeliveryError / TransientDeliveryError (errors.ts) when it cannot deliver. */
export interface SmsChannel {
  readonly transport: Transport;
  sendSms(envelope: Envelope, sms: { to: string; text: string }): Promise<Sent>;
}
export type EmailContent = { to: string; subject: string; text: string; html: string };
export interface EmailChannel {
  readonly transport: Transport;
  sendEmail(envelope: Envelope, email: EmailContent): Promise<Sent>;
}
export type WebhookRequest = { url: string; body: string; headers: Record<string, string> };
export interface WebhookChannel {
  readonly transport: Transport;
  postWebhook(envelope: Envelope, request: WebhookRequest): Promise<Sent>;
}

export type CommandClients = ReadonlyMap<Provider, VehicleCommandClient>;

/** What the dispatcher reads about a vehicle before a command: how to reach it and its latest snapshot. */
export interface CommandVehicles {
  loadForCommand(vehicleId: string): Promise<{ ref: ProviderVehicleRef; snapshot: VehicleSnapshot } | undefined>;
}

/**
 * Counts commands per vehicle and window. `acquire` is atomic and idempotent
 * per action id: it returns true if the action is (or already was) counted in
 * the window, false when the window already holds `max` other actions.
 */
export interface CommandRateLimiter {
  acquire(
    vehicleId: string,
    actionId: string,
    window: { start: string; expiresAt: number },
    max: number,
  ): Promise<boolean>;
}

export type CommandAuditEntry = {
  actionId: string;
  vehicleId: string;
  ruleId: string;
  firingId: string;
  episode: number;
  phase: "fire" | "resolve";
  command: VehicleCommand;
  params: { percent?: number; destination?: { lat: number; lon: number; name?: string } };
  /** Time of the firing that asked for the command (the trail's order), ISO. */
  at: string;
  /** When the dispatcher decided, ISO. */
  decidedAt: string;
  outcome: "sent" | "refused" | "failed" | "retrying";
  reason?: string;
  providerRequestId?: string;
  /** Read-back after lock/unlock: true/false = checked, null = asked for but not checkable, absent = not asked. */
  confirmed?: boolean | null;
};

/** The command audit trail (`GET /vehicles/{id}/commands`); writing an entry twice keeps the last one. */
export interface CommandAuditLog {
  record(entry: CommandAuditEntry): Promise<void>;
}

/** What one delivery came to. Stored as the claim's result, so a redelivery returns it unchanged. */
export type DeliveryOutcome = {
  deliveryId: string;
  actionId: string;
  channel: "sms" | "email" | "webhook" | "command";
  transport: Transport;
  status: "sent" | "failed" | "refused";
  /** The transport's message id (SNS, SES, SMTP, outbox) or the provider's request id. */
  messageId?: string;
  confirmed?: boolean | null;
  reason?: string;
  decidedAt: string;
};

/**
 * Runs `perform` at most once to completion per delivery id: claims the id
 * (in progress, with an expiry so a crashed attempt can be taken over), runs
 * it, and stores its outcome. A later call with a completed id returns the
 * stored outcome without running `perform`. If `perform` throws, the claim is
 * released so a redelivery tries again. Throws DeliveryInProgressError while
 * another attempt holds an unexpired claim.
 */
export interface ExactlyOnce {
  run(
    deliveryId: string,
    perform: () => Promise<DeliveryOutcome>,
  ): Promise<{ outcome: DeliveryOutcome; replayed: boolean }>;
}

/** A dead-letter queue and the queue its messages came from, for `redriveActions`. */
export interface DeadLetterQueue {
  /** Up to 10 messages, hidden from other readers for a while. */
  receive(max: number): Promise<{ handle: string; body: string; attributes: Record<string, string> }[]>;
  /** Sends the messages back to the source queue; returns the handles that were sent. */
  sendBack(messages: { handle: string; body: string; attributes: Record<string, string> }[]): Promise<string[]>;
  delete(handles: string[]): Promise<void>;
}
