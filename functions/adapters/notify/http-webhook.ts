import { lookup } from "node:dns/promises";
import { PermanentDeliveryError, TransientDeliveryError } from "#core/dispatch/errors.ts";
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
 * Signed webhooks over fetch: the target is checked first (SSRF guard in
 * `aws` mode), redirects are not followed (a redirect could point inside),
 * and the request times out after 10 s.
 *
 * The guard resolves the name before fetch resolves it again, so a DNS answer
 * that changes in between (rebinding) is not caught; pinning the checked
 * address needs an undici dispatcher, which is not a dependency yet.
 */
export class HttpWebhookChannel implements WebhookChannel {
  readonly transport = "http" as const;
  constructor(
    private readonly mode: WebhookMode,
    private readonly resolve: ResolveHost = resolveAll,
    private readonly timeoutMs = WEBHOOK_TIMEOUT_MS,
  ) {}

  async postWebhook(_envelope: Envelope, request: WebhookRequest): Promise<Sent> {
    const url = await checkWebhookTarget(request.url, this.mode, this.resolve);
    let response: Response;
    try {
      response = await fetch(url, {
        method: "POST",
        headers: request.headers,
        body: request.body,
        redirect: "manual",
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      await response.body?.cancel();
    } catch (error) {
      throw new TransientDeliveryError(`webhook to ${url.host} failed: ${(error as Error).name}`, undefined, {
        cause: error,
      });
    }
    const verdict = classifyWebhookStatus(response.status);
    if (verdict === "sent") return { messageId: `http:${response.status}` };
    if (verdict === "transient")
      throw new TransientDeliveryError(`webhook to ${url.host} answered ${response.status}`, retryAfterMs(response));
    throw new PermanentDeliveryError(`webhook to ${url.host} answered ${response.status}`);
  }
}

const retryAfterMs = (response: Response): number | undefined => {
  const value = response.headers.get("retry-after");
  if (value === null || !/^\d+$/.test(value)) return undefined;
  return Number(value) * 1000;
};
