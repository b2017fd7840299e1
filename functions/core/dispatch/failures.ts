import {
  ProviderAuthError,
  ProviderConflictError,
  ProviderNotFoundError,
  ProviderRateLimitError,
  ProviderUnavailableError,
  UnsupportedCommandError,
} from "../providers/errors.ts";
import { PermanentDeliveryError, TransientDeliveryError } from "./errors.ts";

export type FailureClass = { kind: "transient"; retryAfterMs?: number } | { kind: "permanent" };

/**
 * Whether retrying a failed delivery can help. Permanent: invalid targets and
 * the provider's 4xx answers (auth, not found, conflict, unsupported command).
 * Transient: throttling, 5xx, timeouts. Anything unrecognised is transient, so
 * it is retried and, if it keeps failing, kept in the dead-letter queue for a
 * person to look at instead of being dropped as "failed".
 *
 * `classifyFailure(new UnsupportedCommandError("ovms", "lock"))` → `{ kind: "permanent" }`
 */
export const classifyFailure = (error: unknown): FailureClass => {
  if (error instanceof PermanentDeliveryError) return { kind: "permanent" };
  if (error instanceof TransientDeliveryError) return withRetryAfter(error.retryAfterMs);
  if (
    error instanceof UnsupportedCommandError ||
    error instanceof ProviderAuthError ||
    error instanceof ProviderNotFoundError ||
    error instanceof ProviderConflictError
  )
    return { kind: "permanent" };
  if (error instanceof ProviderRateLimitError) return withRetryAfter(error.retryAfterMs);
  if (error instanceof ProviderUnavailableError) return { kind: "transient" };
  return { kind: "transient" };
};

const withRetryAfter = (retryAfterMs: number | undefined): FailureClass =>
  retryAfterMs === undefined ? { kind: "transient" } : { kind: "transient", retryAfterMs };

/** How many times one invocation tries a delivery before handing it back to the queue. */
export type RetryPolicy = { attempts: number; baseDelayMs: number; maxDelayMs: number };

export const DEFAULT_RETRY_POLICY: RetryPolicy = { attempts: 3, baseDelayMs: 200, maxDelayMs: 2_000 };

/**
 * Delay before retry number `attempt` (1 = the first retry): exponential with
 * full jitter, never shorter than the service's Retry-After, never longer than
 * the cap (a longer Retry-After is left to the queue's redelivery).
 *
 * `backoffDelayMs(2, DEFAULT_RETRY_POLICY, undefined, () => 0.5)` → 200
 */
export const backoffDelayMs = (
  attempt: number,
  policy: RetryPolicy,
  retryAfterMs: number | undefined,
  random: () => number,
): number => {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  const jittered = Math.floor(random() * ceiling);
  return Math.min(policy.maxDelayMs, Math.max(jittered, retryAfterMs ?? 0));
};
