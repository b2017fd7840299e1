import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { sqsMessageBody } from "#adapters/sqs/message-body.ts";

/** Any UTF-16 code unit, lone surrogates and non-characters included. */
const anyCodeUnits = fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((unit) => String.fromCharCode(unit)) });
const anyText = fc.oneof(anyCodeUnits, fc.string({ unit: "binary" }));

describe("sqsMessageBody", () => {
  it("escapes everything outside printable ASCII and gives back exactly the same value", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(anyText, fc.oneof(anyText, fc.integer(), fc.array(anyText)))), (value) => {
        const body = sqsMessageBody(value);
        expect(body).toMatch(/^[\x20-\x7e]*$/);
        expect(JSON.parse(body)).toStrictEqual(value);
      }),
      { numRuns: 300 },
    );
  });

  it("writes an emoji as its two escaped surrogates", () => {
    expect(sqsMessageBody({ name: "Zoë 🚗" })).toBe('{"name":"Zo\\u00eb \\ud83d\\ude97"}');
  });
});
