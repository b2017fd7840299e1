import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { AesGcmSealer, UnsealError } from "#adapters/crypto/aes-gcm-sealer.ts";
import { DynamoDbSmartcarTokenStore } from "#adapters/dynamodb/smartcar-token-store.ts";
import { InMemorySmartcarTokenStore, type SmartcarTokenStore } from "#providers/smartcar/oauth.ts";
import { useLocalTables } from "#test/support/local-tables.ts";

const TOKENS = {
  accessToken: "at-0123456789abcdef",
  refreshToken: "rt-fedcba9876543210",
  expiresAt: "2026-03-01T12:00:00.000Z",
  refreshExpiresAt: "2026-04-30T10:00:00.000Z",
};
const ROTATED = { ...TOKENS, accessToken: "at-rotated", refreshToken: "rt-rotated" };
const NOW = new Date("2026-03-01T10:00:00.000Z");
const inOneMinute = new Date(NOW.getTime() + 60_000);

const KEY = randomBytes(32);
const freshTable = useLocalTables("tokens");

/** A fresh table per test, so each starts empty. */
const dynamoStore = async (key = KEY) => {
  const { client, tableName, scan } = await freshTable();
  return {
    store: new DynamoDbSmartcarTokenStore(client, tableName, new AesGcmSealer(key)),
    scan,
    withKey: (other: Buffer) => new DynamoDbSmartcarTokenStore(client, tableName, new AesGcmSealer(other)),
  };
};

describe.each([
  ["in memory", async (): Promise<SmartcarTokenStore> => new InMemorySmartcarTokenStore()],
  ["DynamoDB", async (): Promise<SmartcarTokenStore> => (await dynamoStore()).store],
])("SmartcarTokenStore contract (%s)", (_name, create) => {
  it("stores tokens at version 1 and reads them back whole", async () => {
    const store = await create();
    expect(await store.put("owner-1", TOKENS)).toBe(true);
    expect(await store.get("owner-1")).toStrictEqual({ ...TOKENS, version: 1 });
    expect(await store.get("owner-2")).toBeUndefined();
  });

  it("grants one refresh claim per version, and another only once the claim has expired", async () => {
    const store = await create();
    await store.put("owner-1", TOKENS);
    expect(await store.claimRefresh("owner-1", 1, inOneMinute, NOW)).toBe(2);
    expect(await store.claimRefresh("owner-1", 1, inOneMinute, NOW)).toBeUndefined();
    expect(await store.claimRefresh("owner-1", 2, inOneMinute, NOW)).toBeUndefined();
    expect(await store.get("owner-1")).toStrictEqual({
      ...TOKENS,
      version: 2,
      refreshingUntil: inOneMinute.toISOString(),
    });
    const later = new Date(inOneMinute.getTime() + 1);
    expect(await store.claimRefresh("owner-1", 2, new Date(later.getTime() + 60_000), later)).toBe(3);
  });

  it("writes conditioned on a version only while the entry is still at it", async () => {
    const store = await create();
    await store.put("owner-1", TOKENS);
    const claimed = await store.claimRefresh("owner-1", 1, inOneMinute, NOW);
    expect(await store.put("owner-1", ROTATED, { ifVersion: 1 })).toBe(false);
    expect(await store.markNeedsReauth("owner-1", "rejected", NOW, { ifVersion: 1 })).toBe(false);
    expect(await store.put("owner-1", ROTATED, { ifVersion: claimed as number })).toBe(true);
    expect(await store.get("owner-1")).toStrictEqual({ ...ROTATED, version: 3 });
  });

  it("a needs-reauth mark blocks refresh claims until new tokens are put", async () => {
    const store = await create();
    expect(await store.markNeedsReauth("owner-1", "nothing there", NOW)).toBe(false);
    await store.put("owner-1", TOKENS);
    expect(await store.markNeedsReauth("owner-1", "smartcar: token refresh rejected: invalid_grant", NOW)).toBe(true);
    expect(await store.get("owner-1")).toStrictEqual({
      ...TOKENS,
      version: 2,
      needsReauth: { reason: "smartcar: token refresh rejected: invalid_grant", at: NOW.toISOString() },
    });
    expect(await store.claimRefresh("owner-1", 2, inOneMinute, NOW)).toBeUndefined();
    await store.put("owner-1", ROTATED);
    expect(await store.get("owner-1")).toStrictEqual({ ...ROTATED, version: 3 });
  });
});

describe("DynamoDbSmartcarTokenStore", () => {
  it("never writes a token in clear, and expires the item with its refresh token", async () => {
    const { store, scan } = await dynamoStore();
    await store.put("owner-1", TOKENS);
    const items = await scan();
    expect(items).toHaveLength(1);
    const text = JSON.stringify(items);
    for (const secret of [TOKENS.accessToken, TOKENS.refreshToken]) expect(text).not.toContain(secret);
    expect(Object.keys(items[0] ?? {}).sort()).toStrictEqual([
      "expiresAt",
      "pk",
      "sealed",
      "sk",
      "updatedAt",
      "version",
    ]);
    expect(items[0]?.pk).toStrictEqual({ S: "CREDENTIALS#owner-1" });
    expect(items[0]?.sk).toStrictEqual({ S: "SMARTCAR_TOKENS" });
    expect(items[0]?.expiresAt).toStrictEqual({ N: String(Date.parse(TOKENS.refreshExpiresAt) / 1000) });
    expect((items[0]?.sealed as { S: string } | undefined)?.S).toMatch(/^v1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+$/);
  });

  it("refuses tokens sealed with another key", async () => {
    const { store, withKey } = await dynamoStore();
    await store.put("owner-1", TOKENS);
    await expect(withKey(randomBytes(32)).get("owner-1")).rejects.toThrow(
      new UnsealError("sealed value failed authentication (wrong key, or altered)"),
    );
  });
});

describe("AesGcmSealer", () => {
  it("opens only in the context it was sealed for", () => {
    const sealer = new AesGcmSealer(KEY);
    const sealed = sealer.seal("secret", "CREDENTIALS#a|SMARTCAR_TOKENS");
    expect(sealer.open(sealed, "CREDENTIALS#a|SMARTCAR_TOKENS")).toBe("secret");
    expect(() => sealer.open(sealed, "CREDENTIALS#b|SMARTCAR_TOKENS")).toThrow(UnsealError);
    expect(sealer.seal("secret", "x")).not.toBe(sealer.seal("secret", "x"));
  });
});
