import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { type DynamoDBDocumentClient, type GetCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { describe, expect, it } from "vitest";
import { DynamoDbInviteStore } from "#adapters/dynamodb/invite-store.ts";
import { InviteError, InviteExpiredError, InviteNotFoundError, InviteUsedError } from "#core/invites/errors.ts";
import { type Invite, inviteKeyOf, newInvite } from "#core/invites/invite.ts";
import { useLocalTables } from "#test/support/local-tables.ts";

const NOW = new Date("2026-03-01T10:00:00.250Z");
const HOUR = 3_600_000;

const freshTable = useLocalTables("invites");

/** A fresh table per test, so each starts empty. */
const freshStore = async () => {
  const { client, tableName, scan } = await freshTable();
  return { store: new DynamoDbInviteStore(client, tableName), scan };
};

const rejection = async (promise: Promise<unknown>): Promise<unknown> => {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error("expected a rejection");
};

const anInvite = (): Invite => newInvite({ timeZone: "Europe/Berlin", tags: ["fleet"], lifetimeMs: HOUR, now: NOW });

describe("DynamoDbInviteStore", () => {
  it("stores an invite and reads it back whole; an unknown id reads as undefined", async () => {
    const { store } = await freshStore();
    const invite = anInvite();
    await store.create(invite);
    expect(await store.get(invite.id)).toStrictEqual({
      id: invite.id,
      createdAt: "2026-03-01T10:00:00.250Z",
      expiresAt: "2026-03-01T11:00:00.000Z",
      timeZone: "Europe/Berlin",
      tags: ["fleet"],
      vehicles: 1,
    });
    expect(await store.get(anInvite().id)).toBeUndefined();
  });

  it("never replaces an invite", async () => {
    const { store, scan } = await freshStore();
    const invite = anInvite();
    await store.create(invite);
    const error = await rejection(store.create({ ...invite, tags: ["other"] }));
    expect([error instanceof InviteError, (error as Error).message]).toStrictEqual([
      true,
      "an invite with this id exists",
    ]);
    expect((await store.get(invite.id))?.tags).toStrictEqual(["fleet"]);
    expect(await scan()).toHaveLength(1);
  });

  it("claims an unused invite once, recording when and for which credentials", async () => {
    const { store } = await freshStore();
    const invite = anInvite();
    await store.create(invite);
    const at = new Date("2026-03-01T10:30:00.000Z");
    const { id, ...record } = invite;
    const claimed = await store.claim(inviteKeyOf(id), { at, credentialsRef: "smartcar-1" });
    expect(claimed).toStrictEqual({ ...record, usedAt: at.toISOString(), credentialsRef: "smartcar-1" });
    expect(await store.get(id)).toStrictEqual({ id, ...claimed });
    expect(await rejection(store.claim(inviteKeyOf(id), { at, credentialsRef: "smartcar-2" }))).toBeInstanceOf(
      InviteUsedError,
    );
    expect(await store.get(id)).toStrictEqual({ id, ...claimed });
  });

  it("refuses to claim an unknown invite, writing nothing", async () => {
    const { store, scan } = await freshStore();
    const error = await rejection(store.claim(inviteKeyOf(anInvite().id), { at: NOW, credentialsRef: "smartcar-1" }));
    expect(error).toBeInstanceOf(InviteNotFoundError);
    expect(await scan()).toStrictEqual([]);
  });

  it("refuses to claim an invite from its expiry on, even before the TTL deletes it", async () => {
    const { store } = await freshStore();
    const invite = anInvite();
    await store.create(invite);
    const expiry = Date.parse(invite.expiresAt);
    const key = inviteKeyOf(invite.id);
    const error = await rejection(store.claim(key, { at: new Date(expiry), credentialsRef: "smartcar-1" }));
    expect(error).toBeInstanceOf(InviteExpiredError);
    expect(await store.get(invite.id)).toStrictEqual(invite);
    expect((await store.claim(key, { at: new Date(expiry - 1), credentialsRef: "smartcar-1" })).usedAt).toBe(
      "2026-03-01T10:59:59.999Z",
    );
  });

  it("of ten concurrent claims of one invite, exactly one succeeds", async () => {
    const { store } = await freshStore();
    const invite = anInvite();
    await store.create(invite);
    const outcomes = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) =>
        store.claim(inviteKeyOf(invite.id), { at: NOW, credentialsRef: `smartcar-${i}` }),
      ),
    );
    const won = outcomes.flatMap((outcome) => (outcome.status === "fulfilled" ? [outcome.value] : []));
    expect(won).toHaveLength(1);
    expect(
      outcomes.filter((outcome) => outcome.status === "rejected" && outcome.reason instanceof InviteUsedError),
    ).toHaveLength(9);
    expect(await store.get(invite.id)).toStrictEqual({ id: invite.id, ...won[0] });
  });

  it("stores how many vehicles an invite connects", async () => {
    const { store } = await freshStore();
    const invite = newInvite({ tags: [], vehicles: 7, lifetimeMs: HOUR, now: NOW });
    await store.create(invite);
    expect((await store.get(invite.id))?.vehicles).toBe(7);
  });

  it("releases only its own claim: the invite is usable again, and another claim is left alone", async () => {
    const { store } = await freshStore();
    const invite = anInvite();
    await store.create(invite);
    const key = inviteKeyOf(invite.id);
    await store.claim(key, { at: NOW, credentialsRef: "smartcar-1" });
    expect(await store.release(key, "smartcar-other")).toBe(false);
    expect((await store.get(invite.id))?.credentialsRef).toBe("smartcar-1");
    expect(await store.release(key, "smartcar-1")).toBe(true);
    expect(await store.get(invite.id)).toStrictEqual(invite);
    expect(await store.release(key, "smartcar-1")).toBe(false);
    expect(await store.release(inviteKeyOf(anInvite().id), "smartcar-1")).toBe(false);
    expect((await store.claim(key, { at: NOW, credentialsRef: "smartcar-2" })).credentialsRef).toBe("smartcar-2");
  });

  it("reads with ConsistentRead after a failed claim, so it sees the write that beat it", async () => {
    const sent: unknown[] = [];
    const client = {
      send: async (command: unknown) => {
        sent.push(command);
        if (command instanceof UpdateCommand) {
          throw new ConditionalCheckFailedException({ message: "The conditional request failed", $metadata: {} });
        }
        return {
          Item: {
            createdAt: NOW.toISOString(),
            expiresAt: NOW.getTime() / 1000 + 3600,
            tags: [],
            usedAt: NOW.toISOString(),
          },
        };
      },
    } as unknown as DynamoDBDocumentClient;
    const key = inviteKeyOf(anInvite().id);
    const error = await rejection(new DynamoDbInviteStore(client, "t").claim(key, { at: NOW, credentialsRef: "r" }));
    expect(error).toBeInstanceOf(InviteUsedError);
    expect(sent.map((command) => command?.constructor.name)).toStrictEqual(["UpdateCommand", "GetCommand"]);
    expect((sent[1] as GetCommand).input).toStrictEqual({
      TableName: "t",
      Key: { pk: `INVITE#${key}`, sk: "INVITE" },
      ConsistentRead: true,
    });
  });
});
