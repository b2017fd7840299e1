import type { VehicleCommand } from "../model/commands.ts";

/** Base class of errors from provider APIs, translated from HTTP by each provider's client. */
export class ProviderError extends Error {
  override name = "ProviderError";
  constructor(
    readonly provider: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(`${provider}: ${message}`, options);
  }
}

/** Credentials rejected (401/403): the vehicle needs its owner to re-authorize; never retried. */
export class ProviderAuthError extends ProviderError {
  override name = "ProviderAuthError";
}
/** The provider does not know the vehicle or resource (404). */
export class ProviderNotFoundError extends ProviderError {
  override name = "ProviderNotFoundError";
}
/** The vehicle's state conflicts with the request (409), e.g. asleep or already charging. */
export class ProviderConflictError extends ProviderError {
  override name = "ProviderConflictError";
}
/** Rate limited (429); `retryAfterMs` from Retry-After when the provider sent one. */
export class ProviderRateLimitError extends ProviderError {
  override name = "ProviderRateLimitError";
  constructor(
    provider: string,
    message: string,
    readonly retryAfterMs: number | undefined,
    options?: ErrorOptions,
  ) {
    super(provider, message, options);
  }
}
/** 5xx, timeouts and network failures that outlived the client's retries: transient. */
export class ProviderUnavailableError extends ProviderError {
  override name = "ProviderUnavailableError";
}
/** The provider cannot perform this command at all (capability matrix); permanent. */
export class UnsupportedCommandError extends ProviderError {
  override name = "UnsupportedCommandError";
  constructor(
    provider: string,
    readonly command: VehicleCommand,
    options?: ErrorOptions,
  ) {
    super(provider, `command ${command} is not supported by ${provider}`, options);
  }
}
