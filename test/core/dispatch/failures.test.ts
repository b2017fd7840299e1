import { describe, expect, it } from "vitest";
import { InvalidRecipientError, TransientDeliveryError } from "#core/dispatch/errors.ts";
import { backoffDelayMs, classifyFailure, DEFAULT_RETRY_POLICY } from "#core/dispatch/failures.ts";
import {
  ProviderAuthError,
  ProviderConflictError,
  ProviderNotFoundError,
  ProviderRateLimitError,
  ProviderUnavailableError,
  UnsupportedCommandError,
} from "#core/providers/errors.ts";

describe("failure classification", () => {
  it("sorts every known error into transient or permanent", () => {
    expect(
      [
        new InvalidRecipientError("bad number"),
        new UnsupportedCommandError("ovms", "lock"),
        new ProviderAuthError("smartcar", "401"),
        new ProviderNotFoundError("smartcar", "404"),
        new ProviderConflictError("smartcar", "409"),
        new ProviderRateLimitError("smartcar", "429", 3_000),
        new ProviderRateLimitError("smartcar", "429", undefined),
        new ProviderUnavailableError("dimo", "503"),
        new TransientDeliveryError("throttled", 1_500),
        new Error("something unexpected"),
      ].map(classifyFailure),
    ).toStrictEqual([
      { kind: "permanent" },
      { kind: "permanent" },
      { kind: "permanent" },
      { kind: "permanent" },
      { kind: "permanent" },
      { kind: "transient", retryAfterMs: 3_000 },
      { kind: "transient" },
      { kind: "transient" },
      { kind: "transient", retryAfterMs: 1_500 },
      { kind: "transient" },
    ]);
  });
});

describe("retry backoff", () => {
  it("doubles the ceiling per attempt with full jitter, capped", () => {
    const half = () => 0.5;
    expect(
      [1, 2, 3, 4, 5, 6].map((attempt) => backoffDelayMs(attempt, DEFAULT_RETRY_POLICY, undefined, half)),
    ).toStrictEqual([100, 200, 400, 800, 1_000, 1_000]);
    expect(backoffDelayMs(3, DEFAULT_RETRY_POLICY, undefined, () => 0)).toBe(0);
  });

  it("waits at least the service's Retry-After, up to the cap", () => {
    expect(backoffDelayMs(1, DEFAULT_RETRY_POLICY, 1_500, () => 0.5)).toBe(1_500);
    expect(backoffDelayMs(1, DEFAULT_RETRY_POLICY, 60_000, () => 0.5)).toBe(2_000);
  });
});
