import { randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as z from "zod";

/**
 * The secrets a local Dashlight generates for itself: the key that seals Smartcar tokens in the table (32 bytes,
 * base64), the key that signs the Smartcar Connect session cookie, and the key that signs outgoing webhooks.
 * In AWS these come from Secrets Manager (`<NAME>_SECRET_ARN`, see #shared/config.ts); locally they live in
 * `<data dir>/secrets.json`, readable by this user only (0600), generated on first start and reused after, so
 * tokens sealed yesterday still open today.
 */
export type LocalSecrets = {
  tokenEncryptionKey: string;
  connectCookieSecret: string;
  webhookSigningSecret: string;
};

export const LOCAL_SECRETS_FILE = "secrets.json";

const Stored = z.object({
  tokenEncryptionKey: z.string().refine((value) => Buffer.from(value, "base64").length === 32, {
    message: "must be 32 bytes in base64",
  }),
  connectCookieSecret: z.string().min(32),
  webhookSigningSecret: z.string().min(32),
});

const generate = (): LocalSecrets => ({
  tokenEncryptionKey: randomBytes(32).toString("base64"),
  connectCookieSecret: randomBytes(32).toString("base64url"),
  webhookSigningSecret: randomBytes(32).toString("base64url"),
});

/**
 * Reads `<dataDir>/secrets.json`, creating it (mode 0600, exclusively) with fresh random secrets when absent. A file
 * whose permissions let anyone else read it is tightened to 0600 and reported through `warn`. Without a data dir
 * (in-memory mode) the secrets are generated for this run only and never written. A file that exists but is not a
 * valid secrets file is an error: regenerating would silently orphan every sealed token.
 */
export const loadLocalSecrets = (
  dataDir: string | undefined,
  warn: (message: string) => void = () => undefined,
): { secrets: LocalSecrets; path: string | undefined; created: boolean } => {
  if (dataDir === undefined) return { secrets: generate(), path: undefined, created: true };
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const path = join(dataDir, LOCAL_SECRETS_FILE);
  const secrets = generate();
  try {
    writeFileSync(path, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600, flag: "wx" });
    return { secrets, path, created: true };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  }
  const mode = statSync(path).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    chmodSync(path, 0o600);
    warn(`${path} was readable by others (mode ${mode.toString(8)}); its mode is now 600`);
  }
  let parsed: z.ZodSafeParseResult<LocalSecrets>;
  try {
    parsed = Stored.safeParse(JSON.parse(readFileSync(path, "utf8")));
  } catch (error) {
    throw new Error(`${path} is not JSON (${(error as Error).message}); move it away to generate new secrets`);
  }
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(
      `${path}: ${issue?.path.join(".") || "(root)"} ${issue?.message}; move the file away to generate new secrets (tokens sealed with the old key will need Smartcar Connect again)`,
    );
  }
  return { secrets: parsed.data, path, created: false };
};
