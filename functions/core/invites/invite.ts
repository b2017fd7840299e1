import { randomBytes } from "node:crypto";
import * as z from "zod";
import { TimeZone } from "../model/vehicle.ts";
import { InviteError, InviteExpiredError, InviteNotFoundError, InviteUsedError } from "./errors.ts";

/**
 * A Connect invite: what the operator hands a car owner so the owner may connect their car to this Dashlight
 * (GET /connect/smartcar?invite=<id>). Single use, until `expiresAt`; the vehicles connected through it get its time
 * zone and tags. The id is the secret: 24 random bytes (192 bits) in base64url.
 */
export const Invite = z.object({
  id: z.string().regex(/^[A-Za-z0-9_-]{32}$/),
  createdAt: z.iso.datetime(),
  /** In whole seconds: the table keeps it in epoch seconds, as its TTL. */
  expiresAt: z.iso.datetime(),
  timeZone: TimeZone.optional(),
  tags: z.array(z.string().min(1)),
  /** When a Connect callback claimed it, and the credentials reference that Connect stored its tokens under. */
  usedAt: z.iso.datetime().optional(),
  credentialsRef: z.string().min(1).optional(),
});
export type Invite = z.infer<typeof Invite>;

const ID_BYTES = 24;
const DAY_MS = 86_400_000;
export const DEFAULT_INVITE_LIFETIME_MS = 7 * DAY_MS;
export const MIN_INVITE_LIFETIME_MS = 60_000;
export const MAX_INVITE_LIFETIME_MS = 30 * DAY_MS;

/**
 * A new, unused invite with a fresh random id, expiring `lifetimeMs` after `now` (rounded down to the second).
 *
 * @example const invite = newInvite({ timeZone: "Europe/Berlin", tags: ["fleet"], lifetimeMs: DEFAULT_INVITE_LIFETIME_MS, now: new Date() })
 */
export const newInvite = (input: {
  timeZone?: string | undefined;
  tags: readonly string[];
  lifetimeMs: number;
  now: Date;
}): Invite => {
  if (!(input.lifetimeMs >= MIN_INVITE_LIFETIME_MS && input.lifetimeMs <= MAX_INVITE_LIFETIME_MS)) {
    throw new InviteError(`an invite lasts from 1 minute to 30 days, not ${input.lifetimeMs} ms`);
  }
  const expiresAt = Math.floor((input.now.getTime() + input.lifetimeMs) / 1000) * 1000;
  return Invite.parse({
    id: randomBytes(ID_BYTES).toString("base64url"),
    createdAt: input.now.toISOString(),
    expiresAt: new Date(expiresAt).toISOString(),
    ...(input.timeZone === undefined ? {} : { timeZone: input.timeZone }),
    tags: [...input.tags],
  });
};

/**
 * The invite, if it can be used at `now`; otherwise throws the InviteRefusedError saying why (unknown, already used,
 * expired).
 *
 * @example const invite = usableInvite(await invites.get(id), new Date());
 */
export const usableInvite = (invite: Invite | undefined, now: Date): Invite => {
  if (invite === undefined) throw new InviteNotFoundError();
  if (invite.usedAt !== undefined) throw new InviteUsedError();
  if (Date.parse(invite.expiresAt) <= now.getTime()) throw new InviteExpiredError();
  return invite;
};
