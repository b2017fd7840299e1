import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import { InviteError, InviteUsedError } from "#core/invites/errors.ts";
import { type Invite, type InviteRecord, inviteKeyOf, usableInvite } from "#core/invites/invite.ts";
import type { InviteStore } from "#core/invites/ports.ts";
import { isConditionFailed, StorageError } from "./errors.ts";
import { INVITE_SK, invitePk } from "./table.ts";

/**
 * Connect invites, one item each. The key holds the SHA-256 of the id, never the id: someone who can read the table
 * (a backup, an export) cannot use the invites in it. `expiresAt` is epoch seconds, the table's TTL attribute, so
 * DynamoDB deletes an invite some time after it expires; until then the claim's condition refuses it. Errors never
 * carry the id. Claims and releases name the invite by that key (inviteKeyOf), as the Connect session cookie holds it.
 */
export class DynamoDbInviteStore implements InviteStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async create(invite: Invite): Promise<void> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...keyOf(inviteKeyOf(invite.id)),
            createdAt: invite.createdAt,
            expiresAt: Date.parse(invite.expiresAt) / 1000,
            tags: invite.tags,
            vehicles: invite.vehicles,
            ...(invite.timeZone === undefined ? {} : { timeZone: invite.timeZone }),
          },
          ConditionExpression: "attribute_not_exists(pk)",
        }),
      );
    } catch (error) {
      if (isConditionFailed(error)) throw new InviteError("an invite with this id exists", { cause: error });
      throw new StorageError("could not store the invite", { cause: error });
    }
  }

  async get(id: string): Promise<Invite | undefined> {
    const invite = await this.read(inviteKeyOf(id));
    return invite && { id, ...invite };
  }

  async claim(key: string, use: { at: Date; credentialsRef: string }): Promise<InviteRecord> {
    try {
      const result = await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keyOf(key),
          UpdateExpression: "SET usedAt = :at, credentialsRef = :ref",
          ConditionExpression: "attribute_exists(pk) AND attribute_not_exists(usedAt) AND expiresAt > :now",
          ExpressionAttributeValues: {
            ":at": use.at.toISOString(),
            ":ref": use.credentialsRef,
            ":now": Math.floor(use.at.getTime() / 1000),
          },
          ReturnValues: "ALL_NEW",
        }),
      );
      return recordOf(result.Attributes ?? {});
    } catch (error) {
      if (!isConditionFailed(error)) throw new StorageError("could not claim an invite", { cause: error });
      // Which condition failed, for the owner's message: usableInvite throws it.
      usableInvite(await this.read(key), use.at);
      // Only a clock between the two reads could get here; the claim was refused all the same.
      throw new InviteUsedError();
    }
  }

  async release(key: string, credentialsRef: string): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keyOf(key),
          UpdateExpression: "REMOVE usedAt, credentialsRef",
          ConditionExpression: "credentialsRef = :ref",
          ExpressionAttributeValues: { ":ref": credentialsRef },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailed(error)) return false;
      throw new StorageError("could not release an invite", { cause: error });
    }
  }

  /** Strongly consistent: a claim that just failed must see the write that beat it. */
  private async read(key: string): Promise<InviteRecord | undefined> {
    let item: Record<string, unknown> | undefined;
    try {
      item = (
        await this.client.send(new GetCommand({ TableName: this.tableName, Key: keyOf(key), ConsistentRead: true }))
      ).Item;
    } catch (error) {
      throw new StorageError("could not read an invite", { cause: error });
    }
    return item && recordOf(item);
  }
}

const keyOf = (key: string) => ({ pk: invitePk(key), sk: INVITE_SK });

const recordOf = (item: Record<string, unknown>): InviteRecord => ({
  createdAt: item.createdAt as string,
  expiresAt: new Date((item.expiresAt as number) * 1000).toISOString(),
  ...(item.timeZone === undefined ? {} : { timeZone: item.timeZone as string }),
  tags: item.tags as string[],
  // Invites made before the limit existed allow one vehicle, as new ones do by default.
  vehicles: (item.vehicles as number | undefined) ?? 1,
  ...(item.usedAt === undefined ? {} : { usedAt: item.usedAt as string }),
  ...(item.credentialsRef === undefined ? {} : { credentialsRef: item.credentialsRef as string }),
});
