import type { PollJobQueue, PollRegistry } from "./ports.ts";

/** How long a handed-out poll job keeps its vehicle from being handed out again. */
export const POLL_LEASE_MS = 5 * 60_000;

/**
 * The every-minute scheduler: hands each due vehicle to the poll workers as a
 * job (fan-out through a queue), after moving its next poll time a lease ahead
 * so a slow or lost job is neither duplicated next minute nor forgotten.
 */
export const schedulePolls = async (
  ports: { registry: PollRegistry; jobs: PollJobQueue },
  now: Date,
  limit = 1_000,
): Promise<string[]> => {
  const due = await ports.registry.due(now, limit);
  const leased: string[] = [];
  for (const registration of due) {
    const lease = new Date(now.getTime() + POLL_LEASE_MS).toISOString();
    const saved = await ports.registry.save({
      ...registration,
      state: { ...registration.state, nextPollAt: lease },
      version: registration.version + 1,
    });
    if (saved) leased.push(registration.vehicleId);
  }
  await ports.jobs.enqueue(leased);
  return leased;
};
