import { createHmac } from "node:crypto";
import { BlockList, isIP } from "node:net";
import type { Action } from "../rules/state.ts";
import { PermanentDeliveryError, TransientDeliveryError, UnsafeWebhookTargetError } from "./errors.ts";

export const WEBHOOK_HEADERS = {
  /** Unix seconds when the request was signed; receivers reject old ones (replays). */
  timestamp: "x-dashlight-timestamp",
  /** `v1=<hex HMAC-SHA256 of "<timestamp>.<body>">`, keyed by the shared signing secret. */
  signature: "x-dashlight-signature",
  /** The delivery id: the same on every retry, for receivers that deduplicate. */
  delivery: "x-dashlight-delivery",
} as const;

export const WEBHOOK_TIMEOUT_MS = 10_000;

/** The JSON a webhook action posts: the rule engine's body plus the action id. */
export const webhookBodyOf = (action: Extract<Action, { type: "webhook" }>): string =>
  JSON.stringify({ id: action.id, ...action.body });

/**
 * Signs a webhook body: HMAC-SHA256 over `${timestamp}.${body}`.
 * `signWebhook('{"a":1}', "secret", 1777622400)` →
 * `{ "x-dashlight-timestamp": "1777622400", "x-dashlight-signature": "v1=<64 hex>" }`
 */
export const signWebhook = (body: string, secret: string, timestampSeconds: number): Record<string, string> => {
  const timestamp = String(timestampSeconds);
  const digest = createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex");
  return { [WEBHOOK_HEADERS.timestamp]: timestamp, [WEBHOOK_HEADERS.signature]: `v1=${digest}` };
};

/**
 * Where webhooks may go. `local`: anything (a receiver on this machine is the
 * point of local mode). `aws`: https only, and never an address inside the
 * network the function runs in (SSRF: metadata endpoint, VPC, loopback).
 */
export type WebhookMode = "local" | "aws";

const blocked = new BlockList();
for (const [network, prefix] of [
  ["0.0.0.0", 8], // "this" network
  ["10.0.0.0", 8],
  ["100.64.0.0", 10], // carrier-grade NAT
  ["127.0.0.0", 8],
  ["169.254.0.0", 16], // link-local, incl. the instance metadata endpoint
  ["172.16.0.0", 12],
  ["192.0.0.0", 24],
  ["192.0.2.0", 24],
  ["192.168.0.0", 16],
  ["198.18.0.0", 15],
  ["198.51.100.0", 24],
  ["203.0.113.0", 24],
  ["224.0.0.0", 4], // multicast
  ["240.0.0.0", 4], // reserved and broadcast
] as const)
  blocked.addSubnet(network, prefix, "ipv4");
for (const [network, prefix] of [
  ["::", 128], // unspecified
  ["::1", 128], // loopback
  ["fc00::", 7], // unique local
  ["fe80::", 10], // link-local
  ["fec0::", 10], // site-local (deprecated)
  ["ff00::", 8], // multicast
  ["2001:db8::", 32], // documentation
  ["100::", 64], // discard
] as const)
  blocked.addSubnet(network, prefix, "ipv6");

/**
 * An IPv4 address embedded in IPv6, or undefined: IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible
 * (::a.b.c.d, deprecated), IPv4-translated (::ffff:0:a.b.c.d) and NAT64 (64:ff9b::a.b.c.d), dotted or in hex.
 */
