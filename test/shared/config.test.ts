import { describe, expect, it } from "vitest";
import { ConfigError, requiredEnv, requiredIntEnv, secretFromEnv } from "#shared/config.ts";

describe("configuration from the environment", () => {
  it("names a missing variable instead of defaulting it", () => {
    expect(() => requiredEnv("DASHLIGHT_TABLE_NAME", {})).toThrow(
      new ConfigError("environment variable DASHLIGHT_TABLE_NAME is not set"),
    );
    expect(() => requiredEnv("DASHLIGHT_TABLE_NAME", { DASHLIGHT_TABLE_NAME: "  " })).toThrow(ConfigError);
  });

  it("rejects a malformed number with its value", () => {
    expect(() => requiredIntEnv("DASHLIGHT_RAW_RETENTION_DAYS", { DASHLIGHT_RAW_RETENTION_DAYS: "30d" })).toThrow(
      new ConfigError("environment variable DASHLIGHT_RAW_RETENTION_DAYS must be a whole number, got 30d"),
    );
    expect(requiredIntEnv("DASHLIGHT_RAW_RETENTION_DAYS", { DASHLIGHT_RAW_RETENTION_DAYS: "30" })).toBe(30);
  });

  it("takes a secret from its variable locally, and names both variables when neither is set", async () => {
    await expect(secretFromEnv("SMARTCAR_MANAGEMENT_TOKEN", { SMARTCAR_MANAGEMENT_TOKEN: "t0k3n" })).resolves.toBe(
      "t0k3n",
    );
    await expect(secretFromEnv("SMARTCAR_MANAGEMENT_TOKEN", {})).rejects.toThrow(
      new ConfigError(
        "environment variable SMARTCAR_MANAGEMENT_TOKEN or SMARTCAR_MANAGEMENT_TOKEN_SECRET_ARN is not set",
      ),
    );
  });
});
