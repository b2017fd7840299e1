import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CreateTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import dynalite from "dynalite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DynamoDbEventStore } from "#adapters/dynamodb/event-store.ts";
import { TABLE_DEFINITION } from "#adapters/dynamodb/table.ts";
import { DynamoDbVehicleStore } from "#adapters/dynamodb/vehicle-store.ts";
import type { VehicleEvent } from "#core/model/event.ts";
import type { Vehicle } from "#core/model/vehicle.ts";
import { removeRuntimeFile, writeRuntimeFile } from "#local/runtime-file.ts";
import { replayCommand } from "../../cli/replay.ts";
import { rulesCommand } from "../../cli/rules.ts";

const VEHICLE: Vehicle = {
  id: "automatic:C_replay",
  provider: "automatic",
  providerVehicleId: "C_replay",
  displayName: "Blue Leaf",
  tags: [],
  timeZone: "UTC",
  contacts: [],
  createdAt: "2026-05-01T07:00:00.000Z",
};

const RULES = `contacts:
  owner: { name: Alex, phone: "+15555550100", email: alex@example.com }
rules:
  - id: speeding
    name: Speeding
    triggers: [{ signal: speed_kph, above: 120, for: 10s, rearm_below: 110 }]
    actions: [{ sms: owner, message: "{{vehicle.name}} is speeding" }]
  - id: check-engine
    name: Check engine
    max_event_delay: 7d
    triggers: [{ event: mil.on }]
    actions: [{ email: owner, subject: "MIL", message: "{{#event.data.dtcs}}{{code}} {{/event.data.dtcs}}" }]
  - id: gone-quiet
    name: Gone quiet
    triggers: [{ no_data_for: 30m }]
    actions: [{ sms: owner, message: "{{vehicle.name}} sent nothing for 30 minutes" }]
`;

const t = (hhmmss: string) => `2026-05-01T${hhmmss}.000Z`;

const speed = (id: string, at: string, kph: number, receivedAt = at): VehicleEvent => ({
  id,
  vehicleId: VEHICLE.id,
  type: "signals",
  occurredAt: at,
  receivedAt,
  source: { provider: "automatic" },
  data: {},
  signals: { speed_kph: { value: kph, observedAt: at } },
});

const EVENTS: VehicleEvent[] = [
  speed("e0", t("07:59:00"), 130), // before --from: not replayed
  speed("e1", t("08:00:00"), 125),
  speed("e2", t("08:00:05"), 130), // no sample at 08:00:10: the tick fires the `for`
  speed("e3", t("08:05:00"), 100),
  {
    id: "e4",
    vehicleId: VEHICLE.id,
    type: "mil.on",
    occurredAt: t("08:10:00"),
    receivedAt: t("09:10:00"), // an hour late, within this rule's 7 days
    source: { provider: "automatic" },
    data: { dtcs: [{ code: "P0301", description: "Cylinder 1 misfire" }] },
    signals: {},
  },
  speed("e5", t("08:20:00"), 131, t("08:27:00")), // 7 min late: the `for` it starts ends late too
  speed("e7", t("08:40:00"), 90), // then silence: gone-quiet fires at 09:10
  speed("e8", t("10:00:00"), 90), // at --to: not replayed
];

const run = async (...args: string[]) => {
  let out = "";
  let err = "";
  const code = await rulesCommand(["replay", ...args], {
    out: { write: (text: string) => (out += text) },
    err: { write: (text: string) => (err += text) },
  });
  return { code, out, err };
};

