/** Base class of errors raised while applying events to vehicles. */
export class EventProcessingError extends Error {
  override name = "EventProcessingError";
}

/** Another writer stored the snapshot or a rule state first; reload and apply again. */
export class StateConflictError extends EventProcessingError {
  override name = "StateConflictError";
}
