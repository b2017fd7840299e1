import { createDocumentClient, createSqsClient } from "#adapters/aws-clients.ts";
import { readRuntimeFile } from "#local/runtime-file.ts";
import { awsEndpointsFromEnv, ConfigError, optionalEnv, requiredEnv } from "#shared/config.ts";

/** Where the CLI's commands act: the running local runtime, or a deployment named by environment. */
export type Target = {
  describe: string;
  /** The local runtime's URL; undefined for a deployment (its API URL is not in the environment). */
  apiUrl: string | undefined;
  tableName: string;
  documentClient: ReturnType<typeof createDocumentClient>;
  sqsClient: ReturnType<typeof createSqsClient>;
  actionsQueue: { url: string; dlqUrl: string } | undefined;
};

/**
 * With DASHLIGHT_TABLE_NAME set, the deployment it names (AWS credentials from
 * the usual chain; DASHLIGHT_*_ENDPOINT for other engines); otherwise the
 * `npm start` running on this machine, found through its runtime.json.
 */
export const resolveTarget = (env: NodeJS.ProcessEnv = process.env): Target => {
  if (optionalEnv("DASHLIGHT_TABLE_NAME", env) !== undefined) {
    const endpoints = awsEndpointsFromEnv(env);
    const actionsUrl = optionalEnv("DASHLIGHT_ACTIONS_QUEUE_URL", env);
    const actionsDlqUrl = optionalEnv("DASHLIGHT_ACTIONS_DLQ_URL", env);
    return {
      describe: `table ${requiredEnv("DASHLIGHT_TABLE_NAME", env)}`,
      apiUrl: undefined,
      tableName: requiredEnv("DASHLIGHT_TABLE_NAME", env),
      documentClient: createDocumentClient(endpoints),
      sqsClient: createSqsClient(endpoints),
      actionsQueue: actionsUrl && actionsDlqUrl ? { url: actionsUrl, dlqUrl: actionsDlqUrl } : undefined,
    };
  }
  const dataDir = optionalEnv("DASHLIGHT_DATA_DIR", env) ?? ".dashlight";
  const running = readRuntimeFile(dataDir);
  if (running === undefined) {
    throw new ConfigError(
      `no Dashlight is running from ${dataDir}/ (start it with npm start), and DASHLIGHT_TABLE_NAME is not set to name a deployment`,
    );
  }
  // The local engines accept any credentials; the SDK only needs some to sign with.
  process.env.AWS_REGION ??= "us-east-1";
  process.env.AWS_ACCESS_KEY_ID ??= "local";
  process.env.AWS_SECRET_ACCESS_KEY ??= "local";
  const endpoints = running.endpoints;
  return {
    describe: `the local runtime at ${running.url}`,
    apiUrl: running.url,
    tableName: running.tableName,
    documentClient: createDocumentClient(endpoints),
    sqsClient: createSqsClient(endpoints),
    actionsQueue: running.queues.actions,
  };
};
