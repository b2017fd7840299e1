import { describe, expect, it } from "vitest";
import { emptySnapshot } from "#core/model/snapshot.ts";
import { isActive, nextPollState, type PollState } from "#core/polling/poll-policy.ts";

const NOW = new Date("2026-11-22T12:00:00.000Z");
const SETTINGS = { activeIntervalMs: 60_000, parkedIntervalMs: 600_000, dailyRequestBudget: 10 };
const STATE: PollState = {
  budgetDay: "2026-11-22",
  requestsToday: 3,
  consecutiveFailures: 0,
  nextPollAt: NOW.toISOString(),
};

describe("nextPollState", () => {
  it("polls a parked car at the parked interval and an active one at the active interval", () => {
    expect(nextPollState(STATE, SETTINGS, { ok: true, requestsUsed: 1, active: false }, NOW)).toStrictEqual({
      budgetDay: "2026-11-22",
      requestsToday: 4,
      consecutiveFailures: 0,
      nextPollAt: "2026-11-22T12:10:00.000Z",
    });
    expect(nextPollState(STATE, SETTINGS, { ok: true, requestsUsed: 2, active: true }, NOW).nextPollAt).toBe(
      "2026-11-22T12:01:00.000Z",
    );
  });

  it("waits for the next UTC day once the daily budget is spent", () => {
    const spent = nextPollState(
      { ...STATE, requestsToday: 9 },
      SETTINGS,
      { ok: true, requestsUsed: 1, active: true },
      NOW,
    );
    expect(spent).toStrictEqual({
      budgetDay: "2026-11-22",
      requestsToday: 10,
      consecutiveFailures: 0,
      nextPollAt: "2026-11-23T00:00:00.000Z",
    });
  });

  it("starts a new budget on a new day", () => {
    const yesterday = { ...STATE, budgetDay: "2026-11-21", requestsToday: 10 };
    expect(nextPollState(yesterday, SETTINGS, { ok: true, requestsUsed: 1, active: false }, NOW).requestsToday).toBe(1);
  });

  it("backs off exponentially after failures and honours Retry-After when longer", () => {
    const once = nextPollState(STATE, SETTINGS, { ok: false, requestsUsed: 1 }, NOW);
    expect([once.consecutiveFailures, once.nextPollAt]).toStrictEqual([1, "2026-11-22T12:01:00.000Z"]);
    const thrice = nextPollState({ ...STATE, consecutiveFailures: 2 }, SETTINGS, { ok: false, requestsUsed: 1 }, NOW);
    expect([thrice.consecutiveFailures, thrice.nextPollAt]).toStrictEqual([3, "2026-11-22T12:04:00.000Z"]);
    const limited = nextPollState(STATE, SETTINGS, { ok: false, requestsUsed: 1, retryAfterMs: 900_000 }, NOW);
    expect(limited.nextPollAt).toBe("2026-11-22T12:15:00.000Z");
  });
});

describe("isActive", () => {
  it("is true while charging, with the ignition on, or moving, and false when parked", () => {
    const at = NOW.toISOString();
    const snapshot = emptySnapshot("dimo:1");
    expect(isActive(snapshot)).toBe(false);
    expect(isActive({ ...snapshot, signals: { charge_state: { value: "charging", observedAt: at } } })).toBe(true);
    expect(isActive({ ...snapshot, signals: { ignition_on: { value: true, observedAt: at } } })).toBe(true);
    expect(isActive({ ...snapshot, signals: { speed_kph: { value: 30, observedAt: at } } })).toBe(true);
    expect(isActive({ ...snapshot, signals: { speed_kph: { value: 0, observedAt: at } } })).toBe(false);
  });
});
