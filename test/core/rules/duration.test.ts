import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { formatDuration, parseDuration } from "#core/rules/duration.ts";

describe("durations", () => {
  it("parses compound durations", () => {
    expect([parseDuration("10s"), parseDuration("1h30m"), parseDuration("7d"), parseDuration("250ms")]).toStrictEqual([
      10_000, 5_400_000, 604_800_000, 250,
    ]);
  });

  it("rejects what is not a duration", () => {
    expect(["", "10", "s", "1.5h", "-1s", "1 h", "1hour"].map(parseDuration)).toStrictEqual(Array(7).fill(undefined));
  });

  it("formats and parses back to the same milliseconds", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10 * 365 * 86_400_000 }), (ms) => {
        expect(parseDuration(formatDuration(ms))).toBe(ms);
      }),
    );
  });
});
