import { type DynamoDBDocumentClient, PutCommand, UpdateCommand } from "@aws-sdk/lib-dynamodb";
import type { CommandAuditEntry, CommandAuditLog, CommandRateLimiter } from "#core/dispatch/ports.ts";
import { isConditionFailed, StorageError } from "./errors.ts";
import { listNewestFirst } from "./newest-first.ts";
import { COMMAND_SK_PREFIX, commandRateSk, commandSk, vehiclePk } from "./table.ts";

/** Audit trail entries are kept this long. */
const AUDIT_RETENTION_SECONDS = 365 * 24 * 3600;

/**
 * The command audit trail (one item per command action under its vehicle,
 * rewritten with the latest outcome) and the per-vehicle command counters.
 */
export class DynamoDbCommandStore implements CommandAuditLog, CommandRateLimiter {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async record(entry: CommandAuditEntry): Promise<void> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            pk: vehiclePk(entry.vehicleId),
            sk: commandSk(entry.at, entry.actionId),
            entry: JSON.stringify(entry),
            expiresAt: Math.floor(this.now().getTime() / 1000) + AUDIT_RETENTION_SECONDS,
          },
        }),
      );
    } catch (error) {
      throw new StorageError(`could not record command ${entry.actionId}`, { cause: error });
    }
  }

  /** A vehicle's commands, newest first (by the time of the firing that asked for them). */
  async listCommands(vehicleId: string, options: { since?: string; limit: number }): Promise<CommandAuditEntry[]> {
    return listNewestFirst<CommandAuditEntry>(this.client, this.tableName, {
      vehicleId,
      skPrefix: COMMAND_SK_PREFIX,
      attribute: "entry",
      since: options.since,
      limit: options.limit,
    });
  }

  /**
   * One conditional update: the action id joins the window's set if it is
   * already there (a retry) or the set holds fewer than `max` ids. Atomic, so
   * concurrent commands to one vehicle cannot both take the last slot.
   */
  async acquire(
    vehicleId: string,
    actionId: string,
    window: { start: string; expiresAt: number },
    max: number,
  ): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { pk: vehiclePk(vehicleId), sk: commandRateSk(window.start) },
          UpdateExpression: "ADD actionIds :ids SET expiresAt = :expiresAt",
          ConditionExpression: "attribute_not_exists(actionIds) OR contains(actionIds, :id) OR size(actionIds) < :max",
          ExpressionAttributeValues: {
            ":ids": new Set([actionId]),
            ":id": actionId,
            ":max": max,
            ":expiresAt": window.expiresAt,
          },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailed(error)) return false;
      throw new StorageError(`could not count command ${actionId} of ${vehicleId}`, { cause: error });
    }
  }
}
