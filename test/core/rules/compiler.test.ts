import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { compileRuleSources, formatProblem, type SourceFile } from "#core/rules/index.ts";

const file = (name: string): SourceFile => ({ file: name, text: readFileSync(name, "utf8") });
const shared = [file("rules/zones.yaml"), file("rules/contacts.yaml")];
const problemsOf = (...sources: SourceFile[]) => {
  const result = compileRuleSources([...shared, ...sources]);
  return result.ok ? [] : result.problems.map(formatProblem);
};
const rule = (yaml: string): SourceFile => ({ file: "rules/x.yaml", text: yaml });

describe("compileRuleSources", () => {
  it("reports five different mistakes in one file as five file:line:column lines", () => {
    expect(problemsOf(file("test/core/rules/files/five-mistakes.yaml"))).toStrictEqual([
      'test/core/rules/files/five-mistakes.yaml:5:16: expected number, got string "fast"',
      'test/core/rules/files/five-mistakes.yaml:6:5: unknown field "colour"',
      'test/core/rules/files/five-mistakes.yaml:12:15: unknown zone "cottage"; known: home, office, school',
      "test/core/rules/files/five-mistakes.yaml:14:41: invalid CEL: Unexpected token: EOF",
      "test/core/rules/files/five-mistakes.yaml:18:19: invalid cron schedule: Invalid value for hour: 25",
    ]);
  });

  it("compiles every example rule", () => {
    const result = compileRuleSources([
      ...shared,
      ...[
        "speeding",
        "check-engine",
        "geofence-exit",
        "low-charge",
        "stale-vehicle",
        "charge-complete",
        "hard-braking",
        "far-from-home",
        "evening-check",
        "left-unlocked",
      ].map((n) => file(`rules/${n}.yaml`)),
    ]);
    expect(result.ok && result.ruleSet.rules.map((r) => r.id)).toStrictEqual([
      "speeding",
      "check-engine",
      "geofence-exit",
      "low-charge",
      "stale-vehicle",
      "charge-complete",
      "hard-braking",
      "far-from-home",
      "evening-plug-in",
      "left-unlocked",
    ]);
  });

  it("reports unknown event types and signals with the known names", () => {
    const problems = problemsOf(
      rule(`rules:
  - id: a
    triggers:
      - event: mil.blinking
      - signal: speed_mph
        above: 70
    actions: []
`),
    );
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(
      /^rules\/x\.yaml:4:16: unknown event type "mil\.blinking"; known types: ignition\.on, /,
    );
    expect(problems[1]).toMatch(/^rules\/x\.yaml:5:17: unknown signal "speed_mph"; known signals: speed_kph, /);
  });

  it("checks phone numbers, contacts and their channels", () => {
    expect(
      problemsOf(
        rule(`rules:
  - id: a
    triggers:
      - event: hard_brake
    actions:
      - sms: ["+1 555 0100", nobody, mechanic]
        message: hi
      - email: owner
        subject: "{{vehicle.name}}"
        message: "{{speed}}"
`),
      ),
    ).toStrictEqual([
      "rules/x.yaml:6:15: must be an E.164 number like +15555550100",
      'rules/x.yaml:6:30: unknown contact "nobody"; known: mechanic, owner, partner',
      'rules/x.yaml:6:38: contact "mechanic" has no phone',
      'rules/x.yaml:10:19: unknown template name "speed"; names start with vehicle, event, snapshot, rule, firing, trigger',
    ]);
  });

  it("reports a missing field, a bad duration and a misplaced re-arm band", () => {
    expect(
      problemsOf(
        rule(`rules:
  - id: a
    triggers:
      - signal: soc_pct
        below: 20
        rearm_below: 25
        for: soon
`),
      ),
    ).toStrictEqual([
      'rules/x.yaml:2:5: missing required field "actions"',
      "rules/x.yaml:6:22: rearm_below goes with above",
      "rules/x.yaml:7:14: must be a duration like 10s, 5m, 2h or 1h30m",
    ]);
  });

  it("names the trigger kinds when a trigger has none of them", () => {
    expect(problemsOf(rule("rules:\n  - id: a\n    triggers:\n      - when: now\n    actions: []\n"))).toStrictEqual([
      "rules/x.yaml:4:9: a trigger needs one of: event, signal, enter, exit, inside, outside, no_data_for, schedule",
    ]);
  });

  it("places a CEL error inside a block scalar", () => {
    expect(
      problemsOf(
        rule(`rules:
  - id: a
    triggers:
      - event: signals
    conditions:
      - expression: |
          speed_kph > 10.0
          && nosuch > 1.0
    actions: []
`),
      ),
    ).toStrictEqual(["rules/x.yaml:8:14: invalid CEL: Unknown variable: nosuch"]);
  });

  it("never lets one bad rule or file hide another's problems, and reports duplicates", () => {
    const a = rule("rules:\n  - id: dup\n    triggers: [{ event: mil.on }]\n    actions: []\n    colour: red\n");
    const b = {
      file: "rules/y.yaml",
      text: "rules:\n  - id: dup\n    triggers: [{ event: mil.on }]\n    actions: []\n  - id: dup\n    triggers: [{ event: mil.on }]\n    actions: []\n",
    };
    expect(problemsOf(a, b)).toStrictEqual([
      'rules/x.yaml:5:5: unknown field "colour"',
      'rules/y.yaml:5:9: rule "dup" is already defined in rules/y.yaml',
    ]);
  });

  it("reports YAML syntax errors with their position", () => {
    expect(problemsOf(rule("rules:\n  - id: a\n   triggers: [\n"))).toStrictEqual([
      expect.stringMatching(/^rules\/x\.yaml:3:\d+: /),
      expect.stringMatching(/^rules\/x\.yaml:\d+:\d+: /),
    ]);
  });

  it("compiles into frozen values", () => {
    const result = compileRuleSources([...shared, file("rules/speeding.yaml")]);
    if (!result.ok) throw new Error("expected valid rules");
    const speeding = result.ruleSet.rules[0];
    expect(Object.isFrozen(speeding)).toBe(true);
    expect(Object.isFrozen(speeding?.spec.triggers[0])).toBe(true);
    expect(speeding?.triggers[0]?.description).toBe("speed_kph above 120 for 10s, re-arms below 110");
  });
});
