import { describe, expect, it } from "vitest";
import type { EventQueue } from "#core/ingest/ports.ts";
import type { VehicleEvent } from "#core/model/event.ts";
import { emptySnapshot } from "#core/model/snapshot.ts";
import { pollVehicle } from "#core/polling/poll-vehicle.ts";
import type { PollRegistration, PollRegistry } from "#core/polling/ports.ts";
import { ProviderAuthError, ProviderUnavailableError } from "#core/providers/errors.ts";
import type { PollSample, VehicleDataClient } from "#core/providers/ports.ts";

const NOW = new Date("2026-11-22T12:00:00.000Z");
const SETTINGS = { activeIntervalMs: 60_000, parkedIntervalMs: 600_000, dailyRequestBudget: 100 };

const registration = (overrides: Partial<PollRegistration> = {}): PollRegistration => ({
  vehicleId: "dimo:42",
  provider: "dimo",
  providerVehicleId: "42",
  credentialsRef: "dimo-default",
  state: { budgetDay: "2026-11-22", requestsToday: 0, consecutiveFailures: 0, nextPollAt: NOW.toISOString() },
  staleSince: null,
  lastError: null,
  needsReauth: false,
  version: 1,
  ...overrides,
});

/** In-memory test doubles of the ports; the DynamoDB and SQS adapters are tested against the local engines. */
const harness = (stored: PollRegistration, poll: () => Promise<PollSample>) => {
  let current = stored;
  const events: VehicleEvent[] = [];
  const registry: PollRegistry = {
    get: async () => current,
    save: async (next) => {
      if (next.version !== current.version + 1) return false;
      current = next;
      return true;
    },
    due: async () => [],
    remove: async () => undefined,
    list: async () => [current],
  };
  const client: VehicleDataClient = { provider: "dimo", poll };
  const queue: EventQueue = { enqueue: async (batch) => void events.push(...batch) };
  const ports = {
    registry,
    snapshots: { loadVehicleState: async () => ({ snapshot: emptySnapshot("dimo:42") }) },
    clients: { dimo: client },
    events: queue,
  };
  return { ports, events, current: () => current };
};

describe("pollVehicle", () => {
  it("enqueues what changed and schedules the next poll at the parked interval", async () => {
    const at = "2026-11-22T11:59:50.000Z";
    const run = harness(registration(), async () => ({
      signals: { soc_pct: { value: 64, observedAt: at } },
      requestsUsed: 2,
    }));
    expect(await pollVehicle("dimo:42", run.ports, () => SETTINGS, NOW)).toStrictEqual({
      vehicleId: "dimo:42",
      result: "polled",
      events: 1,
    });
    expect(run.events.map((event) => [event.type, event.signals])).toStrictEqual([
      ["signals", { soc_pct: { value: 64, observedAt: at } }],
    ]);
    expect(run.current().state).toStrictEqual({
      budgetDay: "2026-11-22",
      requestsToday: 2,
      consecutiveFailures: 0,
      nextPollAt: "2026-11-22T12:10:00.000Z",
    });
  });

  it("marks the vehicle stale once on an outage, emits one vehicle.error, and backs off", async () => {
    const run = harness(registration(), async () => {
      throw new ProviderUnavailableError("dimo", "503 after 3 attempts");
    });
    expect(await pollVehicle("dimo:42", run.ports, () => SETTINGS, NOW)).toStrictEqual({
      vehicleId: "dimo:42",
      result: "failed",
      error: "dimo: 503 after 3 attempts",
    });
    await pollVehicle("dimo:42", run.ports, () => SETTINGS, new Date("2026-11-22T12:01:00.000Z"));
    expect(run.events.map((event) => [event.type, event.data])).toStrictEqual([
      ["vehicle.error", { code: "ProviderUnavailableError", message: "dimo: 503 after 3 attempts" }],
    ]);
    expect(run.current()).toMatchObject({
      staleSince: "2026-11-22T12:00:00.000Z",
      needsReauth: false,
      state: { consecutiveFailures: 2, nextPollAt: "2026-11-22T12:03:00.000Z" },
    });
  });

  it("stops polling a vehicle whose credentials were rejected", async () => {
    let calls = 0;
    const run = harness(registration(), async () => {
      calls++;
      throw new ProviderAuthError("dimo", "401 privilege token expired");
    });
    await pollVehicle("dimo:42", run.ports, () => SETTINGS, NOW);
    expect(await pollVehicle("dimo:42", run.ports, () => SETTINGS, NOW)).toStrictEqual({
      vehicleId: "dimo:42",
      result: "skipped",
      reason: "needs re-authorization",
    });
    expect(calls).toBe(1);
    expect(run.current().needsReauth).toBe(true);
  });

  it("lets a programming error escape instead of hiding it as an outage", async () => {
    const run = harness(registration(), async () => {
      throw new TypeError("cannot read properties of undefined");
    });
    await expect(pollVehicle("dimo:42", run.ports, () => SETTINGS, NOW)).rejects.toThrow(TypeError);
  });
});
