import { ConfigError, optionalEnv, requiredEnv, secretFromEnv } from "./config.ts";
import { type TableConfig, tableConfigFromEnv } from "./runtime-config.ts";

/**
 * What the dispatcher reads at cold start.
 *
 * - `DASHLIGHT_MODE`: `local` | `aws`. In `aws` mode webhooks must be https to public addresses,
 *   and every channel must name its transport (an unset one is an error, never a silent outbox).
 * - `DASHLIGHT_SMS_TRANSPORT`: `sns` | `outbox` (local default: outbox).
 * - `DASHLIGHT_EMAIL_TRANSPORT`: `ses` | `smtp` | `outbox` (local default: outbox);
 *   `ses` and `smtp` need `DASHLIGHT_EMAIL_FROM`; `ses` may name `DASHLIGHT_SES_CONFIGURATION_SET`;
 *   `smtp` needs the secret `DASHLIGHT_SMTP_URL` (or `DASHLIGHT_SMTP_URL_SECRET_ARN`).
 * - `DASHLIGHT_WEBHOOK_TRANSPORT`: `http` | `outbox` (local default: outbox).
 * - `DASHLIGHT_WEBHOOK_SIGNING_SECRET` (or `…_SECRET_ARN`): always required; the outbox shows signed requests too.
 * - `DASHLIGHT_COMMANDS_PER_HOUR`: optional whole number, the per-vehicle command limit (default 5).
 */
export type DispatchMode = "local" | "aws";

export type DispatchConfig = TableConfig & {
  mode: DispatchMode;
  sms: { transport: "sns" } | { transport: "outbox" };
  email:
    | { transport: "ses"; from: string; configurationSet: string | undefined }
    | { transport: "smtp"; from: string; url: string }
    | { transport: "outbox" };
  webhook: { transport: "http" | "outbox"; signingSecret: string };
  commandsPerHour: number;
};

export const DEFAULT_COMMANDS_PER_HOUR = 5;

const oneOf = <T extends string>(name: string, allowed: readonly T[], value: string): T => {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new ConfigError(`environment variable ${name} must be one of ${allowed.join(", ")}, got ${value}`);
};

const transportEnv = <T extends string>(
  name: string,
  allowed: readonly T[],
  mode: DispatchMode,
  env: NodeJS.ProcessEnv,
): T | "outbox" => {
  const value = optionalEnv(name, env);
  if (value === undefined) {
    if (mode === "aws") throw new ConfigError(`environment variable ${name} is not set (required in aws mode)`);
    return "outbox";
  }
  return oneOf(name, [...allowed, "outbox"], value);
};

export const dispatchConfigFromEnv = async (env: NodeJS.ProcessEnv = process.env): Promise<DispatchConfig> => {
  const mode = oneOf("DASHLIGHT_MODE", ["local", "aws"] as const, requiredEnv("DASHLIGHT_MODE", env));
  const sms = transportEnv("DASHLIGHT_SMS_TRANSPORT", ["sns"] as const, mode, env);
  const emailTransport = transportEnv("DASHLIGHT_EMAIL_TRANSPORT", ["ses", "smtp"] as const, mode, env);
  const email: DispatchConfig["email"] =
    emailTransport === "ses"
      ? {
          transport: "ses",
          from: requiredEnv("DASHLIGHT_EMAIL_FROM", env),
          configurationSet: optionalEnv("DASHLIGHT_SES_CONFIGURATION_SET", env),
        }
      : emailTransport === "smtp"
        ? {
            transport: "smtp",
            from: requiredEnv("DASHLIGHT_EMAIL_FROM", env),
            url: await secretFromEnv("DASHLIGHT_SMTP_URL", env),
          }
        : { transport: "outbox" };
  const perHour = optionalEnv("DASHLIGHT_COMMANDS_PER_HOUR", env);
  if (perHour !== undefined && !/^[1-9]\d*$/.test(perHour))
    throw new ConfigError(
      `environment variable DASHLIGHT_COMMANDS_PER_HOUR must be a positive whole number, got ${perHour}`,
    );
  return {
    ...tableConfigFromEnv(env),
    mode,
    sms: { transport: sms },
    email,
    webhook: {
      transport: transportEnv("DASHLIGHT_WEBHOOK_TRANSPORT", ["http"] as const, mode, env),
      signingSecret: await secretFromEnv("DASHLIGHT_WEBHOOK_SIGNING_SECRET", env),
    },
    commandsPerHour: perHour === undefined ? DEFAULT_COMMANDS_PER_HOUR : Number(perHour),
  };
};
