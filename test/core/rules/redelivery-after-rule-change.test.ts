import { describe, expect, it } from "vitest";
import { evaluate } from "#core/rules/evaluator.ts";
import { at, empty, rulesFrom, signalsEvent, step } from "./helpers.ts";

const speeding = (cooldown: string) =>
  rulesFrom(`rules:
  - id: speeding
    triggers:
      - signal: speed_kph
        above: 120
    cooldown: ${cooldown}
    actions:
      - sms: owner
        message: "fast"
`).rules[0];

describe("a redelivered event after the rule changed", () => {
  it("returns the same firing and writes no state, so the stored version stays in step", () => {
    const before = speeding("10m");
    const after = speeding("15m");
    if (before === undefined || after === undefined) throw new Error("no rule compiled");
    const event = signalsEvent(0, { speed_kph: 130 });
    const { input } = step(empty(), event);
    const first = evaluate(before, undefined, input, at(1));
    expect(first.changed).toBe(true);
    expect(first.state?.version).toBe(1);

    const again = evaluate(after, first.state, input, at(400));
    expect(again.duplicate).toBe(true);
    expect(again.changed).toBe(false);
    expect(again.state).toBe(first.state);
    expect(again.firings.map((firing) => firing.id)).toStrictEqual(first.firings.map((firing) => firing.id));
  });
});
