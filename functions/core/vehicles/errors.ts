/** Another writer (the poll scheduler or a worker) kept changing a vehicle's poll registration; try again. */
export class PollRegistrationConflictError extends Error {
  override name = "PollRegistrationConflictError";
}
