/** Base class of the errors the CLI reports as one line and exit code 1; branch on `instanceof`. */
export class CliError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "CliError";
  }
}

/** A command line that does not make sense (exit code 2). */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** The local runtime's data directory holds no DynamoDB data. */
export class LocalDataMissingError extends CliError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "LocalDataMissingError";
  }
}

/** The local DynamoDB data is locked by another process (the running `npm start`). */
export class LocalDataLockedError extends CliError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "LocalDataLockedError";
  }
}
