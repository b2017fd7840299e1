import { setTimeout as delay } from "node:timers/promises";
import type { z } from "zod";
import type { Provider } from "#core/model/vehicle.ts";
import {
  ProviderAuthError,
  ProviderConflictError,
  ProviderNotFoundError,
  ProviderRateLimitError,
  ProviderUnavailableError,
} from "#core/providers/errors.ts";
import { ProviderRequestRejectedError, ProviderResponseInvalidError } from "./errors.ts";

/**
 * The one HTTP path every provider client takes: native fetch, a timeout per attempt,
 * retries with exponential backoff and full jitter on 5xx, 429 and network failures,
 * Retry-After honoured, and every failure translated into the typed provider errors.
 */

export type RetryPolicy = {
  /** Attempts in all, the first included (1 = never retry). */
  maxAttempts: number;
  /** Backoff before retry n is uniform in [0, min(maxDelayMs, baseDelayMs · 2^(n-1))] ("full jitter"). */
  baseDelayMs: number;
  maxDelayMs: number;
  /**
   * The longest Retry-After we wait for inside one call. A longer one ends the call with
   * ProviderRateLimitError(retryAfterMs) so the caller (the poller) reschedules instead of blocking.
   */
  maxRetryAfterMs: number;
};

export type HttpOptions = {
  provider: Provider;
  /** Per attempt, covering connect, headers and body. */
  timeoutMs: number;
  retry: RetryPolicy;
  /** Injectable for tests; defaults to a real timer and Math.random. */
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
};

export type JsonRequest = {
  method?: "GET" | "POST" | "PUT" | "DELETE" | "PATCH";
  url: string | URL;
  headers?: Readonly<Record<string, string>>;
  /** Sent as application/json. */
  json?: unknown;
  /** Sent as application/x-www-form-urlencoded. */
  form?: Readonly<Record<string, string>>;
  /**
   * May the request be repeated after an unknown outcome (timeout, 5xx, dropped connection)?
   * Defaults to true for GET, PUT and DELETE, false for POST and PATCH: a vehicle command
   * that timed out may have been performed, so it is never sent twice. A 429 is retried
   * either way (the provider did not act on it).
   */
  idempotent?: boolean;
  /** Counts every attempt that reached the network, for per-provider request budgets. */
  meter?: RequestMeter;
  /** "text" hands the raw body to the schema (OVMS answers some calls in plain text). Default "json". */
  responseType?: "json" | "text";
};

/** Requests spent, counted across calls (one poll makes several). */
export type RequestMeter = { requests: number };

export type JsonResponse<T> = { status: number; headers: Headers; body: T; attempts: number };

const defaultSleep = (ms: number): Promise<void> => delay(ms).then(() => undefined);

/**
 * Sends one request and parses the 2xx body with `schema`.
 *
 * @example
 * const { body } = await fetchJson({ url: `${base}/vehicle/` }, VehicleList, { provider: "automatic", timeoutMs: 10_000, retry });
 */
