import type { VehicleEvent } from "../model/event.ts";
import type { Provider } from "../model/vehicle.ts";
import type { PayloadIssue } from "./errors.ts";

/** Why a raw delivery is in the archive. */
export type ArchiveStatus = "accepted" | "rejected" | "failed";

/** One raw provider delivery as received, kept (with a TTL) so it can be replayed. */
export type ArchivedDelivery = {
  deliveryId: string;
  provider: Provider;
  receivedAt: string;
  rawBody: string;
  status: ArchiveStatus;
  eventIds: string[];
  ignoredTypes: string[];
  issues?: PayloadIssue[];
  error?: string;
};

export interface DeliveryArchive {
  /**
   * Stores the delivery unless one with the same id is already there.
   * Returns "duplicate" when it was (a provider redelivery).
   */
  archive(delivery: ArchivedDelivery): Promise<"stored" | "duplicate">;
}

export interface EventQueue {
  /** Enqueues events in order per vehicle, de-duplicated by event id. */
  enqueue(events: readonly VehicleEvent[]): Promise<void>;
}
