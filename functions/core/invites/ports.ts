import type { Invite } from "./invite.ts";

/** Where Connect invites live (functions/adapters/dynamodb/invite-store.ts). */
export interface InviteStore {
  /** Stores a new invite; never replaces one (InviteError if the id exists). */
  create(invite: Invite): Promise<void>;
  get(id: string): Promise<Invite | undefined>;
  /**
   * Marks the invite used, in one conditional write: only if it exists, is unused and has not expired at `use.at`.
   * Returns the used invite; otherwise throws the InviteRefusedError saying why, having written nothing. Of several
   * concurrent claims of one invite exactly one succeeds.
   */
  claim(id: string, use: { at: Date; credentialsRef: string }): Promise<Invite>;
}
