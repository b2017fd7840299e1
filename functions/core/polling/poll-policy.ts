import type { VehicleSnapshot } from "../model/snapshot.ts";
import type { Provider } from "../model/vehicle.ts";

/** How often each provider is polled, and how many calls a vehicle may spend per day. */
export type ProviderPollSettings = {
  /** Between polls while something is happening (charging, moving, ignition on). */
  activeIntervalMs: number;
  /** Between polls while the car is parked and idle. */
  parkedIntervalMs: number;
  /** Provider requests one vehicle may use per UTC day before polling waits for the next day. */
  dailyRequestBudget: number;
};

const MINUTE = 60_000;

/**
 * Defaults per provider. Smartcar bills and rate-limits per call, and one poll is a
 * /batch of 9 endpoints that each count: polled sparingly, so a car parked all day
 * stays within its budget (12 polls × 9 = 108 calls) and its webhooks carry the
 * real-time part. DIMO and OVMS are cheap; Automatic REST is only a backfill.
 */
export const DEFAULT_POLL_SETTINGS: Record<Provider, ProviderPollSettings> = {
  smartcar: { activeIntervalMs: 15 * MINUTE, parkedIntervalMs: 120 * MINUTE, dailyRequestBudget: 200 },
  dimo: { activeIntervalMs: MINUTE, parkedIntervalMs: 10 * MINUTE, dailyRequestBudget: 2_000 },
  ovms: { activeIntervalMs: MINUTE, parkedIntervalMs: 10 * MINUTE, dailyRequestBudget: 2_000 },
  automatic: { activeIntervalMs: 60 * MINUTE, parkedIntervalMs: 60 * MINUTE, dailyRequestBudget: 100 },
};

/** Polling bookkeeping of one vehicle. */
export type PollState = {
  /** UTC day (YYYY-MM-DD) the request count belongs to. */
  budgetDay: string;
  requestsToday: number;
  consecutiveFailures: number;
  nextPollAt: string;
};

/** True when the snapshot shows the car doing something worth watching closely. */
export const isActive = (snapshot: VehicleSnapshot): boolean =>
  snapshot.signals.charge_state?.value === "charging" ||
  snapshot.signals.ignition_on?.value === true ||
  (snapshot.signals.speed_kph?.value ?? 0) > 0;

const MAX_BACKOFF_MS = 60 * MINUTE;

/**
 * The state after a poll: requests counted against the day's budget, and the
 * next poll time (active or parked interval; the next day once the budget is
 * spent; exponential backoff, or the provider's Retry-After, after a failure).
 *
 * @example nextPollState(state, settings, { ok: true, requestsUsed: 1, active: false }, now).nextPollAt
 */
export const nextPollState = (
  state: PollState,
  settings: ProviderPollSettings,
  outcome:
    | { ok: true; requestsUsed: number; active: boolean }
    | { ok: false; requestsUsed: number; retryAfterMs?: number },
  now: Date,
): PollState => {
  const today = now.toISOString().slice(0, 10);
  const requestsToday = (state.budgetDay === today ? state.requestsToday : 0) + outcome.requestsUsed;
  const consecutiveFailures = outcome.ok ? 0 : state.consecutiveFailures + 1;
  let delayMs: number;
  if (outcome.ok) {
    delayMs = outcome.active ? settings.activeIntervalMs : settings.parkedIntervalMs;
  } else {
    const backoff = Math.min(settings.activeIntervalMs * 2 ** (consecutiveFailures - 1), MAX_BACKOFF_MS);
    delayMs = Math.max(backoff, outcome.retryAfterMs ?? 0);
  }
  let next = now.getTime() + delayMs;
  if (requestsToday >= settings.dailyRequestBudget) {
    next = Math.max(next, Date.parse(`${today}T00:00:00.000Z`) + 24 * 60 * MINUTE);
  }
  return { budgetDay: today, requestsToday, consecutiveFailures, nextPollAt: new Date(next).toISOString() };
};
