import type { EventQueue } from "../ingest/ports.ts";
import type { VehicleEvent } from "../model/event.ts";
import { eventIdOf } from "../model/ids.ts";
import type { VehicleSnapshot } from "../model/snapshot.ts";
import type { Provider } from "../model/vehicle.ts";
import { ProviderAuthError, ProviderError, ProviderRateLimitError } from "../providers/errors.ts";
import type { VehicleDataClient } from "../providers/ports.ts";
import { diffPoll } from "./diff-poll.ts";
import { isActive, nextPollState, type ProviderPollSettings } from "./poll-policy.ts";
import type { PollRegistry } from "./ports.ts";

export type PollPorts = {
  registry: PollRegistry;
  snapshots: { loadVehicleState(vehicleId: string): Promise<{ snapshot: VehicleSnapshot }> };
  clients: Partial<Record<Provider, VehicleDataClient>>;
  events: EventQueue;
};

export type PollOutcome =
  | { vehicleId: string; result: "polled"; events: number }
  | { vehicleId: string; result: "skipped"; reason: string }
  | { vehicleId: string; result: "failed"; error: string };

/**
 * One poll job: polls the vehicle, turns what changed into canonical events on
 * the events queue (like webhook events), and schedules the next poll. A provider
 * failure never escapes: the vehicle is marked stale (one `vehicle.error` event
 * when it becomes stale) and polled again after a backoff; rejected credentials
 * stop its polling until the owner re-authorizes.
 */
export const pollVehicle = async (
  vehicleId: string,
  ports: PollPorts,
  settingsOf: (provider: Provider) => ProviderPollSettings,
  now: Date,
): Promise<PollOutcome> => {
  const registration = await ports.registry.get(vehicleId);
  if (registration === undefined) return { vehicleId, result: "skipped", reason: "not registered for polling" };
  if (registration.needsReauth) return { vehicleId, result: "skipped", reason: "needs re-authorization" };
  const client = ports.clients[registration.provider];
  if (client === undefined) {
    return { vehicleId, result: "skipped", reason: `no ${registration.provider} client is configured` };
  }
  const settings = settingsOf(registration.provider);
  const { snapshot } = await ports.snapshots.loadVehicleState(vehicleId);
  const ref = {
    vehicleId,
    provider: registration.provider,
    providerVehicleId: registration.providerVehicleId,
    credentialsRef: registration.credentialsRef,
  };
  try {
    const sample = await client.poll(ref, now);
    const events = diffPoll(snapshot, sample, registration.provider, now);
    await ports.events.enqueue(events);
    const after = {
      ...snapshot,
      signals: Object.assign({}, snapshot.signals, ...events.map((event) => event.signals)),
    };
    await ports.registry.save({
      ...registration,
      state: nextPollState(
        registration.state,
        settings,
        { ok: true, requestsUsed: sample.requestsUsed, active: isActive(after) },
        now,
      ),
      staleSince: null,
      lastError: null,
      version: registration.version + 1,
    });
    return { vehicleId, result: "polled", events: events.length };
  } catch (error) {
    if (!(error instanceof ProviderError)) throw error;
    const becameStale = registration.staleSince === null;
    if (becameStale) await ports.events.enqueue([staleEvent(vehicleId, registration.provider, error, now)]);
    const saved = await ports.registry.save({
      ...registration,
      state: nextPollState(
        registration.state,
        settings,
        {
          ok: false,
          requestsUsed: 1,
          ...(error instanceof ProviderRateLimitError && error.retryAfterMs !== undefined
            ? { retryAfterMs: error.retryAfterMs }
            : {}),
        },
        now,
      ),
      staleSince: registration.staleSince ?? now.toISOString(),
      lastError: error.message,
      needsReauth: error instanceof ProviderAuthError,
      version: registration.version + 1,
    });
    // A lost race: another job recorded its own outcome for this vehicle; this failure is still reported.
    return saved
      ? { vehicleId, result: "failed", error: error.message }
      : { vehicleId, result: "failed", error: `${error.message} (not recorded: another poll was recorded first)` };
  }
};

const staleEvent = (vehicleId: string, provider: Provider, error: ProviderError, now: Date): VehicleEvent => {
  const at = now.toISOString();
  return {
    id: eventIdOf(provider, [vehicleId, "poll", "vehicle.error", at]),
    vehicleId,
    type: "vehicle.error",
    occurredAt: at,
    receivedAt: at,
    source: { provider },
    data: { code: error.name, message: error.message },
    signals: {},
  };
};
