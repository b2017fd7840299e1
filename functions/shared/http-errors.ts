import { logger } from "./logger.ts";

/**
 * Errors shown to HTTP callers. middy's http-error-handler exposes those below
 * 500 as they are (the JSON message becomes the body) and turns anything else
 * into a plain 500.
 */
export class HttpError extends Error {
  override name = "HttpError";
  readonly expose = true;
  /** Response headers the error handler adds (e.g. a Set-Cookie that clears a session). */
  readonly headers: Record<string, string>;
  constructor(
    readonly statusCode: number,
    body: Record<string, unknown>,
    options?: ErrorOptions & { headers?: Record<string, string> },
  ) {
    super(JSON.stringify(body), options);
    this.headers = options?.headers ?? {};
  }
}

export const badRequest = (message: string, issues?: readonly { path: string; message: string }[], cause?: unknown) =>
  new HttpError(400, issues === undefined ? { error: message } : { error: message, issues }, { cause });
export const unauthorized = (message: string) => new HttpError(401, { error: message });
export const forbidden = (message: string, cause?: unknown, headers?: Record<string, string>) =>
  new HttpError(403, { error: message }, { cause, ...(headers === undefined ? {} : { headers }) });
export const notFound = (message: string) => new HttpError(404, { error: message });
export const payloadTooLarge = (limitBytes: number) =>
  new HttpError(413, { error: `request body is larger than ${limitBytes} bytes` });

/**
 * For middy's http-error-handler: a caller's mistake (4xx) is a warning with
 * its message; anything else is an error with its stack and cause.
 */
export const logHttpError = (error: unknown): void => {
  if (error instanceof HttpError && error.statusCode < 500) {
    logger.warn("request refused", { statusCode: error.statusCode, reason: error.message });
  } else {
    logger.error("request failed", { error: error as Error });
  }
};
