import type { Recipient } from "../rules/compiler.ts";
import type { Action } from "../rules/state.ts";
import { renderEmailBodies } from "./email-body.ts";
import { DeliveryRetriesExhaustedError, InvalidRecipientError, PermanentDeliveryError } from "./errors.ts";
import { backoffDelayMs, classifyFailure, type RetryPolicy } from "./failures.ts";
import type {
  CommandAuditEntry,
  CommandAuditLog,
  CommandClients,
  CommandRateLimiter,
  CommandVehicles,
  DeliveryOutcome,
  EmailChannel,
  Envelope,
  ExactlyOnce,
  SmsChannel,
  WebhookChannel,
} from "./ports.ts";
import { isE164, isEmailAddress, maskAddress } from "./recipients.ts";
import { type CommandPolicy, checkCommandSafety, rateLimitReason, rateWindowOf } from "./safety.ts";
import { signWebhook, WEBHOOK_HEADERS, webhookBodyOf } from "./webhook.ts";

export type DispatchDeps = {
  sms: SmsChannel;
  email: EmailChannel;
  webhook: WebhookChannel;
  /** One command client per provider (functions/providers/<name>/); a provider without one cannot take commands. */
  commands: CommandClients;
  vehicles: CommandVehicles;
  rateLimiter: CommandRateLimiter;
  audit: CommandAuditLog;
  once: ExactlyOnce;
  webhookSecret: string;
  policy: CommandPolicy;
  retry: RetryPolicy;
  now: () => Date;
  sleep: (ms: number) => Promise<void>;
  random: () => number;
};

/** One side effect of an action: a notification to one recipient, one webhook, or one command. */
export type Delivery = { id: string; action: Action; recipient?: Recipient };

/**
 * The deliveries of an action. SMS and email go to each recipient separately
 * (`<action id>/to/<index>`): each is claimed on its own, so a retry after one
 * recipient failed never texts the others twice, and recipients never see
 * each other's addresses. Webhooks and commands are one delivery with the action's id.
 */
export const planDeliveries = (action: Action): Delivery[] => {
  if (action.type === "sms" || action.type === "email")
    return action.to.map((recipient, index) => ({ id: `${action.id}/to/${index}`, action, recipient }));
  return [{ id: action.id, action }];
};

export type ActionResult = {
  actionId: string;
  outcomes: DeliveryOutcome[];
  /** Deliveries answered from a stored outcome (a redelivery): no side effect this time. */
  replayed: number;
};

/**
 * Performs an action exactly once per delivery: claim, policy checks, side
 * effect with in-process retries for transient failures, outcome. Permanent
 * failures and refusals are outcomes (the message is done); a delivery still
 * failing transiently makes the whole call throw, after the other deliveries
 * were attempted, so the queue redelivers the message and only the unfinished
 * deliveries run again.
 */
export const dispatchAction = async (action: Action, deps: DispatchDeps): Promise<ActionResult> => {
  const outcomes: DeliveryOutcome[] = [];
  let replayed = 0;
  let failure: unknown;
  for (const delivery of planDeliveries(action)) {
    try {
      const result = await deps.once.run(delivery.id, () => performWithRetries(delivery, deps));
      if (result.replayed) replayed++;
      outcomes.push(result.outcome);
      // Outside the claim: a failed audit write must never repeat the command; a redelivery rewrites it.
      if (action.type === "command") await deps.audit.record(auditEntryOf(action, result.outcome));
    } catch (error) {
      failure ??= error;
      if (action.type === "command")
        await deps.audit
          .record({
            ...auditBase(action),
            decidedAt: deps.now().toISOString(),
            outcome: "retrying",
            reason: (error as Error).message,
          })
          .catch(() => undefined);
    }
  }
  if (failure !== undefined) throw failure;
  return { actionId: action.id, outcomes, replayed };
};

const performWithRetries = async (delivery: Delivery, deps: DispatchDeps): Promise<DeliveryOutcome> => {
  for (let attempt = 1; ; attempt++) {
    try {
      return await perform(delivery, deps);
    } catch (error) {
      const failure = classifyFailure(error);
      if (failure.kind === "permanent")
        return outcomeOf(delivery, deps, { status: "failed", reason: (error as Error).message });
      if (attempt >= deps.retry.attempts)
        throw new DeliveryRetriesExhaustedError(
          `delivery ${delivery.id} failed ${attempt} times: ${(error as Error).message}`,
          { cause: error },
        );
      await deps.sleep(backoffDelayMs(attempt, deps.retry, failure.retryAfterMs, deps.random));
    }
  }
};

