import { describe, expect, it } from "vitest";
import { canonicalTimeZone, TimeZone, tagsOf } from "#core/model/vehicle.ts";

describe("canonicalTimeZone", () => {
  it("gives the canonical IANA name of a zone however it was typed", () => {
    expect(
      ["utc", "UTC", "Etc/UTC", "europe/berlin", "EST", "US/Pacific", "Etc/GMT-1"].map(canonicalTimeZone),
    ).toStrictEqual([
      { timeZone: "UTC" },
      { timeZone: "UTC" },
      { timeZone: "UTC" },
      { timeZone: "Europe/Berlin" },
      { timeZone: "America/Panama" },
      { timeZone: "America/Los_Angeles" },
      { timeZone: "Etc/GMT-1" },
    ]);
  });

  it("refuses a UTC offset and an unknown name", () => {
    expect(["+01:00", "-0500", "+01", "Mars/Olympus", " Europe/Berlin", ""].map(canonicalTimeZone)).toStrictEqual([
      { refused: "offset" },
      { refused: "offset" },
      { refused: "offset" },
      { refused: "unknown" },
      { refused: "unknown" },
      { refused: "unknown" },
    ]);
  });

  it("is what the TimeZone schema parses to", () => {
    expect(TimeZone.parse("europe/berlin")).toBe("Europe/Berlin");
    expect(TimeZone.safeParse("+01:00").error?.issues.map((issue) => issue.message)).toStrictEqual([
      "a UTC offset is not a time zone: use an IANA name such as Europe/Berlin",
    ]);
    expect(TimeZone.safeParse("Mars/Olympus").error?.issues.map((issue) => issue.message)).toStrictEqual([
      "must be an IANA time zone such as Europe/Berlin",
    ]);
  });
});

describe("tagsOf", () => {
  it("trims each tag and drops empty entries and repeats", () => {
    expect(tagsOf(" fleet , van ,, fleet,")).toStrictEqual({ tags: ["fleet", "van"] });
    expect(tagsOf("")).toStrictEqual({ tags: [] });
    expect(tagsOf("flotte-münchen,ev:2024,site/7,a_b.c")).toStrictEqual({
      tags: ["flotte-münchen", "ev:2024", "site/7", "a_b.c"],
    });
  });

  it("refuses, naming it, a tag with a space, a quote or a leading symbol, or longer than 64 characters", () => {
    const rule = "a tag is letters, digits and - _ . : / (starting with a letter or digit), at most 64 characters";
    expect(["fleet van", "ok,'van'", "-van", "a".repeat(65)].map(tagsOf)).toStrictEqual([
      { refused: `"fleet van" is not a tag: ${rule}` },
      { refused: `"'van'" is not a tag: ${rule}` },
      { refused: `"-van" is not a tag: ${rule}` },
      { refused: `"${"a".repeat(65)}" is not a tag: ${rule}` },
    ]);
    expect(tagsOf("a".repeat(64))).toStrictEqual({ tags: ["a".repeat(64)] });
  });
});
