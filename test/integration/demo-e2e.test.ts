import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createDocumentClient } from "#adapters/aws-clients.ts";
import { DynamoDbInviteStore } from "#adapters/dynamodb/invite-store.ts";
import { DynamoDbPollRegistry } from "#adapters/dynamodb/poll-registry.ts";
import type { SignalSamples } from "#core/model/signals.ts";
import type { Firing } from "#core/rules/state.ts";
import { connectSmartcar } from "#local/demo-fleet.ts";
import type { LocalRuntime } from "#local/runtime.ts";
import { type SmartcarSimulator, smartcarSimulatorEnv, startSmartcarSimulator } from "#providers/smartcar/simulator.ts";
import { getJson, queueDepth, startTestRuntime } from "#test/support/local-runtime.ts";

/**
 * End to end, over real sockets: a simulated Smartcar EV, connected through the runtime's Connect flow (from an
 * invite in the runtime's table), is polled by the scheduler and a poll worker; when its charge crosses under 20 %
 * unplugged, the poll's diff becomes an event, the low-charge example rule fires, and the dispatcher performs its SMS
 * action into the local outbox.
 */
const CLIENT = { id: "e2e-client", secret: "e2e-client-secret" };
const VEHICLE = "smartcar:ev-e2e";
/** The simulator's clock moves only when the test moves it, so every observed time is exact. */
let simNow = Math.floor(Date.now() / 1000) * 1000 - 120_000;

let runtime: LocalRuntime;
let sim: SmartcarSimulator;
let registry: DynamoDbPollRegistry;

beforeAll(async () => {
  sim = await startSmartcarSimulator({
    clientId: CLIENT.id,
    clientSecret: CLIENT.secret,
    now: () => simNow,
    vehicles: [
      {
        id: "ev-e2e",
        make: "NISSAN",
        model: "LEAF",
        year: 2021,
        location: { lat: 37.7793, lon: -122.4193 },
        soc: 0.23,
        pluggedIn: false,
        locked: true,
      },
    ],
  });
  // Handlers read their configuration at cold start: set it before the runtime imports them.
  Object.assign(process.env, {
    ...smartcarSimulatorEnv(sim.url, CLIENT, "http://127.0.0.1:1/connect/smartcar/callback"),
    DASHLIGHT_TOKEN_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString("base64"),
    DASHLIGHT_CONNECT_COOKIE_SECRET: "e2e-connect-cookie-secret",
  });
  runtime = await startTestRuntime();
  registry = new DynamoDbPollRegistry(createDocumentClient(runtime.endpoints), runtime.provisioned.tableName);
});
afterAll(async () => {
  await runtime?.stop();
  await sim?.stop();
});

const url = (path: string) => `${runtime.url}${path}`;
const signals = async () =>
  ((await getJson(url(`/vehicles/${encodeURIComponent(VEHICLE)}`))).body.snapshot as { signals: SignalSamples } | null)
    ?.signals;
const firings = async () =>
  ((await getJson(url(`/vehicles/${encodeURIComponent(VEHICLE)}/firings`))).body.firings ?? []) as Firing[];
type Outbox = { channel: string; actionId: string; vehicleId: string; to: string; text: string };
const outbox = async () =>
  ((await getJson(url("/outbox?limit=500"))).body.entries as Outbox[]).filter((entry) => entry.vehicleId === VEHICLE);
/** Due now, as the schedule would find it at its next poll time. */
const makeDue = async () => {
  const registration = await registry.get(VEHICLE);
  if (registration === undefined) throw new Error(`${VEHICLE} is not registered`);
  await registry.save({
    ...registration,
    state: { ...registration.state, nextPollAt: new Date().toISOString() },
    version: registration.version + 1,
  });
};
const settled = () =>
  vi.waitFor(
    async () => {
      expect(await queueDepth(runtime, runtime.provisioned.pollJobsQueue.url)).toBe(0);
      expect(await queueDepth(runtime, runtime.provisioned.eventsQueue.url)).toBe(0);
    },
    { timeout: 15_000, interval: 100 },
  );

describe("a simulated Smartcar EV crossing the low-charge threshold", () => {
  it("is polled, becomes an event, fires low-charge and puts its SMS in the outbox", async () => {
    const invites = new DynamoDbInviteStore(createDocumentClient(runtime.endpoints), runtime.provisioned.tableName);
    expect(await connectSmartcar(runtime.url, "America/Los_Angeles", invites, 1)).toStrictEqual([
      { id: VEHICLE, displayName: "2021 NISSAN LEAF" },
    ]);

    // First poll: 23 %, unplugged: above the threshold, nothing fires.
    const first = new Date(simNow).toISOString();
    expect(await runtime.schedulePolls()).toStrictEqual({ jobs: 1 });
    await vi.waitFor(async () => expect((await signals())?.soc_pct).toStrictEqual({ value: 23, observedAt: first }), {
      timeout: 15_000,
      interval: 100,
    });
    await settled();
    expect(await firings()).toStrictEqual([]);

    // A minute later the battery reads 18 %, still unplugged; the next poll sees it.
    simNow += 60_000;
    const crossed = new Date(simNow).toISOString();
    sim.vehicles.get("ev-e2e")?.set({ soc: 0.18 });
    await makeDue();
    expect(await runtime.schedulePolls()).toStrictEqual({ jobs: 1 });
    await vi.waitFor(async () => expect(await firings()).toHaveLength(1), { timeout: 15_000, interval: 100 });
    await settled();
    expect((await signals())?.soc_pct).toStrictEqual({ value: 18, observedAt: crossed });
    expect((await signals())?.is_plugged_in).toStrictEqual({ value: false, observedAt: crossed });

    const [firing] = await firings();
    const firingId = "low-charge/smartcar:ev-e2e/1/fire";
    expect([firing?.id, firing?.ruleId, firing?.kind, firing?.status, firing?.cause, firing?.at]).toStrictEqual([
      firingId,
      "low-charge",
      "fired",
      "actioned",
      "signal",
      crossed,
    ]);
    expect(firing?.actionIds).toStrictEqual([`${firingId}/0`]);
    const events = (await getJson(url(`/vehicles/${encodeURIComponent(VEHICLE)}/events`))).body.events as {
      id: string;
      type: string;
      occurredAt: string;
      signals: SignalSamples;
    }[];
    expect(events.find((event) => event.id === firing?.eventId)).toMatchObject({
      type: "signals",
      occurredAt: crossed,
      signals: { soc_pct: { value: 18, observedAt: crossed } },
    });

    // The dispatcher consumed the action from the actions queue and, with no SMS transport, wrote the outbox.
    await vi.waitFor(async () => expect(await outbox()).toHaveLength(1), { timeout: 15_000, interval: 100 });
    expect((await outbox()).map(({ channel, actionId, to, text }) => ({ channel, actionId, to, text }))).toStrictEqual([
      {
        channel: "sms",
        actionId: `${firingId}/0`,
        to: "+15555550100",
        text: "2021 NISSAN LEAF is at 18% and not plugged in.",
      },
    ]);
    await vi.waitFor(async () => expect(await queueDepth(runtime, runtime.provisioned.actionsQueue.url)).toBe(0));
    expect((await getJson(url("/health"))).body.deadLetters).toStrictEqual({ events: 0, actions: 0, pollJobs: 0 });
    // One code exchange at Connect, one /batch per poll.
    expect([sim.requestCount({ path: "/oauth/token" }), sim.requestCount({ path: "/batch" })]).toStrictEqual([1, 2]);
  });
});
