import { ProviderError } from "#core/providers/errors.ts";

/*
 * HTTP outcomes that the core's provider errors (401/403/404/409/429/5xx) do not name.
 * Both are permanent for the request as sent: retrying the same request cannot help.
 */

/** The provider refused the request itself (400, 405, 422, …): a bug on our side or an unexpected API change. */
export class ProviderRequestRejectedError extends ProviderError {
  override name = "ProviderRequestRejectedError";
  constructor(
    provider: string,
    readonly status: number,
    message: string,
    options?: ErrorOptions,
  ) {
    super(provider, message, options);
  }
}

/** A 2xx response whose body is not JSON or does not match the schema we hold for it. */
export class ProviderResponseInvalidError extends ProviderError {
  override name = "ProviderResponseInvalidError";
}
