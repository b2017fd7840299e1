import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compileRuleSourcesOrThrow, parseFixtureSources, runFixture, type SourceFile } from "#core/rules/index.ts";

const yamlFiles = (dir: string): SourceFile[] =>
  readdirSync(dir)
    .filter((n) => n.endsWith(".yaml"))
    .sort()
    .map((n) => ({ file: join(dir, n), text: readFileSync(join(dir, n), "utf8") }));

for (const dir of ["rules", "test/rules-fixtures"]) {
  describe(`fixtures in ${dir}`, () => {
    const ruleSet = compileRuleSourcesOrThrow(yamlFiles(dir));
    const { fixtures, problems } = parseFixtureSources(yamlFiles(join(dir, "fixtures")));
    it("parse without problems", () => expect(problems).toStrictEqual([]));
    for (const loaded of fixtures) {
      it(`${loaded.file}: ${loaded.fixture.name}`, () => {
        expect(runFixture(ruleSet, loaded).failures).toStrictEqual([]);
      });
    }
  });
}

describe("runFixture", () => {
  const ruleSet = compileRuleSourcesOrThrow(yamlFiles("rules"));

  it("shows a readable diff of expected (-) and actual (+) firings", () => {
    const { fixtures } = parseFixtureSources([
      {
        file: "f.yaml",
        text: `fixtures:
  - name: wrong episode
    rules: [check-engine]
    start: "2026-05-01T08:00:00Z"
    steps:
      - at: 0s
        event: mil.on
        data: { dtcs: [] }
        expect:
          - fired: check-engine
            episode: 2
`,
      },
    ]);
    const [loaded] = fixtures;
    if (loaded === undefined) throw new Error("fixture missing");
    expect(runFixture(ruleSet, loaded)).toStrictEqual({
      file: "f.yaml",
      name: "wrong episode",
      passed: false,
      failures: [
        [
          "step 1 (at 0s): firings differ",
          "    [",
          "      {",
          '  -     "episode": 2,',
          '  +     "episode": 1,',
          '        "fired": "check-engine"',
          "      }",
          "    ]",
        ].join("\n"),
      ],
    });
  });

  it("locates problems in fixture files", () => {
    expect(
      parseFixtureSources([{ file: "f.yaml", text: "fixtures:\n  - name: x\n    start: soon\n    steps: []\n" }])
        .problems,
    ).toStrictEqual([
      { file: "f.yaml", line: 3, column: 12, message: "Invalid ISO datetime" },
      { file: "f.yaml", line: 4, column: 12, message: "Too small: expected array to have >=1 items" },
    ]);
  });

  it("checks a fixture vehicle's time zone and tags as vehicles are checked", () => {
    const text = [
      "fixtures:",
      "  - name: x",
      "    vehicle: { time_zone: Mars/Olympus, tags: [Teen Driver] }",
      '    start: "2026-05-01T08:00:00Z"',
      "    steps: [{ at: 0s, signals: { speed_kph: 10 } }]",
      "",
    ].join("\n");
    expect(parseFixtureSources([{ file: "f.yaml", text }]).problems).toStrictEqual([
      { file: "f.yaml", line: 3, column: 27, message: "must be an IANA time zone such as Europe/Berlin" },
      {
        file: "f.yaml",
        line: 3,
        column: 48,
        message: "a tag is letters, digits and - _ . : / (starting with a letter or digit), at most 64 characters",
      },
    ]);
  });
});