export const fetchJson = async <S extends z.ZodType>(
  request: JsonRequest,
  schema: S,
  options: HttpOptions,
): Promise<JsonResponse<z.output<S>>> => {
  const { provider, retry } = options;
  const sleep = options.sleep ?? defaultSleep;
  const random = options.random ?? Math.random;
  const method = request.method ?? "GET";
  const idempotent = request.idempotent ?? (method === "GET" || method === "PUT" || method === "DELETE");
  const what = `${method} ${new URL(request.url).pathname}`;

  for (let attempt = 1; ; attempt++) {
    const backoffMs = random() * Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** (attempt - 1));
    const canRetry = attempt < retry.maxAttempts;
    if (request.meter) request.meter.requests += 1;
    let response: Response;
    let text: string;
    try {
      response = await fetch(request.url, {
        method,
        headers: headersOf(request),
        ...bodyOf(request),
        redirect: "manual",
        signal: AbortSignal.timeout(options.timeoutMs),
      });
      text = await response.text();
    } catch (error) {
      if (canRetry && idempotent) {
        await sleep(backoffMs);
        continue;
      }
      const reason = isTimeout(error) ? `timed out after ${options.timeoutMs} ms` : "network error";
      throw new ProviderUnavailableError(provider, `${what} ${reason} (attempt ${attempt})`, { cause: error });
    }

    const { status } = response;
    if (status >= 200 && status < 300) {
      return {
        status,
        headers: response.headers,
        body: parseBody(provider, what, text, schema, request.responseType),
        attempts: attempt,
      };
    }
    const detail = `${what} → ${status}${errorDetail(text)}`;
    if (status === 429) {
      const retryAfterMs = retryAfterOf(response.headers);
      const waitMs = retryAfterMs ?? backoffMs;
      if (canRetry && waitMs <= retry.maxRetryAfterMs) {
        await sleep(waitMs);
        continue;
      }
      throw new ProviderRateLimitError(provider, detail, retryAfterMs);
    }
    if (status >= 500) {
      const retryAfterMs = retryAfterOf(response.headers);
      const waitMs = retryAfterMs === undefined ? backoffMs : Math.max(retryAfterMs, backoffMs);
      if (canRetry && idempotent && waitMs <= retry.maxRetryAfterMs) {
        await sleep(waitMs);
        continue;
      }
      throw new ProviderUnavailableError(provider, `${detail} (attempt ${attempt})`);
    }
    throw statusError(provider, status, detail);
  }
};

/** The typed error for a non-retryable 4xx (or a 3xx: we never follow redirects to unknown hosts). */
const statusError = (provider: Provider, status: number, detail: string): Error => {
  if (status === 401 || status === 403) return new ProviderAuthError(provider, detail);
  if (status === 404) return new ProviderNotFoundError(provider, detail);
  if (status === 409) return new ProviderConflictError(provider, detail);
  return new ProviderRequestRejectedError(provider, status, detail);
};

const headersOf = (request: JsonRequest): Record<string, string> => ({
  accept: "application/json",
  ...(request.json === undefined ? {} : { "content-type": "application/json" }),
  ...(request.form === undefined ? {} : { "content-type": "application/x-www-form-urlencoded" }),
  ...request.headers,
});

const bodyOf = (request: JsonRequest): { body?: string } => {
  if (request.json !== undefined) return { body: JSON.stringify(request.json) };
  if (request.form !== undefined) return { body: new URLSearchParams(request.form).toString() };
  return {};
};

const isTimeout = (error: unknown): boolean =>
  error instanceof DOMException && (error.name === "TimeoutError" || error.name === "AbortError");

const parseBody = <S extends z.ZodType>(
  provider: Provider,
  what: string,
  text: string,
  schema: S,
  responseType: JsonRequest["responseType"],
): z.output<S> => {
  let json: unknown;
  try {
    json = responseType === "text" ? text : text === "" ? undefined : JSON.parse(text);
  } catch (error) {
    throw new ProviderResponseInvalidError(provider, `${what}: response is not JSON`, { cause: error });
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    const where = first ? `${first.path.join(".") || "(root)"}: ${first.message}` : "invalid";
    throw new ProviderResponseInvalidError(provider, `${what}: unexpected response (${where})`, {
      cause: parsed.error,
    });
  }
  return parsed.data;
};

/** Retry-After as delay-seconds or an HTTP date, in milliseconds; undefined when absent or unreadable. */
export const retryAfterOf = (headers: Headers, now = Date.now()): number | undefined => {
  const value = headers.get("retry-after")?.trim();
  if (!value) return undefined;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
};

/** The provider's own words about an error, short: `{error}`, `{message}`, `{code}` or plain text. */
const errorDetail = (text: string): string => {
  if (text === "") return "";
  let said: string | undefined;
  try {
    const body = JSON.parse(text) as Record<string, unknown> | null;
    const parts = ["error", "code", "message", "detail", "description"]
      .map((key) => body?.[key])
      .filter((part): part is string | number => typeof part === "string" || typeof part === "number");
    said = parts.length > 0 ? parts.join(": ") : undefined;
  } catch {
    said = text;
  }
  return said === undefined ? "" : ` (${said.trim().slice(0, 200)})`;
};
