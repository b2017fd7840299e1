import { describe, expect, it } from "vitest";
import { checkedTimeZone, normalisedTimeZone, sameTimeZone, TimeZone, tagsOf } from "#core/model/vehicle.ts";

describe("checkedTimeZone", () => {
  it("fixes only the case of a known zone name, and keeps any other valid name as typed", () => {
    expect(
      ["utc", "UTC", "Etc/UTC", "europe/berlin", "asia/TOKYO", "EST", "Etc/GMT-1"].map(checkedTimeZone),
    ).toStrictEqual([
      { timeZone: "UTC" },
      { timeZone: "UTC" },
      { timeZone: "Etc/UTC" },
      { timeZone: "Europe/Berlin" },
      { timeZone: "Asia/Tokyo" },
      { timeZone: "EST" },
      { timeZone: "Etc/GMT-1" },
    ]);
  });

  it("keeps the name given, never the ICU alias Intl resolves it to", () => {
    expect(["Europe/Kyiv", "Asia/Kolkata", "America/Nuuk", "US/Pacific"].map(checkedTimeZone)).toStrictEqual([
      { timeZone: "Europe/Kyiv" },
      { timeZone: "Asia/Kolkata" },
      { timeZone: "America/Nuuk" },
      { timeZone: "US/Pacific" },
    ]);
  });

  it("refuses a UTC offset and an unknown name", () => {
    expect(["+01:00", "-0500", "+01", "Mars/Olympus", " Europe/Berlin", ""].map(checkedTimeZone)).toStrictEqual([
      { refused: "offset" },
      { refused: "offset" },
      { refused: "offset" },
      { refused: "unknown" },
      { refused: "unknown" },
      { refused: "unknown" },
    ]);
  });

  it("is what the TimeZone schema parses to", () => {
    expect(["europe/berlin", "utc", "Europe/Kyiv"].map((zone) => TimeZone.parse(zone))).toStrictEqual([
      "Europe/Berlin",
      "UTC",
      "Europe/Kyiv",
    ]);
    expect(TimeZone.safeParse("+01:00").error?.issues.map((issue) => issue.message)).toStrictEqual([
      "a UTC offset is not a time zone: use an IANA name such as Europe/Berlin",
    ]);
    expect(TimeZone.safeParse("Mars/Olympus").error?.issues.map((issue) => issue.message)).toStrictEqual([
      "must be an IANA time zone such as Europe/Berlin",
    ]);
  });
});

describe("sameTimeZone", () => {
  it("holds for two spellings of one name, and for two names Intl resolves to one zone", () => {
    expect(
      [
        ["Europe/Kyiv", "Europe/Kiev"],
        ["europe/kyiv", "Europe/Kyiv"],
        ["Asia/Kolkata", "asia/calcutta"],
        ["utc", "UTC"],
        ["Etc/UTC", "UTC"],
        ["Europe/Berlin", "europe/berlin"],
      ].map(([a = "", b = ""]) => sameTimeZone(a, b)),
    ).toStrictEqual([true, true, true, true, true, true]);
  });

  it("does not hold for different zones, nor for an unknown name and another", () => {
    expect(
      [
        ["Europe/Kyiv", "Europe/Berlin"],
        ["UTC", "Europe/London"],
        ["Mars/Olympus", "mars/olympus"],
        ["Mars/Olympus", "UTC"],
      ].map(([a = "", b = ""]) => sameTimeZone(a, b)),
    ).toStrictEqual([false, false, false, false]);
  });

  it("normalisedTimeZone fixes the case of a stored name, and leaves one it cannot check as stored", () => {
    expect(["europe/berlin", "Europe/Kyiv", "Mars/Olympus"].map(normalisedTimeZone)).toStrictEqual([
      "Europe/Berlin",
      "Europe/Kyiv",
      "Mars/Olympus",
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
