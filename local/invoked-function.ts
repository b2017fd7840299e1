import { AsyncLocalStorage } from "node:async_hooks";

/**
 * The Lambda function whose handler is running, for everything the handler calls, however deep. In AWS each
 * function has its own role; in the one-process local runtime this is how a call is traced back to its function
 * (the IAM test checks each function's recorded AWS calls against that function's synthesized policy).
 */
export const invokedFunction = new AsyncLocalStorage<string>();
