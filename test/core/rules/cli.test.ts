import { describe, expect, it } from "vitest";
import { rulesCommand } from "../../../cli/rules.ts";

const run = async (...args: string[]) => {
  let out = "";
  let err = "";
  const code = await rulesCommand(args, {
    out: { write: (t: string) => (out += t) },
    err: { write: (t: string) => (err += t) },
  });
  return { code, out, err };
};

describe("dashlight rules", () => {
  it("validate exits 0 on the example rules", async () => {
    expect(await run("validate", "rules")).toStrictEqual({
      code: 0,
      out: "",
      err: "10 rule(s) in 12 file(s): valid\n",
    });
  });

  it("validate exits 1 with one line per problem", async () => {
    const { code, out } = await run(
      "validate",
      "rules/zones.yaml",
      "rules/contacts.yaml",
      "test/core/rules/files/five-mistakes.yaml",
    );
    expect(code).toBe(1);
    expect(out.trimEnd().split("\n")).toHaveLength(5);
  });

  it("validate refuses a scope tag no vehicle can carry, at its line and column", async () => {
    expect(await run("validate", "test/core/rules/files/untaggable-scope.yaml")).toStrictEqual({
      code: 1,
      out:
        "test/core/rules/files/untaggable-scope.yaml:4:27: a tag is letters, digits and - _ . : / " +
        "(starting with a letter or digit), at most 64 characters\n",
      err: "",
    });
  });

  it("schema prints the JSON Schema generated from zod", async () => {
    const { code, out } = await run("schema");
    const schema = JSON.parse(out) as {
      properties: Record<string, unknown>;
      additionalProperties: boolean;
      $defs: Record<string, unknown>;
    };
    expect(code).toBe(0);
    expect(Object.keys(schema.properties)).toStrictEqual(["zones", "contacts", "rules"]);
    expect(Object.keys(schema.$defs)).toStrictEqual(["Condition"]);
    expect(schema.additionalProperties).toBe(false);
  });

  it("test runs the fixtures of a directory", async () => {
    const { code, out } = await run("test", "test/rules-fixtures");
    expect(code).toBe(0);
    expect(out).toMatch(/\n14 passed, 0 failed\n$/);
  });
});
