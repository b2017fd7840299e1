import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { ConfigError } from "#shared/config.ts";

/**
 * Seals secrets (provider tokens) before they reach the table: AES-256-GCM with a random 96-bit IV per seal, the
 * item's identity as additional authenticated data so a sealed value cannot be moved to another item. The table is
 * also encrypted at rest by DynamoDB; this layer keeps tokens out of anything that can read items (exports, backups,
 * a console session). Follow-up: KMS envelope encryption (a data key per item, wrapped by a KMS key) would add key
 * rotation and CloudTrail-audited decrypts without a long-lived key in Secrets Manager.
 *
 * Format: `v1.<iv base64url>.<ciphertext+tag base64url>`.
 *
 * @example const sealer = new AesGcmSealer(parseSealingKey(await secretFromEnv("DASHLIGHT_TOKEN_ENCRYPTION_KEY")))
 */
export class AesGcmSealer {
  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new ConfigError("a sealing key must be 32 bytes");
  }

  seal(plaintext: string, context: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", this.key, iv);
    cipher.setAAD(Buffer.from(context, "utf8"));
    const sealed = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final(), cipher.getAuthTag()]);
    return `v1.${iv.toString("base64url")}.${sealed.toString("base64url")}`;
  }

  /** Throws UnsealError when the value was not sealed with this key for this context (or was altered). */
  open(sealed: string, context: string): string {
    const [version, ivText, bodyText] = sealed.split(".");
    if (version !== "v1" || ivText === undefined || bodyText === undefined) {
      throw new UnsealError("sealed value has an unknown format");
    }
    const iv = Buffer.from(ivText, "base64url");
    const body = Buffer.from(bodyText, "base64url");
    if (iv.length !== 12 || body.length < 16) throw new UnsealError("sealed value is truncated");
    try {
      const decipher = createDecipheriv("aes-256-gcm", this.key, iv);
      decipher.setAAD(Buffer.from(context, "utf8"));
      decipher.setAuthTag(body.subarray(body.length - 16));
      return Buffer.concat([decipher.update(body.subarray(0, body.length - 16)), decipher.final()]).toString("utf8");
    } catch (error) {
      throw new UnsealError("sealed value failed authentication (wrong key, or altered)", { cause: error });
    }
  }
}

/** A sealed value could not be opened: a different key (misconfiguration) or tampering. Never retried as transient. */
export class UnsealError extends Error {
  override name = "UnsealError";
}

/**
 * The key from its configured text: 32 random bytes in base64 (`openssl rand -base64 32`). The message names the
 * variable, never the value.
 */
export const parseSealingKey = (text: string, variable: string): Buffer => {
  const key = Buffer.from(text.trim(), "base64");
  if (!/^[A-Za-z0-9+/]{43}=$/.test(text.trim()) || key.length !== 32) {
    throw new ConfigError(`${variable} must be 32 bytes in base64 (openssl rand -base64 32)`);
  }
  return key;
};
