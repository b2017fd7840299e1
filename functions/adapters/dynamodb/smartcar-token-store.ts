import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import type {
  SmartcarTokenStore,
  SmartcarTokens,
  StoreCondition,
  StoredSmartcarCredentials,
} from "#providers/smartcar/oauth.ts";
import type { AesGcmSealer } from "../crypto/aes-gcm-sealer.ts";
import { isConditionFailed, StorageError } from "./errors.ts";
import { credentialsPk, SMARTCAR_TOKENS_SK } from "./table.ts";

/**
 * Smartcar tokens of one Connect authorization, one item per credentialsRef. The tokens are sealed (AES-256-GCM,
 * the item's key as associated data) before they reach the table, on top of DynamoDB's encryption at rest; only the
 * bookkeeping is in clear: `version`, `needsReauth` (reason and time), `refreshingUntil`, `updatedAt`, and
 * `expiresAt` (TTL: the item is useless once the refresh token has expired, so a Connect abandoned for a newer one
 * disappears on its own). Errors carry the credentialsRef, never a token.
 */
export class DynamoDbSmartcarTokenStore implements SmartcarTokenStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly sealer: AesGcmSealer,
  ) {}

  async get(credentialsRef: string): Promise<StoredSmartcarCredentials | undefined> {
    const key = keyOf(credentialsRef);
    let item: Record<string, unknown> | undefined;
    try {
      item = (await this.client.send(new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true })))
        .Item;
    } catch (error) {
      throw new StorageError(`could not read the Smartcar credentials ${credentialsRef}`, { cause: error });
    }
    if (item === undefined) return undefined;
    const tokens = JSON.parse(this.sealer.open(item.sealed as string, contextOf(key))) as SmartcarTokens;
    return {
      ...tokens,
      version: item.version as number,
      ...(item.needsReauth === undefined
        ? {}
        : { needsReauth: item.needsReauth as NonNullable<StoredSmartcarCredentials["needsReauth"]> }),
      ...(item.refreshingUntil === undefined ? {} : { refreshingUntil: item.refreshingUntil as string }),
    };
  }

  async put(credentialsRef: string, tokens: SmartcarTokens, condition?: StoreCondition): Promise<boolean> {
    const key = keyOf(credentialsRef);
    const sealed = this.sealer.seal(
      JSON.stringify({
        accessToken: tokens.accessToken,
        refreshToken: tokens.refreshToken,
        expiresAt: tokens.expiresAt,
        refreshExpiresAt: tokens.refreshExpiresAt,
      } satisfies SmartcarTokens),
      contextOf(key),
    );
    return this.update(
      credentialsRef,
      new UpdateCommand({
        TableName: this.tableName,
        Key: key,
        UpdateExpression:
          "SET sealed = :sealed, version = if_not_exists(version, :zero) + :one, updatedAt = :now, expiresAt = :ttl REMOVE needsReauth, refreshingUntil",
        ConditionExpression: condition === undefined ? undefined : "version = :expected",
        ExpressionAttributeValues: {
          ":sealed": sealed,
          ":zero": 0,
          ":one": 1,
          ":now": new Date().toISOString(),
          ":ttl": Math.ceil(Date.parse(tokens.refreshExpiresAt) / 1000),
          ...(condition === undefined ? {} : { ":expected": condition.ifVersion }),
        },
      }),
    );
  }

  async claimRefresh(credentialsRef: string, ifVersion: number, until: Date, now: Date): Promise<number | undefined> {
    const claimed = await this.update(
      credentialsRef,
      new UpdateCommand({
        TableName: this.tableName,
        Key: keyOf(credentialsRef),
        UpdateExpression: "SET version = version + :one, refreshingUntil = :until",
        ConditionExpression:
          "version = :expected AND attribute_not_exists(needsReauth) AND (attribute_not_exists(refreshingUntil) OR refreshingUntil < :now)",
        ExpressionAttributeValues: {
          ":one": 1,
          ":until": until.toISOString(),
          ":expected": ifVersion,
          ":now": now.toISOString(),
        },
      }),
    );
    return claimed ? ifVersion + 1 : undefined;
  }

  async markNeedsReauth(credentialsRef: string, reason: string, at: Date, condition?: StoreCondition) {
    return this.update(
      credentialsRef,
      new UpdateCommand({
        TableName: this.tableName,
        Key: keyOf(credentialsRef),
        UpdateExpression: "SET needsReauth = :mark, version = version + :one, updatedAt = :now REMOVE refreshingUntil",
        ConditionExpression:
          condition === undefined ? "attribute_exists(pk)" : "attribute_exists(pk) AND version = :expected",
        ExpressionAttributeValues: {
          ":mark": { reason, at: at.toISOString() },
          ":one": 1,
          ":now": at.toISOString(),
          ...(condition === undefined ? {} : { ":expected": condition.ifVersion }),
        },
      }),
    );
  }

  /** A conditional update: false when its condition failed. */
  private async update(credentialsRef: string, command: UpdateCommand): Promise<boolean> {
    try {
      await this.client.send(command);
      return true;
    } catch (error) {
      if (isConditionFailed(error)) return false;
      throw new StorageError(`could not store the Smartcar credentials ${credentialsRef}`, { cause: error });
    }
  }
}

const keyOf = (credentialsRef: string) => ({ pk: credentialsPk(credentialsRef), sk: SMARTCAR_TOKENS_SK });
/** Binds a sealed value to its item: copied to another item's key, it no longer opens. */
const contextOf = (key: { pk: string; sk: string }) => `${key.pk}|${key.sk}`;
