import { createHash } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LocalRuntime } from "#local/runtime.ts";
import { removeRuntimeFile, writeRuntimeFile } from "#local/runtime-file.ts";
import { scanTable, startTestRuntime } from "#test/support/local-runtime.ts";
import { CONNECT_USAGE, connectCommand } from "../../cli/connect.ts";
import { resolveTarget, type Target } from "../../cli/connection.ts";

/**
 * `dashlight connect invite` on the local engines: it finds the running runtime through runtime.json (or a
 * deployment's table through DASHLIGHT_TABLE_NAME), as `npx dashlight` does, stores the invite there and prints the
 * link.
 */
const NOW = new Date("2026-03-01T10:00:00.000Z");

let runtime: LocalRuntime;
let dataDir: string;

beforeAll(async () => {
  runtime = await startTestRuntime();
  dataDir = await mkdtemp(join(tmpdir(), "dashlight-connect-cli-"));
  writeRuntimeFile(dataDir, {
    pid: process.pid,
    url: runtime.url,
    endpoints: runtime.endpoints,
    tableName: runtime.provisioned.tableName,
    queues: { actions: runtime.provisioned.actionsQueue },
  });
});
afterAll(async () => {
  removeRuntimeFile(dataDir);
  await rm(dataDir, { recursive: true, force: true });
  await runtime?.stop();
});

const localRuntime = () => resolveTarget({ DASHLIGHT_DATA_DIR: dataDir });
const deployment = () =>
  resolveTarget({
    DASHLIGHT_TABLE_NAME: runtime.provisioned.tableName,
    DASHLIGHT_DYNAMODB_ENDPOINT: runtime.endpoints.dynamodb,
    DASHLIGHT_SQS_ENDPOINT: runtime.endpoints.sqs,
  });
const unresolved = (): Target => {
  throw new Error("a bad flag must be reported before the CLI looks for a runtime");
};

const run = async (args: string[], target: () => Target) => {
  let out = "";
  let err = "";
  const code = await connectCommand(
    args,
    target,
    { out: { write: (text: string) => (out += text) }, err: { write: (text: string) => (err += text) } },
    () => NOW,
  );
  return { code, out, err };
};

const inviteItems = async () =>
  (await scanTable(runtime)).filter((item) => (item.pk as { S: string }).S.startsWith("INVITE#"));
const idOf = (out: string) => /\?invite=([A-Za-z0-9_-]{32})\n/.exec(out)?.[1] ?? "";
const pkOf = (id: string) => `INVITE#${createHash("sha256").update(id).digest("base64url")}`;
const storedItem = async (id: string) =>
  (await inviteItems()).find((item) => (item.pk as { S: string }).S === pkOf(id));

