/** Base class of the errors of Connect invites; branch on the subclasses with `instanceof`. */
export class InviteError extends Error {
  override name = "InviteError";
}

/** An invite that does not let anyone connect now; the subclass says why. */
export class InviteRefusedError extends InviteError {
  override name = "InviteRefusedError";
}

/** No invite has this id (never made, mistyped, or deleted by the table's TTL after it expired). */
export class InviteNotFoundError extends InviteRefusedError {
  override name = "InviteNotFoundError";
  constructor() {
    super("unknown invite");
  }
}

/** The invite's expiry has passed. */
export class InviteExpiredError extends InviteRefusedError {
  override name = "InviteExpiredError";
  constructor() {
    super("invite expired");
  }
}

/** The invite was used by a Connect before (invites are single use). */
export class InviteUsedError extends InviteRefusedError {
  override name = "InviteUsedError";
  constructor() {
    super("invite already used");
  }
}

/** A Connect granted more vehicles than the invite allows; nothing of it is kept. */
export class InviteVehicleLimitError extends InviteRefusedError {
  override name = "InviteVehicleLimitError";
  constructor(
    readonly allowed: number,
    readonly granted: number,
  ) {
    super(`invite allows ${allowed} vehicle${allowed === 1 ? "" : "s"}, Connect granted ${granted}`);
  }
}