const perform = async (delivery: Delivery, deps: DispatchDeps): Promise<DeliveryOutcome> => {
  const { action } = delivery;
  const envelope: Envelope = {
    deliveryId: delivery.id,
    actionId: action.id,
    ruleId: action.ruleId,
    vehicleId: action.vehicleId,
    episode: action.episode,
  };
  switch (action.type) {
    case "sms": {
      const to = delivery.recipient?.address ?? "";
      if (!isE164(to))
        throw new InvalidRecipientError(
          `SMS recipient ${delivery.recipient?.name ?? "?"} has no E.164 number (${maskAddress(to) || "none"})`,
        );
      const sent = await deps.sms.sendSms(envelope, { to, text: action.message });
      return outcomeOf(delivery, deps, { status: "sent", messageId: sent.messageId }, deps.sms.transport);
    }
    case "email": {
      const to = delivery.recipient?.address ?? "";
      if (!isEmailAddress(to))
        throw new InvalidRecipientError(
          `email recipient ${delivery.recipient?.name ?? "?"} has no valid address (${maskAddress(to) || "none"})`,
        );
      const bodies = renderEmailBodies(action.message);
      const sent = await deps.email.sendEmail(envelope, { to, subject: action.subject, ...bodies });
      return outcomeOf(delivery, deps, { status: "sent", messageId: sent.messageId }, deps.email.transport);
    }
    case "webhook": {
      const body = webhookBodyOf(action);
      const headers = {
        "content-type": "application/json",
        [WEBHOOK_HEADERS.delivery]: delivery.id,
        ...signWebhook(body, deps.webhookSecret, Math.floor(deps.now().getTime() / 1000)),
      };
      const sent = await deps.webhook.postWebhook(envelope, { url: action.url, body, headers });
      return outcomeOf(delivery, deps, { status: "sent", messageId: sent.messageId }, deps.webhook.transport);
    }
    case "command": {
      const vehicle = await deps.vehicles.loadForCommand(action.vehicleId);
      if (vehicle === undefined) throw new PermanentDeliveryError(`unknown vehicle ${action.vehicleId}`);
      const client = deps.commands.get(vehicle.ref.provider);
      if (client === undefined)
        throw new PermanentDeliveryError(`no command client is configured for ${vehicle.ref.provider}`);
      const verdict = checkCommandSafety(
        action.command,
        action.preconditions,
        vehicle.snapshot,
        deps.now(),
        deps.policy,
      );
      if (!verdict.allowed) return outcomeOf(delivery, deps, { status: "refused", reason: verdict.reason });
      const window = rateWindowOf(deps.now(), deps.policy.windowMs);
      const admitted = await deps.rateLimiter.acquire(
        action.vehicleId,
        action.id,
        window,
        deps.policy.maxCommandsPerWindow,
      );
      if (!admitted) return outcomeOf(delivery, deps, { status: "refused", reason: rateLimitReason(deps.policy) });
      const result = await client.send(vehicle.ref, action.command, action.params);
      return outcomeOf(delivery, deps, {
        status: "sent",
        ...(result.providerRequestId === undefined ? {} : { messageId: result.providerRequestId }),
        ...(action.readBack ? { confirmed: result.confirmed ?? null } : {}),
      });
    }
  }
};

const outcomeOf = (
  delivery: Delivery,
  deps: DispatchDeps,
  result: Pick<DeliveryOutcome, "status" | "messageId" | "reason" | "confirmed">,
  transport?: DeliveryOutcome["transport"],
): DeliveryOutcome => {
  const { action } = delivery;
  return {
    deliveryId: delivery.id,
    actionId: action.id,
    channel: action.type,
    transport: transport ?? transportOf(action, deps),
    ...result,
    decidedAt: deps.now().toISOString(),
  };
};

const transportOf = (action: Action, deps: DispatchDeps): DeliveryOutcome["transport"] => {
  if (action.type === "sms") return deps.sms.transport;
  if (action.type === "email") return deps.email.transport;
  if (action.type === "webhook") return deps.webhook.transport;
  return "provider";
};

type CommandAction = Extract<Action, { type: "command" }>;

const auditBase = (action: CommandAction) => ({
  actionId: action.id,
  vehicleId: action.vehicleId,
  ruleId: action.ruleId,
  firingId: action.firingId,
  episode: action.episode,
  phase: action.phase,
  command: action.command,
  params: action.params,
  at: action.at,
});

/** The audit trail entry for a command's outcome. */
export const auditEntryOf = (action: CommandAction, outcome: DeliveryOutcome): CommandAuditEntry => ({
  ...auditBase(action),
  decidedAt: outcome.decidedAt,
  outcome: outcome.status,
  ...(outcome.reason === undefined ? {} : { reason: outcome.reason }),
  ...(outcome.messageId === undefined ? {} : { providerRequestId: outcome.messageId }),
  ...(outcome.confirmed === undefined ? {} : { confirmed: outcome.confirmed }),
});

/** For code that holds no audit log (e.g. a dry run): records nothing. */
export const noAudit: CommandAuditLog = { record: async () => undefined };
