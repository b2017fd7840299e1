import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { canonicalInstantMs, compareInstants, instantMs, isCanonicalInstant, isoOf } from "#core/model/instant.ts";

const LAST_MS = 253_402_300_799_999; // 9999-12-31T23:59:59.999Z
const sign = (x: number) => (x > 0 ? 1 : x === 0 ? 0 : -1);

describe("instants", () => {
  it("isoOf formats every instant exactly like toISOString", () => {
    fc.assert(
      fc.property(fc.integer({ min: -LAST_MS, max: LAST_MS }), (ms) => {
        expect(isoOf(ms)).toBe(new Date(ms).toISOString());
      }),
    );
  });

  it("instantMs parses every canonical instant exactly like Date.parse", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: LAST_MS }), (ms) => {
        expect(instantMs(new Date(ms).toISOString())).toBe(ms);
      }),
    );
  });

  it("canonicalInstantMs reads back exactly what isoOf wrote, for every instant from year 0 to 9999", () => {
    fc.assert(
      fc.property(fc.integer({ min: -62_167_219_200_000, max: LAST_MS }), (ms) => {
        expect(canonicalInstantMs(isoOf(ms))).toBe(ms);
      }),
      { numRuns: 2000 },
    );
  });

  it("canonicalInstantMs refuses any text isoOf would not write back the same, so none is dropped wrongly", () => {
    for (const text of [
      "2026-05-01T08:00:00Z",
      "2026-05-01T08:00:00.000+00:00",
      "2026-05x01T08:00:00.000Z",
      "2026-05-01T08x00:00.000Z",
      "2026-05-01T08:00x00.000Z",
      "2026-02-30T08:00:00.000Z",
      "2026-05-01T24:00:00.000Z",
      "2026-05-01T08:00:00.0a0Z",
    ]) {
      expect(canonicalInstantMs(text)).toBeNaN();
    }
    // A written instant with one character changed: a digit, a separator or a letter anywhere,
    // out-of-range fields and misplaced separators included. Any that is read must come back the same.
    const mutated = fc
      .tuple(
        fc.integer({ min: 0, max: LAST_MS }),
        fc.integer({ min: 0, max: 23 }),
        fc.constantFrom(..."0123456789-:T.Zx"),
      )
      .map(([ms, at, char]) => {
        const text = isoOf(ms);
        return `${text.slice(0, at)}${char}${text.slice(at + 1)}`;
      });
    let read = 0;
    fc.assert(
      fc.property(mutated, (text) => {
        const ms = canonicalInstantMs(text);
        if (!Number.isNaN(ms)) {
          read++;
          expect(isoOf(ms)).toBe(text);
        }
      }),
      { numRuns: 2000 },
    );
    // Most single changes keep a valid instant (a digit for a digit): the check above ran.
    expect(read).toBeGreaterThan(500);
  });

  it("instantMs leaves other forms and impossible dates to Date.parse", () => {
    for (const text of ["2026-05-01T08:00:00Z", "2026-02-30T00:00:00.000Z", "2024-02-29T12:00:00.000Z", "nonsense"]) {
      expect(instantMs(text)).toStrictEqual(Date.parse(text));
    }
  });

  it("compareInstants orders canonical and other forms like the instants they name", () => {
    const text = fc.oneof(
      fc.integer({ min: 0, max: LAST_MS }).map((ms) => new Date(ms).toISOString()),
      fc.integer({ min: 0, max: 2_000_000_000 }).map((s) => new Date(s * 1000).toISOString().replace(".000Z", "Z")),
    );
    fc.assert(
      fc.property(text, text, (a, b) => {
        expect(compareInstants(a, b)).toBe(sign(Date.parse(a) - Date.parse(b)));
      }),
    );
  });

  it("treats an unparseable instant as never newer", () => {
    expect(compareInstants("garbage", "2026-05-01T08:00:00.000Z")).toBe(-1);
    expect(compareInstants("2026-05-01T08:00:00.000Z", "garbage")).toBe(-1);
  });

  it("recognises only the fixed-width UTC form as canonical", () => {
    expect(isCanonicalInstant("2026-05-01T08:00:00.000Z")).toBe(true);
    expect(isCanonicalInstant("2026-05-01T08:00:00Z")).toBe(false);
    expect(isCanonicalInstant("2026-05-01T08:00:00.0000Z")).toBe(false);
  });
});