const startDynalite = async (path: string): Promise<{ server: Server; endpoint: string }> => {
  const server = dynalite({ path, createTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  return { server, endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
};
const stop = (server: Server) => new Promise<void>((resolve) => server.close(() => resolve()));

describe("dashlight rules replay", () => {
  let dir: string;
  let rulesDir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "dashlight-replay-"));
    rulesDir = join(dir, "rules");
    await mkdir(rulesDir);
    await writeFile(join(rulesDir, "rules.yaml"), RULES);
    // Seed the data directory the way the local runtime writes it: dynalite on <dir>/dynamodb,
    // the runtime's table, and the real adapters.
    await mkdir(join(dir, "dynamodb"));
    const { server, endpoint } = await startDynalite(join(dir, "dynamodb"));
    const raw = new DynamoDBClient({
      endpoint,
      region: "us-east-1",
      credentials: { accessKeyId: "local", secretAccessKey: "local" },
    });
    await raw.send(new CreateTableCommand({ TableName: "dashlight", ...TABLE_DEFINITION }));
    const client = DynamoDBDocumentClient.from(raw);
    await new DynamoDbVehicleStore(client, "dashlight").registerVehicle(VEHICLE);
    const events = new DynamoDbEventStore(client, "dashlight");
    for (const event of EVENTS) await events.putEvent(event);
    raw.destroy();
    await stop(server);
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("prints what would have fired between --from and --to, and why", async () => {
    const result = await run("--from", t("08:00:00"), "--to", t("10:00:00"), "--rules", rulesDir, "--data-dir", dir);
    expect(result).toStrictEqual({
      code: 0,
      out: [
        `${t("08:00:10")}  automatic:C_replay  speeding  fired  actioned  Speeding fired on speed_kph above 120 for 10s, re-arms below 110`,
        `${t("08:05:00")}  automatic:C_replay  speeding  resolved  actioned  Speeding resolved`,
        `${t("08:10:00")}  automatic:C_replay  check-engine  fired  actioned  Check engine fired on event mil.on`,
        `${t("08:20:10")}  automatic:C_replay  speeding  fired  late  Speeding fired on speed_kph above 120 for 10s, re-arms below 110 but was not actioned: late: 6m50s after the fact, more than max_event_delay 5m`,
        `${t("08:40:00")}  automatic:C_replay  speeding  resolved  not_actioned_episode  Speeding resolved, not actioned: episode 2 was not actioned when it opened`,
        `${t("09:10:00")}  automatic:C_replay  gone-quiet  fired  actioned  Gone quiet fired on no data for 30m`,
        "",
      ].join("\n"),
      err: `replayed 6 event(s) of 1 vehicle(s) from ${t("08:00:00")} to ${t("10:00:00")}: 6 firing(s) would have happened (nothing was written or sent)\n`,
    });
  });

  it("ticks timers only up to now when --to is later: what would have fired, not what may yet", async () => {
    let out = "";
    let err = "";
    const io = { out: { write: (text: string) => (out += text) }, err: { write: (text: string) => (err += text) } };
    const args = ["--from", t("08:00:00"), "--to", t("10:00:00"), "--rules", rulesDir, "--data-dir", dir];
    const code = await replayCommand(args, io, process.env, () => Date.parse(t("09:09:00")));
    expect({
      code,
      lines: out
        .trimEnd()
        .split("\n")
        .map((line) => line.split("  ").slice(0, 4).join(" ")),
    }).toStrictEqual({
      code: 0,
      lines: [
        `${t("08:00:10")} automatic:C_replay speeding fired`,
        `${t("08:05:00")} automatic:C_replay speeding resolved`,
        `${t("08:10:00")} automatic:C_replay check-engine fired`,
        `${t("08:20:10")} automatic:C_replay speeding fired`,
        `${t("08:40:00")} automatic:C_replay speeding resolved`,
      ],
    });
    expect(err).toBe(
      `replayed 6 event(s) of 1 vehicle(s) from ${t("08:00:00")} to ${t("10:00:00")}: 5 firing(s) would have happened ` +
        `(nothing was written or sent); timers ticked only up to now, ${t("09:09:00")}\n`,
    );
  });

  it("replays one vehicle with --vehicle, and says when it does not exist", async () => {
    const window = ["--from", t("08:00:00"), "--to", t("08:06:00"), "--rules", rulesDir, "--data-dir", dir];
    const one = await run(...window, "--vehicle", VEHICLE.id);
    expect(one.out.trimEnd().split("\n")).toStrictEqual([
      `${t("08:00:10")}  automatic:C_replay  speeding  fired  actioned  Speeding fired on speed_kph above 120 for 10s, re-arms below 110`,
      `${t("08:05:00")}  automatic:C_replay  speeding  resolved  actioned  Speeding resolved`,
    ]);
    expect(await run(...window, "--vehicle", "automatic:C_nobody")).toStrictEqual({
      code: 2,
      out: "",
      err: `no vehicle automatic:C_nobody in ${dir}\n`,
    });
  });

  it("reads through the running runtime when its runtime.json says where it listens", async () => {
    const { server, endpoint } = await startDynalite(join(dir, "dynamodb"));
    try {
      writeRuntimeFile(dir, {
        pid: process.pid,
        url: "http://127.0.0.1:3000",
        endpoints: { dynamodb: endpoint, sqs: "http://127.0.0.1:9" },
        tableName: "dashlight",
        queues: {},
      });
      const window = ["--from", t("08:00:00"), "--to", t("08:06:00"), "--rules", rulesDir, "--data-dir", dir];
      expect((await run(...window)).out.trimEnd().split("\n")).toHaveLength(2);
    } finally {
      removeRuntimeFile(dir);
      await stop(server);
    }
  });

  it("refuses a data directory another process holds without a runtime.json, and names the fix", async () => {
    const { server } = await startDynalite(join(dir, "dynamodb"));
    try {
      const result = await run("--from", t("08:00:00"), "--to", t("10:00:00"), "--rules", rulesDir, "--data-dir", dir);
      expect(result).toStrictEqual({
        code: 1,
        out: "",
        err:
          `${join(dir, "dynamodb")} is in use by another process, and no runtime.json in ${dir} says where it listens ` +
          "(a Dashlight started before runtime.json existed?): restart it with npm start, or stop it, and run replay again\n",
      });
    } finally {
      await stop(server);
    }
  });

  it("rejects a missing or reversed window with the usage", async () => {
    expect((await run("--to", t("10:00:00"))).err).toBe(
      "--from is required\nusage: dashlight rules replay --from <iso> --to <iso> [--vehicle <id>] [--rules <dir>] [--data-dir <dir>]\n",
    );
    const reversed = await run("--from", t("10:00:00"), "--to", t("08:00:00"), "--data-dir", dir);
    expect(reversed.code).toBe(2);
    expect(reversed.err.split("\n")[0]).toBe(`--from (${t("10:00:00")}) must be before --to (${t("08:00:00")})`);
  });
});
