import { IngestError } from "#core/ingest/errors.ts";
import type { VehicleCommand } from "#core/model/commands.ts";
import { ProviderError } from "#core/providers/errors.ts";
import type { SmartcarErrorBody } from "./rest-schema.ts";

/**
 * A VERIFY challenge reached the normalizer. The ingest handler must answer it with `answerSmartcarChallenge`
 * (after `isSmartcarVerifyChallenge`) before normalizing; reaching here is a wiring bug, not a bad payload.
 */
export class SmartcarVerifyNotNormalizableError extends IngestError {
  override name = "SmartcarVerifyNotNormalizableError";
  constructor(readonly eventId: string) {
    super(`Smartcar VERIFY delivery ${eventId} must be answered by the handler, not normalized`);
  }
}

/**
 * What Smartcar answered, kept as the `cause` of the provider-neutral error the client throws (ProviderAuthError,
 * ProviderConflictError, …), so a caller that needs Smartcar's `type`, `code` or `resolution` finds them without the
 * core knowing Smartcar. Never carries the request body or the access token.
 */
export class SmartcarHttpError extends Error {
  override name = "SmartcarHttpError";
  constructor(
    readonly status: number,
    readonly method: string,
    /** Path relative to the API base, e.g. `/vehicles/{id}/security`. */
    readonly path: string,
    readonly body: SmartcarErrorBody | undefined,
    readonly requestId: string | undefined,
  ) {
    const what = [body?.type, body?.code].filter((part) => typeof part === "string" && part !== "").join(":");
    super(`${method} ${path} answered ${status}${what === "" ? "" : ` ${what}`}`);
  }
  get resolution(): string | undefined {
    return this.body?.resolution;
  }
}

/** Parameters a command needs were missing or out of range (e.g. a charge limit outside 50..100 %); never sent. */
export class SmartcarCommandParamsError extends ProviderError {
  override name = "SmartcarCommandParamsError";
  constructor(
    readonly command: VehicleCommand,
    message: string,
  ) {
    super("smartcar", `${command}: ${message}`);
  }
}

/** An OAuth step of the Connect flow failed in a way the owner cannot fix by re-authorizing (bad config, bad state). */
export class SmartcarConnectError extends ProviderError {
  override name = "SmartcarConnectError";
  constructor(message: string, options?: ErrorOptions) {
    super("smartcar", message, options);
  }
}

/** Connect granted no vehicle (the owner selected none): nothing to connect, nothing is stored. */
export class SmartcarNoVehicleGrantedError extends SmartcarConnectError {
  override name = "SmartcarNoVehicleGrantedError";
  constructor() {
    super("Connect granted no vehicle");
  }
}

/**
 * Smartcar refused the new access token when listing or reading the granted vehicles (401/403), after the code
 * exchange succeeded: the grant does not reach the vehicles (revoked meanwhile, or a permission missing). The client's
 * ProviderAuthError is the `cause`.
 */
export class SmartcarVehicleAccessError extends SmartcarConnectError {
  override name = "SmartcarVehicleAccessError";
  constructor(options?: ErrorOptions) {
    super("Smartcar refused access to the granted vehicles", options);
  }
}

/** The owner did not grant access on Smartcar's Connect page (`error=access_denied`, or another OAuth error code). */
export class SmartcarConnectDeniedError extends SmartcarConnectError {
  override name = "SmartcarConnectDeniedError";
  constructor(
    readonly error: string,
    options?: ErrorOptions,
  ) {
    super(`Connect returned ${error}`, options);
  }
}
