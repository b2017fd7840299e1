import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createDocumentClient } from "#adapters/aws-clients.ts";
import { DynamoDbPollRegistry } from "#adapters/dynamodb/poll-registry.ts";
import type { SignalSamples } from "#core/model/signals.ts";
import type { LocalRuntime } from "#local/runtime.ts";
import { DIMO_SIM_ACCESS_TOKEN, type DimoSimulator, startDimoSimulator } from "#providers/dimo/simulator.ts";
import { cliTarget, getJson, queueDepth, startTestRuntime } from "#test/support/local-runtime.ts";
import { vehiclesCommand } from "../../cli/vehicles.ts";

let runtime: LocalRuntime;
let dimo: DimoSimulator;
const VEHICLE = "dimo:7";

beforeAll(async () => {
  dimo = await startDimoSimulator({ vehicles: [{ tokenId: "7" }] });
  // The poll worker reads its provider configuration at cold start, as in AWS.
  Object.assign(process.env, {
    DIMO_DEVICE_DATA_API_URL: dimo.url,
    DIMO_DEVICES_API_URL: dimo.url,
    DIMO_TOKEN_EXCHANGE_URL: dimo.url,
    DIMO_VEHICLE_NFT_CONTRACT: "0xbA5738a18d83D41847dfFbDC6101d37C69c9B0cF",
    DIMO_ACCESS_TOKEN_FLEET: DIMO_SIM_ACCESS_TOKEN,
  });
  runtime = await startTestRuntime();
});
afterAll(async () => {
  await runtime?.stop();
  await dimo?.stop();
});

const target = () => cliTarget(runtime);
const snapshotSignals = async () =>
  (
    (await getJson(`${runtime.url}/vehicles/${encodeURIComponent(VEHICLE)}`)).body.snapshot as {
      signals: SignalSamples;
    }
  )?.signals;

describe("polling a DIMO vehicle through the local runtime", () => {
  it("registers a vehicle with the CLI, polls it on schedule and stores what it reported", async () => {
    const out: string[] = [];
    const io = { out: { write: (text: string) => out.push(text) }, err: { write: (text: string) => out.push(text) } };
    const code = await vehiclesCommand(
      [
        "add",
        "dimo",
        "7",
        "--name",
        "Fleet van 7",
        "--credentials",
        "fleet",
        "--tags",
        "fleet,van",
        "--time-zone",
        "Europe/Berlin",
      ],
      target,
      io,
    );
    expect([code, out]).toStrictEqual([0, ["registered dimo:7 (Fleet van 7) in the test runtime; polling from now\n"]]);

    const observedAt = new Date(Date.now() - 5_000).toISOString();
    dimo.script({ kind: "set", tokenId: "7", status: { soc: 0.64, odometer: 12_345, timestamp: observedAt } });
    expect(await runtime.schedulePolls()).toStrictEqual({ jobs: 1 });
    await vi.waitFor(async () => expect((await snapshotSignals())?.soc_pct).toStrictEqual({ value: 64, observedAt }), {
      timeout: 10_000,
      interval: 200,
    });
    expect((await snapshotSignals())?.odometer_km).toStrictEqual({ value: 12_345, observedAt });
    // Leased: not handed out again before its lease or next poll time.
    expect(await runtime.schedulePolls()).toStrictEqual({ jobs: 0 });
  });

  it("marks the vehicle stale on a provider outage without failing the job, and backs off", async () => {
    const registry = new DynamoDbPollRegistry(createDocumentClient(runtime.endpoints), runtime.provisioned.tableName);
    const registered = await registry.get(VEHICLE);
    if (registered === undefined) throw new Error("dimo:7 is not registered");
    await registry.save({
      ...registered,
      state: { ...registered.state, nextPollAt: new Date().toISOString() },
      version: registered.version + 1,
    });
    dimo.script({ kind: "fail", status: 503, times: 10 });
    expect(await runtime.schedulePolls()).toStrictEqual({ jobs: 1 });
    await vi.waitFor(async () => expect((await registry.get(VEHICLE))?.staleSince).not.toBeNull(), {
      timeout: 15_000,
      interval: 200,
    });
    const stale = await registry.get(VEHICLE);
    expect(stale).toMatchObject({ needsReauth: false, state: { consecutiveFailures: 1 } });
    expect(stale?.lastError).toMatch(/^dimo: /);
    await vi.waitFor(async () => expect(await queueDepth(runtime, runtime.provisioned.pollJobsQueue.url)).toBe(0));
    const deadLetters = await getJson(`${runtime.url}/health`);
    expect(deadLetters.body.deadLetters).toStrictEqual({ events: 0, actions: 0, pollJobs: 0 });
    const events = (await getJson(`${runtime.url}/vehicles/${encodeURIComponent(VEHICLE)}/events`)).body.events as {
      type: string;
    }[];
    expect(events.filter((event) => event.type === "vehicle.error")).toHaveLength(1);
  });
  it("`vehicles add` stores tags trimmed and the time zone by its canonical name, and refuses bad ones naming the flag", async () => {
    const run = async (...flags: string[]) => {
      let out = "";
      const io = { out: { write: (text: string) => (out += text) }, err: { write: (text: string) => (out += text) } };
      const code = await vehiclesCommand(
        ["add", "dimo", "8", "--name", "Van 8", "--credentials", "fleet", "--no-poll", ...flags],
        target,
        io,
      );
      return [code, out];
    };
    expect(await run("--tags=-van")).toStrictEqual([
      2,
      '--tags: "-van" is not a tag: a tag is letters, digits and - _ . : / (starting with a letter or digit), at most 64 characters\n',
    ]);
    expect(await run("--time-zone", "+01:00")).toStrictEqual([
      2,
      '--time-zone: "+01:00" is a UTC offset, not a time zone: use an IANA name such as Europe/Berlin\n',
    ]);
    expect(await run("--time-zone", "Mars/Olympus")).toStrictEqual([
      2,
      '--time-zone: unknown IANA time zone "Mars/Olympus"\n',
    ]);
    expect((await getJson(`${runtime.url}/vehicles/dimo%3A8`)).status).toBe(404);
    expect(await run("--tags", " fleet , van ,", "--time-zone", "europe/berlin")).toStrictEqual([
      0,
      "registered dimo:8 (Van 8) in the test runtime\n",
    ]);
    expect(
      ((await getJson(`${runtime.url}/vehicles/dimo%3A8`)).body as { vehicle: Record<string, unknown> }).vehicle,
    ).toMatchObject({ tags: ["fleet", "van"], timeZone: "Europe/Berlin" });
  });
});
