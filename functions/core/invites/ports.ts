import type { Invite, InviteRecord } from "./invite.ts";

/** Where Connect invites live (functions/adapters/dynamodb/invite-store.ts). */
export interface InviteStore {
  /** Stores a new invite; never replaces one (InviteError if the id exists). */
  create(invite: Invite): Promise<void>;
  get(id: string): Promise<Invite | undefined>;
  /**
   * Marks the invite under `key` (inviteKeyOf its id) used, in one conditional write: only if it exists, is unused
   * and has not expired at `use.at`. Returns the used invite; otherwise throws the InviteRefusedError saying why,
   * having written nothing. Of several concurrent claims of one invite exactly one succeeds.
   */
  claim(key: string, use: { at: Date; credentialsRef: string }): Promise<InviteRecord>;
  /**
   * Undoes the claim that stored `credentialsRef` (a Connect that failed before connecting anything), in one
   * conditional write that touches nothing else: false when the invite is gone or another claim holds it.
   */
  release(key: string, credentialsRef: string): Promise<boolean>;
}
