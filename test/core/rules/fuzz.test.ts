import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { compileRuleSources } from "#core/rules/index.ts";

const ruleish = fc.record(
  {
    id: fc.oneof(fc.constantFrom("a", "b-1", "Bad Id"), fc.string()),
    triggers: fc.array(
      fc.oneof(
        fc.record(
          { event: fc.constantFrom("mil.on", "hard_brake", "nope"), where: fc.string() },
          { requiredKeys: ["event"] },
        ),
        fc.record(
          {
            signal: fc.constantFrom("speed_kph", "soc_pct", "is_locked", "location", "speed"),
            above: fc.oneof(fc.double(), fc.string()),
            below: fc.double(),
            is: fc.oneof(fc.boolean(), fc.string()),
            for: fc.constantFrom("10s", "soon", "1h30m"),
          },
          { requiredKeys: ["signal"] },
        ),
        fc.record({ exit: fc.constantFrom("home", "nowhere") }),
        fc.record({ schedule: fc.constantFrom("0 21 * * *", "61 * * * *", "@daily", "") }),
        fc.anything(),
      ),
    ),
    conditions: fc.array(fc.oneof(fc.record({ expression: fc.string() }), fc.record({ any: fc.array(fc.anything()) }))),
    actions: fc.array(
      fc.oneof(
        fc.record({ sms: fc.constantFrom("owner", "+15555550100", "+1", "nobody"), message: fc.string() }),
        fc.record({ command: fc.constantFrom("lock", "set_charge_limit", "fly"), percent: fc.integer() }),
        fc.anything(),
      ),
    ),
  },
  { requiredKeys: [] },
);

describe("compileRuleSources (fuzzed)", () => {
  it("never throws: any input yields rules or located problems", () => {
    fc.assert(
      fc.property(fc.oneof(fc.array(ruleish), fc.anything()), fc.boolean(), (rules, asText) => {
        const text =
          asText && typeof rules === "string"
            ? rules
            : stringify({
                contacts: { owner: { phone: "+15555550100" } },
                zones: { home: { circle: { lat: 1, lon: 2, radius_m: 3 } } },
                rules,
              });
        const result = compileRuleSources([{ file: "f.yaml", text }]);
        if (!result.ok) {
          for (const p of result.problems) {
            expect(p.line).toBeGreaterThanOrEqual(1);
            expect(p.column).toBeGreaterThanOrEqual(1);
            expect(p.message.length).toBeGreaterThan(0);
          }
        }
      }),
      { numRuns: 100 },
    );
  });

  it("never throws on arbitrary text", () => {
    fc.assert(
      fc.property(
        fc.string({
          maxLength: 200,
          unit: fc.constantFrom("*", "&", "!", ":", "-", " ", "\n", "a", "[", "{", "#", "|", ">", '"', "'"),
        }),
        (text) => {
          const result = compileRuleSources([{ file: "f.yaml", text }]);
          expect(typeof result.ok).toBe("boolean");
        },
      ),
      { numRuns: 500 },
    );
  });
});
