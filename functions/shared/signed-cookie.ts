import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * A value the server hands to a browser and must get back unaltered: `<payload base64url>.<HMAC-SHA256 base64url>`,
 * the payload JSON carrying its own expiry (`exp`, epoch ms) so an old cookie replayed after its Max-Age fails too.
 * Signed, not encrypted: the browser may read it (it is HttpOnly, so scripts cannot), it cannot change it.
 *
 * @example const value = signValue({ state }, secret, new Date(Date.now() + 600_000)); verifyValue(value, secret, new Date())
 */
export const signValue = (payload: Record<string, unknown>, secret: string, expiresAt: Date): string => {
  const body = Buffer.from(JSON.stringify({ ...payload, exp: expiresAt.getTime() }), "utf8").toString("base64url");
  return `${body}.${mac(body, secret)}`;
};

/** The payload (without `exp`), or undefined when the signature does not match or the value has expired. */
export const verifyValue = (value: string, secret: string, now: Date): Record<string, unknown> | undefined => {
  const [body, signature, extra] = value.split(".");
  if (body === undefined || signature === undefined || extra !== undefined) return undefined;
  const expected = Buffer.from(mac(body, secret), "utf8");
  const presented = Buffer.from(signature, "utf8");
  if (expected.length !== presented.length || !timingSafeEqual(expected, presented)) return undefined;
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(body, "base64url").toString("utf8"));
  } catch {
    return undefined;
  }
  if (typeof payload !== "object" || payload === null || Array.isArray(payload)) return undefined;
  const { exp, ...rest } = payload as Record<string, unknown>;
  if (typeof exp !== "number" || exp <= now.getTime()) return undefined;
  return rest;
};

const mac = (body: string, secret: string) => createHmac("sha256", secret).update(body).digest("base64url");

/**
 * A cookie from an API Gateway HTTP API (payload 2.0) request: API Gateway moves the Cookie header into `cookies`;
 * a request that still has the header (the local gateway) is read from it.
 */
export const cookieOf = (
  request: { cookies?: string[]; headers?: Record<string, string | undefined> },
  name: string,
): string | undefined => {
  const pairs = request.cookies ?? (request.headers?.cookie ?? "").split(";");
  for (const pair of pairs) {
    const index = pair.indexOf("=");
    if (index > 0 && pair.slice(0, index).trim() === name) return pair.slice(index + 1).trim();
  }
  return undefined;
};

/** A Set-Cookie header value. HttpOnly always; Secure unless told otherwise (plain-HTTP local development). */
export const setCookie = (
  name: string,
  value: string,
  options: { maxAgeSeconds: number; path: string; secure: boolean; sameSite: "Lax" | "Strict" },
): string =>
  [
    `${name}=${value}`,
    `Max-Age=${options.maxAgeSeconds}`,
    `Path=${options.path}`,
    "HttpOnly",
    ...(options.secure ? ["Secure"] : []),
    `SameSite=${options.sameSite}`,
  ].join("; ");
