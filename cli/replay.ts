import { parseArgs } from "node:util";
import { DynamoDbEventStore } from "#adapters/dynamodb/event-store.ts";
import { DynamoDbVehicleStore } from "#adapters/dynamodb/vehicle-store.ts";
import type { VehicleEvent } from "#core/model/event.ts";
import { compareInstants, isoOf } from "#core/model/instant.ts";
import type { Vehicle } from "#core/model/vehicle.ts";
import { compileRuleSources, formatProblem, readRuleSources } from "#core/rules/index.ts";
import { byFiringTime, formatReplayFiring, replayVehicle } from "#core/rules/replay.ts";
import type { Firing } from "#core/rules/state.ts";
import { UsageError } from "./errors.ts";
import { type LocalDynamoDb, openLocalDynamoDb } from "./local-dynamodb.ts";
import type { ProgressOutput } from "./progress.ts";
import { progressBar } from "./progress.ts";

type Io = { out: { write(text: string): unknown }; err: ProgressOutput };

export const REPLAY_USAGE =
  "usage: dashlight rules replay --from <iso> --to <iso> [--vehicle <id>] [--rules <dir>] [--data-dir <dir>]\n";

const VEHICLE_PAGE = 100;

/**
 * `dashlight rules replay`: what the current rules would have done with the events the
 * local runtime stored between --from and --to. Reads only; prints one line per firing
 * (time, vehicle, rule, fired/resolved, status, explanation) on stdout, and a summary on
 * stderr. Returns the exit code: 0, or 1 when the rules are invalid. Timers (`for`,
 * staleness, schedules) are ticked up to --to, or up to now when --to is later: what
 * would have fired, not what may yet.
 */
export const replayCommand = async (
  args: readonly string[],
  io: Io,
  env = process.env,
  now: () => number = Date.now,
): Promise<number> => {
  const options = parseReplayArgs(args, env);
  const nowIso = isoOf(now());
  const timersUntil = compareInstants(options.to, nowIso) > 0 ? nowIso : options.to;
  const compiled = compileRuleSources(await readRuleSources([options.rulesDir]));
  if (!compiled.ok) {
    for (const problem of compiled.problems) io.out.write(`${formatProblem(problem)}\n`);
    return 1;
  }
  const db = await openLocalDynamoDb(options.dataDir);
  let work: { vehicle: Vehicle; events: VehicleEvent[] }[];
  try {
    work = await readEvents(db, options);
  } finally {
    await db.close();
  }

  const total = work.reduce((n, w) => n + w.events.length, 0);
  const bar = progressBar(io.err, total, "events");
  const firings: Firing[] = [];
  for (const { vehicle, events } of work) {
    firings.push(
      ...replayVehicle(compiled.ruleSet, vehicle, events, { from: options.from, to: timersUntil }, bar.tick),
    );
  }
  bar.done();

  firings.sort(byFiringTime);
  for (const firing of firings) io.out.write(`${formatReplayFiring(firing)}\n`);
  io.err.write(
    `replayed ${total} event(s) of ${work.length} vehicle(s) from ${options.from} to ${options.to}: ` +
      `${firings.length} firing(s) would have happened (nothing was written or sent)` +
      `${timersUntil === options.to ? "" : `; timers ticked only up to now, ${timersUntil}`}\n`,
  );
  return 0;
};

type ReplayOptions = { from: string; to: string; vehicle?: string; rulesDir: string; dataDir: string };

const parseReplayArgs = (args: readonly string[], env: NodeJS.ProcessEnv): ReplayOptions => {
  let values: { from?: string; to?: string; vehicle?: string; rules?: string; "data-dir"?: string };
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: {
        from: { type: "string" },
        to: { type: "string" },
        vehicle: { type: "string" },
        rules: { type: "string" },
        "data-dir": { type: "string" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (cause) {
    throw new UsageError(`${(cause as Error).message}\n${REPLAY_USAGE}`);
  }
  const from = instantArg("--from", values.from);
  const to = instantArg("--to", values.to);
  if (from >= to) throw new UsageError(`--from (${from}) must be before --to (${to})\n${REPLAY_USAGE}`);
  return {
    from,
    to,
    ...(values.vehicle === undefined ? {} : { vehicle: values.vehicle }),
    rulesDir: values.rules ?? "rules",
    dataDir: values["data-dir"] ?? env.DASHLIGHT_DATA_DIR ?? ".dashlight",
  };
};

/** An ISO 8601 time, in the canonical form the event store's sort keys use. */
const instantArg = (name: string, text: string | undefined): string => {
  if (text === undefined) throw new UsageError(`${name} is required\n${REPLAY_USAGE}`);
  const ms = /^\d{4}-\d{2}-\d{2}(T|$)/.test(text) ? Date.parse(text) : Number.NaN;
  if (Number.isNaN(ms)) throw new UsageError(`${name} must be an ISO 8601 time, got ${JSON.stringify(text)}`);
  return new Date(ms).toISOString();
};

const readEvents = async (db: LocalDynamoDb, options: ReplayOptions) => {
  const vehicles = new DynamoDbVehicleStore(db.client, db.tableName);
  const events = new DynamoDbEventStore(db.client, db.tableName);
  const selected = options.vehicle === undefined ? await allVehicles(vehicles) : [await oneVehicle(vehicles, options)];
  const work: { vehicle: Vehicle; events: VehicleEvent[] }[] = [];
  for (const vehicle of selected) {
    work.push({ vehicle, events: await events.listEventsBetween(vehicle.id, options) });
  }
  return work;
};

const oneVehicle = async (vehicles: DynamoDbVehicleStore, options: ReplayOptions): Promise<Vehicle> => {
  const id = options.vehicle as string;
  const vehicle = await vehicles.getVehicle(id);
  if (vehicle === undefined) throw new UsageError(`no vehicle ${id} in ${options.dataDir}`);
  return vehicle;
};

const allVehicles = async (vehicles: DynamoDbVehicleStore): Promise<Vehicle[]> => {
  const all: Vehicle[] = [];
  for (;;) {
    const after = all.at(-1)?.id;
    const page = await vehicles.listVehicles({ limit: VEHICLE_PAGE, ...(after === undefined ? {} : { after }) });
    all.push(...page);
    if (page.length < VEHICLE_PAGE) return all;
  }
};
