import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadLocalSecrets } from "#local/secrets.ts";

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), "dashlight-secrets-"));
  dirs.push(dir);
  return dir;
};
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe("local secrets", () => {
  it("generates <data dir>/secrets.json with mode 0600 on first start and reuses it after", () => {
    const dir = join(tempDir(), "data");
    const first = loadLocalSecrets(dir);
    const path = join(dir, "secrets.json");
    expect([first.path, first.created, statSync(path).mode & 0o777]).toStrictEqual([path, true, 0o600]);
    expect(Buffer.from(first.secrets.tokenEncryptionKey, "base64")).toHaveLength(32);
    expect(first.secrets.connectCookieSecret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(first.secrets.webhookSigningSecret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(JSON.parse(readFileSync(path, "utf8"))).toStrictEqual(first.secrets);
    expect(loadLocalSecrets(dir)).toStrictEqual({ secrets: first.secrets, path, created: false });
  });

  it("tightens a file others can read to 0600, and says so", () => {
    const dir = tempDir();
    const { secrets } = loadLocalSecrets(dir);
    const path = join(dir, "secrets.json");
    writeFileSync(path, JSON.stringify(secrets), { mode: 0o644 });
    chmodSync(path, 0o644);
    const warnings: string[] = [];
    expect(loadLocalSecrets(dir, (warning) => warnings.push(warning)).secrets).toStrictEqual(secrets);
    expect([statSync(path).mode & 0o777, warnings]).toStrictEqual([
      0o600,
      [`${path} was readable by others (mode 644); its mode is now 600`],
    ]);
  });

  it("refuses a damaged file rather than orphaning the tokens sealed with it", () => {
    const dir = tempDir();
    writeFileSync(join(dir, "secrets.json"), JSON.stringify({ tokenEncryptionKey: "c2hvcnQ=" }), { mode: 0o600 });
    expect(() => loadLocalSecrets(dir)).toThrow(
      `${join(dir, "secrets.json")}: tokenEncryptionKey must be 32 bytes in base64; move the file away to generate new secrets (tokens sealed with the old key will need Smartcar Connect again)`,
    );
  });

  it("keeps in-memory runs' secrets in memory", () => {
    const { secrets, path, created } = loadLocalSecrets(undefined);
    expect([path, created, Buffer.from(secrets.tokenEncryptionKey, "base64").length]).toStrictEqual([
      undefined,
      true,
      32,
    ]);
  });
});