const embeddedIpv4 = (address: string): string | undefined => {
  const lower = address.toLowerCase();
  const dotted = /^(?:::ffff:|::ffff:0:|::|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
  if (dotted) return dotted[1];
  const hex = /^(?:::ffff:|::ffff:0:|::|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(lower);
  if (!hex) return undefined;
  const high = Number.parseInt(hex[1] ?? "0", 16);
  const low = Number.parseInt(hex[2] ?? "0", 16);
  return [high >> 8, high & 255, low >> 8, low & 255].join(".");
};

/**
 * True when a webhook may be sent to this IP address from AWS.
 * `isPublicAddress("93.184.215.14")` → true; `isPublicAddress("169.254.169.254")`,
 * `isPublicAddress("::ffff:127.0.0.1")`, `isPublicAddress("fd00::1")` → false.
 */
export const isPublicAddress = (address: string): boolean => {
  const bare = address.replace(/^\[|\]$/g, "");
  const family = isIP(bare);
  if (family === 4) return !blocked.check(bare, "ipv4");
  if (family !== 6) return false;
  const v4 = embeddedIpv4(bare);
  if (v4 !== undefined) return isIP(v4) === 4 && !blocked.check(v4, "ipv4");
  return !blocked.check(bare, "ipv6");
};

/** Resolves a host name to every address it has (A and AAAA). */
export type ResolveHost = (hostname: string) => Promise<string[]>;

/**
 * A webhook target that passed the guard. `addresses` are the public addresses
 * a host name resolved to in `aws` mode: the request must connect to these and
 * no others, since asking DNS again could answer differently (rebinding).
 * `undefined` when there is nothing to pin: local mode, or an IP literal (it is
 * its own address).
 */
export type WebhookTarget = { url: URL; addresses: readonly string[] | undefined };

/**
 * Checks a webhook URL before anything is sent, or throws UnsafeWebhookTargetError
 * (permanent). In `aws` mode every address the name resolves to must be public.
 * A DNS failure other than "no such name" is transient.
 * `checkWebhookTarget("https://hooks.example.com/x", "aws", resolve)` →
 * `{ url: URL("https://hooks.example.com/x"), addresses: ["93.184.215.14"] }`
 */
export const checkWebhookTarget = async (
  url: string,
  mode: WebhookMode,
  resolve: ResolveHost,
): Promise<WebhookTarget> => {
  if (!URL.canParse(url)) throw new UnsafeWebhookTargetError(`webhook URL is not a URL: ${url}`);
  const parsed = new URL(url);
  if (parsed.username !== "" || parsed.password !== "")
    throw new UnsafeWebhookTargetError("webhook URL must not carry credentials");
  const allowed = mode === "local" ? ["https:", "http:"] : ["https:"];
  if (!allowed.includes(parsed.protocol))
    throw new UnsafeWebhookTargetError(`webhook URL must use ${allowed.join(" or ")}: ${parsed.protocol}`);
  if (mode === "local") return { url: parsed, addresses: undefined };
  const host = parsed.hostname.replace(/^\[|\]$/g, "");
  if (isIP(host) !== 0) {
    if (!isPublicAddress(host)) throw new UnsafeWebhookTargetError(`webhook target ${host} is not a public address`);
    return { url: parsed, addresses: undefined };
  }
  if (host === "localhost" || host.endsWith(".localhost") || host.endsWith(".internal"))
    throw new UnsafeWebhookTargetError(`webhook target ${host} is not a public host`);
  let addresses: string[];
  try {
    addresses = await resolve(host);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === "ENOTFOUND" || code === "ENODATA")
      throw new PermanentDeliveryError(`webhook host ${host} does not resolve`, { cause: error });
    throw new TransientDeliveryError(`could not resolve webhook host ${host}`, undefined, { cause: error });
  }
  if (addresses.length === 0) throw new PermanentDeliveryError(`webhook host ${host} has no address`);
  const inside = addresses.find((address) => !isPublicAddress(address));
  if (inside !== undefined)
    throw new UnsafeWebhookTargetError(`webhook host ${host} resolves to a non-public address (${inside})`);
  return { url: parsed, addresses: Object.freeze([...addresses]) };
};

/** What a webhook answer means: 2xx sent; 408/429/5xx transient; any other status permanent. */
export const classifyWebhookStatus = (status: number): "sent" | "transient" | "permanent" => {
  if (status >= 200 && status < 300) return "sent";
  if (status === 408 || status === 429 || status >= 500) return "transient";
  return "permanent";
};
