import { Client } from "@smithy/core/client";
import { invokedFunction } from "#local/invoked-function.ts";

/** One AWS API call as the SDK was asked to make it, and the function that made it. */
export type RecordedAwsCall = {
  /** The local runtime's name of the Lambda function (its handler entry), or OUTSIDE_FUNCTIONS. */
  functionName: string;
  /** The SDK client's class, e.g. DynamoDBClient, DynamoDBDocumentClient, SQSClient. */
  client: string;
  /** The command's class without "Command", e.g. PutItem, Put (document client), SendMessage. */
  command: string;
  input: Record<string, unknown>;
};

export const OUTSIDE_FUNCTIONS = "(outside any function)";

/**
 * Records every AWS SDK v3 call made in this process until `stop()`. Every client (DynamoDB, its document client,
 * SQS, SNS, SES, Secrets Manager, …) sends through smithy's Client.send, so wrapping it sees them all, with the
 * function whose handler (or cold start) made the call.
 */
export const recordAwsCalls = (): { calls: RecordedAwsCall[]; stop(): void } => {
  const calls: RecordedAwsCall[] = [];
  const send = Client.prototype.send;
  Client.prototype.send = function (this: Client<never, never, never, never>, ...args: unknown[]) {
    const command = args[0] as { constructor: { name: string }; input: Record<string, unknown> };
    calls.push({
      functionName: invokedFunction.getStore() ?? OUTSIDE_FUNCTIONS,
      client: this.constructor.name,
      command: command.constructor.name.replace(/Command$/, ""),
      input: command.input,
    });
    return Reflect.apply(send, this, args);
  } as typeof send;
  return {
    calls,
    stop() {
      Client.prototype.send = send;
    },
  };
};
