import { createHash, randomBytes } from "node:crypto";
import * as z from "zod";
import { Tag, TimeZone } from "../model/vehicle.ts";
import { InviteError, InviteExpiredError, InviteNotFoundError, InviteUsedError } from "./errors.ts";

/** An invite id as links carry it: 24 bytes in base64url. */
const INVITE_ID = /^[A-Za-z0-9_-]{32}$/;
/** True for a string shaped like an invite id (it may still be unknown): anything else is refused unread. */
export const isInviteId = (text: string): boolean => INVITE_ID.test(text);

/**
 * The key an invite is stored and claimed under: the SHA-256 of its id, base64url (43 characters). The table and the
 * Connect session cookie hold this, never the id, so neither can be turned back into a usable link.
 */
export const inviteKeyOf = (id: string): string => createHash("sha256").update(id).digest("base64url");
export const InviteKey = z.string().regex(/^[A-Za-z0-9_-]{43}$/);

/**
 * A Connect invite: what the operator hands a car owner so the owner may connect their car to this Dashlight
 * (GET /connect/smartcar?invite=<id>). Single use, until `expiresAt`; the vehicles connected through it get its time
 * zone and tags, and it connects at most `vehicles` of the owner's cars. The id is the secret: 24 random bytes (192 bits)
 * in base64url.
 */
export const Invite = z.object({
  id: z.string().regex(INVITE_ID),
  createdAt: z.iso.datetime(),
  /** In whole seconds: the table keeps it in epoch seconds, as its TTL. */
  expiresAt: z.iso.datetime(),
  timeZone: TimeZone.optional(),
  tags: z.array(Tag),
  /** How many vehicles one Connect through it may grant (1 unless the operator allows more). */
  vehicles: z.number().int().min(1),
  /** When a Connect callback claimed it, and the credentials reference that Connect stored its tokens under. */
  usedAt: z.iso.datetime().optional(),
  credentialsRef: z.string().min(1).optional(),
});
export type Invite = z.infer<typeof Invite>;
/** An invite as its store knows it by key (a claim): all but the id, which only the link holds. */
export type InviteRecord = Omit<Invite, "id">;

const ID_BYTES = 24;
const DAY_MS = 86_400_000;
export const DEFAULT_INVITE_LIFETIME_MS = 7 * DAY_MS;
export const MIN_INVITE_LIFETIME_MS = 60_000;
export const MAX_INVITE_LIFETIME_MS = 30 * DAY_MS;
/** One car per invite unless the operator says otherwise (`--vehicles`, at most MAX_INVITE_VEHICLES there). */
export const DEFAULT_INVITE_VEHICLES = 1;
export const MAX_INVITE_VEHICLES = 50;

/**
 * A new, unused invite with a fresh random id, expiring `lifetimeMs` after `now` (rounded down to the second), for
 * `vehicles` cars (default 1); its time zone is stored as given with its case fixed.
 *
 * @example const invite = newInvite({ timeZone: "Europe/Berlin", tags: ["fleet"], lifetimeMs: DEFAULT_INVITE_LIFETIME_MS, now: new Date() })
 */
export const newInvite = (input: {
  timeZone?: string | undefined;
  tags: readonly string[];
  vehicles?: number;
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
    vehicles: input.vehicles ?? DEFAULT_INVITE_VEHICLES,
  });
};

/**
 * The invite, if it can be used at `now`; otherwise throws the InviteRefusedError saying why (unknown, already used,
 * expired).
 *
 * @example const invite = usableInvite(await invites.get(id), new Date());
 */
export const usableInvite = <T extends InviteRecord>(invite: T | undefined, now: Date): T => {
  if (invite === undefined) throw new InviteNotFoundError();
  if (invite.usedAt !== undefined) throw new InviteUsedError();
  if (Date.parse(invite.expiresAt) <= now.getTime()) throw new InviteExpiredError();
  return invite;
};
