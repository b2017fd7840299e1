import { IngestError } from "#core/ingest/errors.ts";

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
