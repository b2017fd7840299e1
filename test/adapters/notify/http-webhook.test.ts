import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo, LookupFunction } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HttpWebhookChannel, pinnedLookup, type SendWebhook, sendWebhook } from "#adapters/notify/http-webhook.ts";
import { dispatchAction } from "#core/dispatch/dispatch-action.ts";
import { PermanentDeliveryError, TransientDeliveryError, UnsafeWebhookTargetError } from "#core/dispatch/errors.ts";
import { memoryDeps, sampleActions } from "#test/support/dispatch-doubles.ts";

/**
 * How a receiver verifies a Dashlight webhook, written from the documented
 * scheme only: HMAC-SHA256 of "<timestamp>.<raw body>", hex, "v1=" prefix,
 * compared in constant time, timestamp within 5 minutes.
 */
const verifyDashlightWebhook = (
  rawBody: string,
  headers: IncomingHttpHeaders,
  secret: string,
  nowSeconds: number,
): boolean => {
  const timestamp = headers["x-dashlight-timestamp"];
  const signature = headers["x-dashlight-signature"];
  if (typeof timestamp !== "string" || typeof signature !== "string") return false;
  if (Math.abs(nowSeconds - Number(timestamp)) > 300) return false;
  const expected = Buffer.from(`v1=${createHmac("sha256", secret).update(`${timestamp}.${rawBody}`).digest("hex")}`);
  const given = Buffer.from(signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
};

type Hit = { path: string; body: string; headers: IncomingHttpHeaders };
const hits: Hit[] = [];
let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      hits.push({ path: request.url ?? "", body: Buffer.concat(chunks).toString("utf8"), headers: request.headers });
      if (request.url === "/ok") return response.writeHead(204).end();
      if (request.url === "/busy") return response.writeHead(503, { "retry-after": "2" }).end();
      if (request.url === "/gone") return response.writeHead(410).end();
      if (request.url === "/moved") return response.writeHead(302, { location: "http://169.254.169.254/" }).end();
      if (request.url === "/slow") return setTimeout(() => response.writeHead(200).end(), 2_000);
      response.writeHead(404).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const envelope = { deliveryId: "d/0", actionId: "d/0", ruleId: "r", vehicleId: "smartcar:v", episode: 1 };

describe("signed webhooks over HTTP", () => {
  it("posts a body whose signature verifies with the receiver's reference implementation", async () => {
    const now = new Date();
    const deps = memoryDeps(now, { webhook: new HttpWebhookChannel("local"), webhookSecret: "whsec_shared" });
    const action = sampleActions.webhook({ url: `${base}/ok` } as never);
    const result = await dispatchAction(action, deps);
    expect(result.outcomes.map((outcome) => [outcome.status, outcome.messageId])).toStrictEqual([["sent", "http:204"]]);
    const hit = hits.find((candidate) => candidate.path === "/ok");
    expect(hit?.headers["content-type"]).toBe("application/json");
    expect(hit?.headers["user-agent"]).toBe("dashlight-webhook");
    expect(hit?.headers["x-dashlight-delivery"]).toBe(action.id);
    const nowSeconds = Math.floor(now.getTime() / 1000);
    expect(verifyDashlightWebhook(hit?.body ?? "", hit?.headers ?? {}, "whsec_shared", nowSeconds)).toBe(true);
    expect(verifyDashlightWebhook(hit?.body ?? "", hit?.headers ?? {}, "wrong-secret", nowSeconds)).toBe(false);
    expect(verifyDashlightWebhook(`${hit?.body} `, hit?.headers ?? {}, "whsec_shared", nowSeconds)).toBe(false);
    expect(verifyDashlightWebhook(hit?.body ?? "", hit?.headers ?? {}, "whsec_shared", nowSeconds + 600)).toBe(false);
    expect(JSON.parse(hit?.body ?? "{}").id).toBe(action.id);
  });

  it("maps answers: 503 transient with Retry-After, 410 permanent, a redirect permanent (never followed)", async () => {
    const channel = new HttpWebhookChannel("local");
    const post = (path: string) => channel.postWebhook(envelope, { url: `${base}${path}`, body: "{}", headers: {} });
    await expect(post("/busy")).rejects.toStrictEqual(
      new TransientDeliveryError(`webhook to ${new URL(base).host} answered 503`, 2_000),
    );
    await expect(post("/gone")).rejects.toStrictEqual(
      new PermanentDeliveryError(`webhook to ${new URL(base).host} answered 410`),
    );
    await expect(post("/moved")).rejects.toBeInstanceOf(PermanentDeliveryError);
  });

  it("gives up after the timeout as a transient failure", async () => {
    const channel = new HttpWebhookChannel("local", undefined, 200);
    const failure = await channel
      .postWebhook(envelope, { url: `${base}/slow`, body: "{}", headers: {} })
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(TransientDeliveryError);
    expect((failure as Error).message).toBe(`webhook to ${new URL(base).host} failed: TimeoutError`);
  });

  it("refuses loopback and plain http targets in aws mode before connecting", async () => {
    const before = hits.length;
    const channel = new HttpWebhookChannel("aws", async () => ["127.0.0.1"]);
    await expect(channel.postWebhook(envelope, { url: `${base}/ok`, body: "{}", headers: {} })).rejects.toBeInstanceOf(
      UnsafeWebhookTargetError,
    );
    await expect(
      channel.postWebhook(envelope, { url: "https://hooks.internal.example/", body: "{}", headers: {} }),
    ).rejects.toStrictEqual(
      new UnsafeWebhookTargetError("webhook host hooks.internal.example resolves to a non-public address (127.0.0.1)"),
    );
    expect(hits.length).toBe(before);
  });
});

/** sendWebhook through `lookup`, settled with the status or the error the request raised. */
const postThrough = (url: string, body: string, lookup: LookupFunction): Promise<number | undefined | unknown> =>
  sendWebhook(new URL(url), { url, body, headers: {} }, lookup, 2_000).then(
    (response) => response.statusCode,
    (error: unknown) => error,
  );

describe("pinning the checked addresses (DNS rebinding)", () => {
  const port = () => (server.address() as AddressInfo).port;

  it("connects a name that does not resolve at all to the pinned address", async () => {
    const before = hits.length;
    const lookup = pinnedLookup("hooks.pinned.invalid", ["127.0.0.1"]);
    expect(await postThrough(`http://hooks.pinned.invalid:${port()}/ok`, "pinned", lookup)).toBe(204);
    expect(hits.slice(before).map((hit) => [hit.path, hit.body, hit.headers.host])).toStrictEqual([
      ["/ok", "pinned", `hooks.pinned.invalid:${port()}`],
    ]);
  });

  it("refuses any other name through the same pin, before a connection", async () => {
    const before = hits.length;
    const lookup = pinnedLookup("hooks.pinned.invalid", ["127.0.0.1"]);
    expect(await postThrough(`http://other.pinned.invalid:${port()}/ok`, "{}", lookup)).toStrictEqual(
      new UnsafeWebhookTargetError(
        "webhook connection to other.pinned.invalid is not pinned (only hooks.pinned.invalid)",
      ),
    );
    expect(hits.length).toBe(before);
  });

  it("answers both forms of lookup call from the pinned list", () => {
    const lookup = pinnedLookup("hooks.pinned.invalid", ["93.184.215.14", "2606:4700::1111"]);
    const answers: unknown[][] = [];
    lookup("hooks.pinned.invalid", { all: true }, (...answer) => answers.push(answer));
    lookup("hooks.pinned.invalid", {}, (...answer) => answers.push(answer));
    expect(answers).toStrictEqual([
      [
        null,
        [
          { address: "93.184.215.14", family: 4 },
          { address: "2606:4700::1111", family: 6 },
        ],
      ],
      [null, "93.184.215.14", 4],
    ]);
  });

  it("in aws mode sends through a lookup that answers the checked addresses only; in local mode through none", async () => {
    const sent: { url: string; lookup: LookupFunction | undefined }[] = [];
    const send: SendWebhook = async (url, _request, lookup) => {
      sent.push({ url: url.href, lookup });
      return { statusCode: 204, headers: {} } as IncomingMessage;
    };
    const asked: string[] = [];
    const checked = ["93.184.215.14", "2606:4700::1111"];
    const resolve = async (hostname: string) => {
      asked.push(hostname);
      return checked;
    };
    const channel = new HttpWebhookChannel("aws", resolve, 1_000, send);
    const post = { url: "https://hooks.example.com/x", body: "{}", headers: {} };
    expect(await channel.postWebhook(envelope, post)).toStrictEqual({ messageId: "http:204" });
    expect([asked, sent.map((s) => s.url)]).toStrictEqual([["hooks.example.com"], ["https://hooks.example.com/x"]]);
    const answers: unknown[][] = [];
    sent[0]?.lookup?.("hooks.example.com", { all: true }, (...answer) => answers.push(answer));
    sent[0]?.lookup?.("rebound.example.com", {}, (...answer) => answers.push(answer));
    expect(answers).toStrictEqual([
      [
        null,
        [
          { address: "93.184.215.14", family: 4 },
          { address: "2606:4700::1111", family: 6 },
        ],
      ],
      [
        new UnsafeWebhookTargetError(
          "webhook connection to rebound.example.com is not pinned (only hooks.example.com)",
        ),
        "",
      ],
    ]);
    await new HttpWebhookChannel("local", resolve, 1_000, send).postWebhook(envelope, { ...post, url: `${base}/ok` });
    expect([sent.length, sent[1]?.lookup]).toStrictEqual([2, undefined]);
  });

  it("asks DNS once per post in aws mode and refuses a non-public answer before connecting", async () => {
    const before = hits.length;
    const asked: string[] = [];
    const channel = new HttpWebhookChannel("aws", async (hostname) => {
      asked.push(hostname);
      return ["10.0.0.7"];
    });
    await expect(
      channel.postWebhook(envelope, { url: "https://hooks.rebind.example/x", body: "{}", headers: {} }),
    ).rejects.toStrictEqual(
      new UnsafeWebhookTargetError("webhook host hooks.rebind.example resolves to a non-public address (10.0.0.7)"),
    );
    expect(asked).toStrictEqual(["hooks.rebind.example"]);
    expect(hits.length).toBe(before);
  });
});
