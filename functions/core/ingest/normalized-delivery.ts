import type { VehicleEvent } from "../model/event.ts";
import type { Provider } from "../model/vehicle.ts";

/** What one provider delivery (one webhook request) turned into. */
export type NormalizedDelivery = {
  provider: Provider;
  /** Stable across redeliveries of the same payload: the archive and de-duplication key. */
  deliveryId: string;
  events: VehicleEvent[];
  /** Provider event types Dashlight does not handle: accepted, archived, reported, not enqueued. */
  ignored: { type: string; reason: string }[];
};
