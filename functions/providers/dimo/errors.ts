import { ProviderError } from "#core/providers/errors.ts";

/** A geofence we refuse to send: DIMO geofences are sets of valid H3 cells. */
export class DimoGeofenceInvalidError extends ProviderError {
  override name = "DimoGeofenceInvalidError";
  constructor(
    readonly invalidIndexes: readonly string[],
    message: string,
  ) {
    super("dimo", message);
  }
}
