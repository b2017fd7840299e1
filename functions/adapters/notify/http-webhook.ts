import { lookup } from "node:dns/promises";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { isIP, type LookupFunction } from "node:net";
import { PermanentDeliveryError, TransientDeliveryError, UnsafeWebhookTargetError } from "#core/dispatch/errors.ts";
import type { Envelope, Sent, WebhookChannel, WebhookRequest } from "#core/dispatch/ports.ts";
import {
  checkWebhookTarget,
  classifyWebhookStatus,
  type ResolveHost,
  WEBHOOK_TIMEOUT_MS,
  type WebhookMode,
} from "#core/dispatch/webhook.ts";

const resolveAll: ResolveHost = async (hostname) =>
  (await lookup(hostname, { all: true, verbatim: true })).map((entry) => entry.address);

/**
 * A `lookup` for http/https `request()` (net and tls call it to connect) that
 * sends `host` to `addresses` and nowhere else: it answers from the list
 * without asking DNS, and refuses any other name (UnsafeWebhookTargetError),
 * so no connection made with it can have been resolved by anyone but the SSRF
 * guard. TLS still verifies the certificate against `host`, the URL's name.
 * `pinnedLookup("hooks.example.com", ["93.184.215.14"])`
 */
export const pinnedLookup = (host: string, addresses: readonly string[]): LookupFunction => {
  const entries = addresses.map((address) => ({ address, family: isIP(address) }));
  return (hostname, options, callback) => {
    const first = entries[0];
    if (hostname !== host || first === undefined)
      return callback(
        new UnsafeWebhookTargetError(`webhook connection to ${hostname} is not pinned (only ${host})`),
        "",
      );
    // net asks for every address when it races the families (autoSelectFamily), otherwise for one.
    if (options.all === true) return callback(null, entries);
    callback(null, first.address, first.family);
  };
};

/**
 * Signed webhooks over node:http / node:https: the target is checked first
 * (SSRF guard in `aws` mode), redirects are not followed (a redirect could
 * point inside; request() never follows one), and the request times out after 10 s.
 *
 * A host name checked in `aws` mode is connected through a pinnedLookup: the
 * default lookup would resolve the name again, and an answer that changed
 * since the check (DNS rebinding) would reach the addresses the guard refused.
 */
export class HttpWebhookChannel implements WebhookChannel {
  readonly transport = "http" as const;
  constructor(
    private readonly mode: WebhookMode,
    private readonly resolve: ResolveHost = resolveAll,
    private readonly timeoutMs = WEBHOOK_TIMEOUT_MS,
    private readonly send: SendWebhook = sendWebhook,
  ) {}

  async postWebhook(_envelope: Envelope, request: WebhookRequest): Promise<Sent> {
    const { url, addresses } = await checkWebhookTarget(request.url, this.mode, this.resolve);
    // Addresses come only with a host name (never an IP literal), so url.hostname is the name the guard checked.
    const pin = addresses === undefined ? undefined : pinnedLookup(url.hostname, addresses);
    let response: IncomingMessage;
    try {
      response = await this.send(url, request, pin, this.timeoutMs);
    } catch (error) {
      // A refusal raised inside the connection (the pin's lookup, which net passes on as is) keeps its own type.
      if (isDeliveryError(error)) throw error;
      throw new TransientDeliveryError(`webhook to ${url.host} failed: ${(error as Error).name}`, undefined, {
        cause: error,
      });
    }
    // A client-side IncomingMessage always has a status; 0 (permanent) only satisfies the type.
    const status = response.statusCode ?? 0;
    const verdict = classifyWebhookStatus(status);
    if (verdict === "sent") return { messageId: `http:${status}` };
    if (verdict === "transient")
      throw new TransientDeliveryError(`webhook to ${url.host} answered ${status}`, retryAfterMs(response));
    throw new PermanentDeliveryError(`webhook to ${url.host} answered ${status}`);
  }
}

/** Sends one POST to `url`, connecting through `lookup` when given: what HttpWebhookChannel sends with. */
export type SendWebhook = (
  url: URL,
  request: WebhookRequest,
  lookup: LookupFunction | undefined,
  timeoutMs: number,
) => Promise<IncomingMessage>;

/** Receivers and their firewalls see who calls; some refuse a request without a User-Agent. */
const USER_AGENT = "dashlight-webhook";

/**
 * One POST, settled with the answer's status line and headers; the body is
 * never read (destroyed at once with its socket). On timeout the request is
 * destroyed with the signal's reason, so the failure is named TimeoutError.
 * `agent: false`: no socket pool, whose sockets are keyed by host and port, not
 * by how the name was resolved; reusing one would skip the pin (destroying
 * each answer's socket already keeps it from being reused; this keeps that true).
 */
export const sendWebhook: SendWebhook = (url, request, lookup, timeoutMs) =>
  new Promise((resolve, reject) => {
    const send = url.protocol === "https:" ? httpsRequest : httpRequest;
    const headers = { "user-agent": USER_AGENT, ...request.headers };
    const options = { method: "POST", headers, agent: false, ...(lookup && { lookup }) };
    const outgoing = send(url, options, (response) => {
      response.destroy();
      resolve(response);
    });
    const signal = AbortSignal.timeout(timeoutMs);
    const abort = () => outgoing.destroy(signal.reason);
    signal.addEventListener("abort", abort, { once: true });
    outgoing.once("close", () => signal.removeEventListener("abort", abort));
    outgoing.on("error", reject);
    outgoing.end(request.body);
  });

/** One of our own verdicts (UnsafeWebhookTargetError is a PermanentDeliveryError), not a network failure. */
const isDeliveryError = (error: unknown): error is PermanentDeliveryError | TransientDeliveryError =>
  error instanceof PermanentDeliveryError || error instanceof TransientDeliveryError;

const retryAfterMs = (response: IncomingMessage): number | undefined => {
  const value = response.headers["retry-after"];
  if (value === undefined || !/^\d+$/.test(value)) return undefined;
  return Number(value) * 1000;
};
