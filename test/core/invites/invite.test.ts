import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { InviteError, InviteExpiredError, InviteNotFoundError, InviteUsedError } from "#core/invites/errors.ts";
import {
  DEFAULT_INVITE_LIFETIME_MS,
  inviteKeyOf,
  isInviteId,
  MAX_INVITE_LIFETIME_MS,
  MIN_INVITE_LIFETIME_MS,
  newInvite,
  usableInvite,
} from "#core/invites/invite.ts";

const NOW = new Date("2026-03-01T10:00:00.750Z");

const thrown = (run: () => unknown): unknown => {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error("expected a throw");
};

describe("newInvite", () => {
  it("makes an unused invite with a 192-bit base64url id, expiring in whole seconds", () => {
    const invite = newInvite({ tags: [], lifetimeMs: DEFAULT_INVITE_LIFETIME_MS, now: NOW });
    expect(invite).toStrictEqual({
      id: invite.id,
      createdAt: "2026-03-01T10:00:00.750Z",
      expiresAt: "2026-03-08T10:00:00.000Z",
      tags: [],
      vehicles: 1,
    });
    expect(invite.id).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(Buffer.from(invite.id, "base64url")).toHaveLength(24);
  });

  it("carries a time zone and tags when given, and a new id each time", () => {
    const ids = new Set(
      Array.from({ length: 100 }, () => newInvite({ tags: [], lifetimeMs: MIN_INVITE_LIFETIME_MS, now: NOW }).id),
    );
    expect(ids.size).toBe(100);
    expect(
      newInvite({ timeZone: "Asia/Tokyo", tags: ["fleet", "van"], lifetimeMs: MAX_INVITE_LIFETIME_MS, now: NOW }),
    ).toMatchObject({ timeZone: "Asia/Tokyo", tags: ["fleet", "van"], expiresAt: "2026-03-31T10:00:00.000Z" });
  });

  it("refuses a lifetime under a minute or over 30 days, and an unknown time zone", () => {
    for (const lifetimeMs of [MIN_INVITE_LIFETIME_MS - 1, MAX_INVITE_LIFETIME_MS + 1, Number.NaN]) {
      const error = thrown(() => newInvite({ tags: [], lifetimeMs, now: NOW }));
      expect([error instanceof InviteError, (error as Error).message]).toStrictEqual([
        true,
        `an invite lasts from 1 minute to 30 days, not ${lifetimeMs} ms`,
      ]);
    }
    expect(() =>
      newInvite({ timeZone: "Mars/Olympus", tags: [], lifetimeMs: DEFAULT_INVITE_LIFETIME_MS, now: NOW }),
    ).toThrow("must be an IANA time zone such as Europe/Berlin");
  });
});

describe("invite time zones, tags and vehicles", () => {
  it("stores the time zone as given with its case fixed, never an ICU alias, and refuses a UTC offset", () => {
    const make = (timeZone: string) =>
      newInvite({ timeZone, tags: [], lifetimeMs: DEFAULT_INVITE_LIFETIME_MS, now: NOW }).timeZone;
    expect(["utc", "europe/berlin", "EST", "US/Pacific", "Europe/Kyiv"].map(make)).toStrictEqual([
      "UTC",
      "Europe/Berlin",
      "EST",
      "US/Pacific",
      "Europe/Kyiv",
    ]);
    expect(() => make("+01:00")).toThrow("a UTC offset is not a time zone: use an IANA name such as Europe/Berlin");
  });

  it("refuses a tag that is not one, and a vehicle count under 1 or not whole", () => {
    expect(() => newInvite({ tags: [" fleet"], lifetimeMs: DEFAULT_INVITE_LIFETIME_MS, now: NOW })).toThrow(
      "a tag is letters, digits and - _ . : / (starting with a letter or digit), at most 64 characters",
    );
    for (const vehicles of [0, 1.5]) {
      expect(() => newInvite({ tags: [], vehicles, lifetimeMs: DEFAULT_INVITE_LIFETIME_MS, now: NOW })).toThrow();
    }
    expect(newInvite({ tags: [], vehicles: 3, lifetimeMs: DEFAULT_INVITE_LIFETIME_MS, now: NOW }).vehicles).toBe(3);
  });
});

describe("invite ids and keys", () => {
  it("tells an id's shape: 32 base64url characters", () => {
    const id = newInvite({ tags: [], lifetimeMs: MIN_INVITE_LIFETIME_MS, now: NOW }).id;
    expect(
      [id, "A".repeat(31), "A".repeat(33), `${"A".repeat(31)}=`, `${"A".repeat(31)}+`, ""].map(isInviteId),
    ).toStrictEqual([true, false, false, false, false, false]);
  });

  it("keys an invite by the base64url SHA-256 of its id", () => {
    expect(inviteKeyOf("abc")).toBe(createHash("sha256").update("abc").digest("base64url"));
    expect(inviteKeyOf("abc")).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});

describe("usableInvite", () => {
  const invite = newInvite({ tags: [], lifetimeMs: MIN_INVITE_LIFETIME_MS, now: NOW });
  const expiry = Date.parse(invite.expiresAt);

  it("returns an unused invite until its expiry", () => {
    expect(usableInvite(invite, new Date(expiry - 1))).toBe(invite);
  });

  it("says why an invite cannot be used: unknown, already used, or expired", () => {
    expect(thrown(() => usableInvite(undefined, NOW))).toStrictEqual(new InviteNotFoundError());
    const used = { ...invite, usedAt: NOW.toISOString() };
    expect(thrown(() => usableInvite(used, NOW))).toBeInstanceOf(InviteUsedError);
    // Used and expired: "used" says more.
    expect(thrown(() => usableInvite(used, new Date(expiry)))).toBeInstanceOf(InviteUsedError);
    expect(thrown(() => usableInvite(invite, new Date(expiry)))).toBeInstanceOf(InviteExpiredError);
  });
});
