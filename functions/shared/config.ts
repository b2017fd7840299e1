import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
/**
 * Configuration from the environment, read once per cold start. A getter throws
 * when a variable is missing or malformed: nothing is silently defaulted.
 */
export class ConfigError extends Error {
  override name = "ConfigError";
}

export const requiredEnv = (name: string, env: NodeJS.ProcessEnv = process.env): string => {
  const value = env[name];
  if (value === undefined || value.trim() === "") throw new ConfigError(`environment variable ${name} is not set`);
  return value;
};

/** An optional variable: absent means "not configured", never a made-up value. */
export const optionalEnv = (name: string, env: NodeJS.ProcessEnv = process.env): string | undefined => {
  const value = env[name];
  return value === undefined || value.trim() === "" ? undefined : value;
};

export const optionalUrlEnv = (name: string, env: NodeJS.ProcessEnv = process.env): string | undefined => {
  const value = optionalEnv(name, env);
  if (value === undefined) return undefined;
  if (!URL.canParse(value)) throw new ConfigError(`environment variable ${name} is not a URL: ${value}`);
  return value;
};

export const requiredIntEnv = (name: string, env: NodeJS.ProcessEnv = process.env): number => {
  const value = requiredEnv(name, env);
  if (!/^\d+$/.test(value)) throw new ConfigError(`environment variable ${name} must be a whole number, got ${value}`);
  return Number(value);
};

/** Where the AWS SDK clients connect: AWS itself, or the local engines when an endpoint is given. */
export type AwsEndpoints = { dynamodb: string | undefined; sqs: string | undefined };

export const awsEndpointsFromEnv = (env: NodeJS.ProcessEnv = process.env): AwsEndpoints => ({
  dynamodb: optionalUrlEnv("DASHLIGHT_DYNAMODB_ENDPOINT", env),
  sqs: optionalUrlEnv("DASHLIGHT_SQS_ENDPOINT", env),
});

/**
 * A secret: the variable `name` itself locally; in AWS the value of the Secrets
 * Manager secret whose ARN is in `<name>_SECRET_ARN` (the value never sits in
 * the function's configuration, where anyone allowed to read it would see it).
 */
export const secretFromEnv = async (name: string, env: NodeJS.ProcessEnv = process.env): Promise<string> => {
  const plain = optionalEnv(name, env);
  if (plain !== undefined) return plain;
  const arn = optionalEnv(`${name}_SECRET_ARN`, env);
  if (arn === undefined) throw new ConfigError(`environment variable ${name} or ${name}_SECRET_ARN is not set`);
  const client = new SecretsManagerClient({});
  try {
    const { SecretString } = await client.send(new GetSecretValueCommand({ SecretId: arn }));
    if (!SecretString) throw new ConfigError(`secret ${arn} (${name}) has no string value`);
    return SecretString;
  } finally {
    client.destroy();
  }
};
