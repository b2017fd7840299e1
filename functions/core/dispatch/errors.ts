/**
 * Errors of the dispatcher. Channels and command clients translate what their
 * SDK or HTTP call raised into one of these (or the provider errors of
 * #core/providers/errors.ts); `classifyFailure` (failures.ts) decides from the type alone.
 */
export class DispatchError extends Error {
  override name = "DispatchError";
}

/** Retrying cannot help (invalid number, 4xx, unsafe target): the delivery is recorded failed at once. */
export class PermanentDeliveryError extends DispatchError {
  override name = "PermanentDeliveryError";
}

/** Might work later (throttling, 5xx, timeouts, network, a transport misconfigured on our side). */
export class TransientDeliveryError extends DispatchError {
  override name = "TransientDeliveryError";
  constructor(
    message: string,
    /** The service's own hint (Retry-After), when it gave one. */
    readonly retryAfterMs?: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** An SMS target that is not E.164, or an email address that is missing or malformed. */
export class InvalidRecipientError extends PermanentDeliveryError {
  override name = "InvalidRecipientError";
}

/** A webhook URL refused by the SSRF guard: not https, private, loopback or link-local. */
export class UnsafeWebhookTargetError extends PermanentDeliveryError {
  override name = "UnsafeWebhookTargetError";
}

/** Another attempt holds the claim of this delivery and has not expired: try again later. */
export class DeliveryInProgressError extends TransientDeliveryError {
  override name = "DeliveryInProgressError";
}

/** A delivery still failed after the in-process retries: the message goes back to the queue. */
export class DeliveryRetriesExhaustedError extends DispatchError {
  override name = "DeliveryRetriesExhaustedError";
}

/** A queue message that is not an action: it fails alone and ends in the dead-letter queue. */
export class InvalidActionMessageError extends DispatchError {
  override name = "InvalidActionMessageError";
}
