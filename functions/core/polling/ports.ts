import type { Provider, VehicleId } from "../model/vehicle.ts";
import type { PollState } from "./poll-policy.ts";

/** A vehicle Dashlight polls, with where to reach it and its polling bookkeeping. */
export type PollRegistration = {
  vehicleId: VehicleId;
  provider: Provider;
  providerVehicleId: string;
  credentialsRef: string;
  state: PollState;
  /** Set when the provider last failed: the vehicle's data is stale until a poll succeeds. */
  staleSince: string | null;
  lastError: string | null;
  /** Set when the provider rejected the credentials: no polling until the owner re-authorizes. */
  needsReauth: boolean;
  /** Optimistic-concurrency version of the stored item. */
  version: number;
};

export interface PollRegistry {
  get(vehicleId: VehicleId): Promise<PollRegistration | undefined>;
  /** Stores the registration if the stored version is `version - 1` (absent for 1); false when another writer won. */
  save(registration: PollRegistration): Promise<boolean>;
  /** Registrations whose next poll is due at `now`, at most `limit`. */
  due(now: Date, limit: number): Promise<PollRegistration[]>;
  remove(vehicleId: VehicleId): Promise<void>;
  list(): Promise<PollRegistration[]>;
}

export interface PollJobQueue {
  enqueue(vehicleIds: readonly VehicleId[]): Promise<void>;
}