describe("dashlight connect invite", () => {
  it("prints a single-use link on the running runtime's URL and stores the invite under the hash of its id", async () => {
    const result = await run(
      [
        "invite",
        "--vehicles",
        "2",
        "--time-zone",
        "europe/berlin",
        "--tags",
        " fleet ,, van , fleet ",
        "--expires",
        "12h",
      ],
      localRuntime,
    );
    const id = idOf(result.out);
    expect(result).toStrictEqual({
      code: 0,
      out:
        `${runtime.url}/connect/smartcar?invite=${id}\n` +
        "single use for up to 2 vehicles, expires 2026-03-01T22:00:00.000Z (in 12h); vehicles connected through it get time zone " +
        `Europe/Berlin, tags fleet,van; stored in the local runtime at ${runtime.url}\n`,
      err: "",
    });
    expect(id).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(await storedItem(id)).toStrictEqual({
      pk: { S: pkOf(id) },
      sk: { S: "INVITE" },
      createdAt: { S: "2026-03-01T10:00:00.000Z" },
      expiresAt: { N: String(Date.parse("2026-03-01T22:00:00.000Z") / 1000) },
      tags: { L: [{ S: "fleet" }, { S: "van" }] },
      vehicles: { N: "2" },
      timeZone: { S: "Europe/Berlin" },
    });
    expect(JSON.stringify(await scanTable(runtime))).not.toContain(id);
  });

  it("stores --time-zone as given with its case fixed, never the ICU alias Intl resolves it to", async () => {
    for (const [zone, stored] of [
      ["Europe/Kyiv", "Europe/Kyiv"],
      ["Asia/Kolkata", "Asia/Kolkata"],
      ["asia/tokyo", "Asia/Tokyo"],
      ["utc", "UTC"],
    ] as const) {
      const result = await run(["invite", "--time-zone", zone], localRuntime);
      const id = idOf(result.out);
      expect(result).toStrictEqual({
        code: 0,
        out:
          `${runtime.url}/connect/smartcar?invite=${id}\n` +
          "single use for 1 vehicle, expires 2026-03-08T10:00:00.000Z (in 7d); vehicles connected through it get time zone " +
          `${stored}, tags none; stored in the local runtime at ${runtime.url}\n`,
        err: "",
      });
      expect((await storedItem(id))?.timeZone).toStrictEqual({ S: stored });
    }
  });

  it("defaults to 7 days, no time zone and no tags; each invite has its own id", async () => {
    const first = await run(["invite"], localRuntime);
    const second = await run(["invite"], localRuntime);
    const id = idOf(first.out);
    expect(first).toStrictEqual({
      code: 0,
      out:
        `${runtime.url}/connect/smartcar?invite=${id}\n` +
        "single use for 1 vehicle, expires 2026-03-08T10:00:00.000Z (in 7d); vehicles connected through it get time zone " +
        `UTC (unless the link adds &time_zone=), tags none; stored in the local runtime at ${runtime.url}\n`,
      err: "",
    });
    expect(idOf(second.out)).not.toBe(id);
    expect(await storedItem(id)).toStrictEqual({
      pk: { S: pkOf(id) },
      sk: { S: "INVITE" },
      createdAt: { S: "2026-03-01T10:00:00.000Z" },
      expiresAt: { N: String(Date.parse("2026-03-08T10:00:00.000Z") / 1000) },
      tags: { L: [] },
      vehicles: { N: "1" },
    });
  });

  it("makes the link on --api-url for a deployment (trailing slash or stage path and all), and requires it there", async () => {
    const before = (await inviteItems()).length;
    expect(await run(["invite"], deployment)).toStrictEqual({
      code: 2,
      out: "",
      err:
        `--api-url is required for a deployment (table ${runtime.provisioned.tableName}): the stack output ApiUrl, ` +
        "e.g. --api-url https://abc123.execute-api.eu-west-1.amazonaws.com/\n",
    });
    expect((await inviteItems()).length).toBe(before);

    for (const [apiUrl, base] of [
      ["https://abc123.execute-api.eu-west-1.amazonaws.com/", "https://abc123.execute-api.eu-west-1.amazonaws.com"],
      ["https://api.example.com/prod", "https://api.example.com/prod"],
    ] as const) {
      const result = await run(["invite", "--expires", "30d", "--api-url", apiUrl], deployment);
      expect(result).toStrictEqual({
        code: 0,
        out:
          `${base}/connect/smartcar?invite=${idOf(result.out)}\n` +
          "single use for 1 vehicle, expires 2026-03-31T10:00:00.000Z (in 30d); vehicles connected through it get time zone " +
          `UTC (unless the link adds &time_zone=), tags none; stored in table ${runtime.provisioned.tableName}\n`,
        err: "",
      });
    }
    expect((await inviteItems()).length).toBe(before + 2);
  });

  it("refuses a bad flag, naming it, before looking for a runtime, and stores nothing", async () => {
    const before = (await inviteItems()).length;
    const refusals: [string[], string][] = [
      [["--time-zone", "Mars/Olympus"], '--time-zone: unknown IANA time zone "Mars/Olympus"\n'],
      ...["+01:00", "-0500"].map((zone): [string[], string] => [
        [`--time-zone=${zone}`],
        `--time-zone: "${zone}" is a UTC offset, not a time zone: use an IANA name such as Europe/Berlin\n`,
      ]),
      ...["0", "51", "two", "1.5", "", "-1"].map((vehicles): [string[], string] => [
        [`--vehicles=${vehicles}`],
        `--vehicles: must be a whole number from 1 to 50, got "${vehicles}"\n`,
      ]),
      ...[
        ["fleet van", "fleet van"],
        ["ok,-van", "-van"],
        ['fleet,"van"', '\\"van\\"'],
        ["a".repeat(65), "a".repeat(65)],
      ].map(([tags = "", bad = ""]): [string[], string] => [
        ["--tags", tags],
        `--tags: "${bad}" is not a tag: a tag is letters, digits and - _ . : / (starting with a letter or digit), ` +
          "at most 64 characters\n",
      ]),
      ...["31d", "30d1m", "30s", "0d", "soon", "7"].map((expires): [string[], string] => [
        ["--expires", expires],
        `--expires: must be a duration from 1m to 30d such as 30m, 12h or 7d, got "${expires}"\n`,
      ]),
      ...[
        "http://api.example.com/",
        "https://api.example.com/?stage=prod",
        "https://api.example.com/#prod",
        "https://user:secret@api.example.com/",
        "ftp://api.example.com",
        "api.example.com",
      ].map((apiUrl): [string[], string] => [
        ["--api-url", apiUrl],
        "--api-url: must be an https URL (http only to this machine: localhost, 127.0.0.1 or [::1]) without query, " +
          `fragment or credentials, got "${apiUrl}"\n`,
      ]),
    ];
    for (const [flags, err] of refusals) {
      expect(await run(["invite", ...flags], unresolved)).toStrictEqual({ code: 2, out: "", err });
    }
    const unknown = await run(["invite", "--bogus"], unresolved);
    expect([
      unknown.code,
      unknown.err.split("\n")[0]?.startsWith("Unknown option '--bogus'"),
      unknown.out,
    ]).toStrictEqual([2, true, ""]);
    expect(unknown.err.endsWith(`\n${CONNECT_USAGE}`)).toBe(true);
    expect(await run(["invite", "--expires"], unresolved)).toMatchObject({ code: 2, out: "" });
    expect(await run([], unresolved)).toStrictEqual({ code: 2, out: "", err: CONNECT_USAGE });
    expect(await run(["invitation"], unresolved)).toStrictEqual({ code: 2, out: "", err: CONNECT_USAGE });
    expect((await inviteItems()).length).toBe(before);
  });

  it("accepts the bounds of --expires: 1m and 30d", async () => {
    for (const [expires, at] of [
      ["1m", "2026-03-01T10:01:00.000Z"],
      ["30d", "2026-03-31T10:00:00.000Z"],
    ] as const) {
      const result = await run(["invite", "--expires", expires], localRuntime);
      expect([result.code, result.out.split("\n")[1]?.split(";")[0]]).toStrictEqual([
        0,
        `single use for 1 vehicle, expires ${at} (in ${expires})`,
      ]);
    }
  });
});
