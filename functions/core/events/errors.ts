/** Base class of errors raised while applying events to vehicles. */
export class EventProcessingError extends Error {
  override name = "EventProcessingError";
}

/** Another writer stored the snapshot first; reload and apply again. */
export class SnapshotConflictError extends EventProcessingError {
  override name = "SnapshotConflictError";
}
