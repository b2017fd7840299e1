import * as z from "zod";
import { VEHICLE_COMMANDS } from "../model/commands.ts";
import type { Action } from "../rules/state.ts";
import { InvalidActionMessageError } from "./errors.ts";

/**
 * The body of an actions-queue message, validated at the edge of the dispatcher.
 * The `Action` type of the rule engine is the contract; the assertion below
 * fails to compile if the two ever drift apart.
 */
const Recipient = z.object({ name: z.string(), address: z.string() });
const ActionBase = z.object({
  id: z.string().min(1),
  firingId: z.string().min(1),
  ruleId: z.string().min(1),
  vehicleId: z.string().min(1),
  episode: z.number().int().nonnegative(),
  phase: z.enum(["fire", "resolve"]),
  index: z.number().int().nonnegative(),
  at: z.iso.datetime(),
});

export const ActionMessage = z.discriminatedUnion("type", [
  ActionBase.extend({ type: z.literal("sms"), to: z.array(Recipient), message: z.string() }),
  ActionBase.extend({ type: z.literal("email"), to: z.array(Recipient), subject: z.string(), message: z.string() }),
  ActionBase.extend({
    type: z.literal("webhook"),
    url: z.string(),
    body: z.object({
      rule: z.string(),
      vehicle: z.string(),
      episode: z.number(),
      phase: z.enum(["fire", "resolve"]),
      at: z.string(),
      eventId: z.string().nullable(),
      message: z.string().nullable(),
    }),
  }),
  ActionBase.extend({
    type: z.literal("command"),
    command: z.enum(VEHICLE_COMMANDS),
    params: z.object({
      percent: z.number().optional(),
      destination: z.object({ lat: z.number(), lon: z.number(), name: z.string().optional() }).optional(),
    }),
    preconditions: z.object({ stationary: z.boolean() }),
    readBack: z.boolean(),
  }),
]);

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const actionSchemaMatchesAction: Same<z.infer<typeof ActionMessage>, Action> = true;
void actionSchemaMatchesAction;

/**
 * Parses a queue message body into an Action; throws InvalidActionMessageError
 * naming the first bad field (`to.0.address: expected string`).
 */
export const parseActionMessage = (body: string): Action => {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (error) {
    throw new InvalidActionMessageError("action message is not JSON", { cause: error });
  }
  const result = ActionMessage.safeParse(json);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const where = issue === undefined || issue.path.length === 0 ? "body" : issue.path.join(".");
  throw new InvalidActionMessageError(`invalid action message: ${where}: ${issue?.message ?? "invalid"}`, {
    cause: result.error,
  });
};
