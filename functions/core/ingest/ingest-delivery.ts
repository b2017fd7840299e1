import { createHash } from "node:crypto";
import { VehicleEvent } from "../model/event.ts";
import { knownTimeZone, type Provider } from "../model/vehicle.ts";
import { formatIssuePath, IngestError, PayloadInvalidError, type PayloadIssue } from "./errors.ts";
import type { NormalizedDelivery } from "./normalized-delivery.ts";
import type { ArchivedDelivery, DeliveryArchive, EventQueue } from "./ports.ts";

export type Normalizer = (payload: unknown, receivedAt: string) => NormalizedDelivery;

export type IngestResult = {
  deliveryId: string;
  /** Ids of the canonical events accepted (also when the delivery is a repeat). */
  accepted: string[];
  /** True when this delivery had been received before; its events are not stored twice. */
  duplicate: boolean;
  ignored: { type: string; reason: string }[];
};

/** The normalizer failed on a payload that passed its schema: a bug, kept in the archive for replay. */
export class NormalizerFailedError extends IngestError {
  override name = "NormalizerFailedError";
}

/**
 * Accepts one authenticated provider delivery: parses, normalizes, archives the
 * raw body (whatever the outcome, so nothing accepted is lost and a normalizer
 * bug can be replayed), and enqueues the canonical events.
 *
 * A repeat delivery is archived once; its events are enqueued again because the
 * first attempt may have crashed before enqueueing. The queue's de-duplication
 * id (the event id) and the consumer's conditional writes keep them single.
 */
export const ingestDelivery = async (
  input: { provider: Provider; rawBody: string; receivedAt: string; normalize: Normalizer },
  ports: { archive: DeliveryArchive; queue: EventQueue },
): Promise<IngestResult> => {
  const { provider, rawBody, receivedAt } = input;
  const fallbackId = `${provider}:raw:${createHash("sha256").update(rawBody).digest("hex").slice(0, 32)}`;
  const rejected = (status: "rejected" | "failed", extra: Partial<ArchivedDelivery>): ArchivedDelivery => ({
    deliveryId: fallbackId,
    provider,
    receivedAt,
    rawBody,
    status,
    eventIds: [],
    ignoredTypes: [],
    ...extra,
  });

  let delivery: NormalizedDelivery;
  try {
    delivery = canonicalOnly(input.normalize(parseJson(rawBody), receivedAt));
  } catch (error) {
    if (error instanceof PayloadInvalidError) {
      const issues = boundedIssues(error.issues);
      await ports.archive.archive(rejected("rejected", { issues }));
      throw issues.length === error.issues.length ? error : new PayloadInvalidError(issues, { cause: error });
    }
    await ports.archive.archive(rejected("failed", { error: String(error) }));
    throw new NormalizerFailedError(`the ${provider} normalizer failed`, { cause: error });
  }

  const outcome = await ports.archive.archive({
    deliveryId: delivery.deliveryId,
    provider,
    receivedAt,
    rawBody,
    status: "accepted",
    eventIds: delivery.events.map((event) => event.id),
    ignoredTypes: delivery.ignored.map((ignored) => ignored.type),
  });
  if (delivery.events.length > 0) await ports.queue.enqueue(delivery.events);
  return {
    deliveryId: delivery.deliveryId,
    accepted: delivery.events.map((event) => event.id),
    duplicate: outcome === "duplicate",
    ignored: delivery.ignored,
  };
};

/**
 * How many bytes of issues a refusal keeps. A 256 KB body can yield thousands of issues with deep paths; the archive
 * item (body and issues) must stay under DynamoDB's 400 KB item limit, and the caller needs the first ones only.
 */
const ISSUE_BYTES = 32 * 1024;
const utf8 = new TextEncoder();

/** The first issues that fit ISSUE_BYTES, then one saying how many were left out. */
export const boundedIssues = (issues: readonly PayloadIssue[]): PayloadIssue[] => {
  const kept: PayloadIssue[] = [];
  let bytes = 0;
  for (const issue of issues) {
    bytes += utf8.encode(issue.path).length + utf8.encode(issue.message).length;
    if (bytes > ISSUE_BYTES) break;
    kept.push(issue);
  }
  const left = issues.length - kept.length;
  return left === 0 ? kept : [...kept, { path: "$", message: `and ${left} more issues` }];
};

/** How much of a refused provider value an `ignored` reason quotes. */
const QUOTED_LENGTH = 64;

/**
 * Holds the normalizer's events to the canonical model before anything is accepted, so nothing answered 202 is
 * refused later by the queue or the consumer (where it would be retried and dead-lettered): an event the model
 * refuses (a vehicle id over 128 characters or outside printable ASCII, which SQS also refuses as a message group)
 * refuses the delivery with 400. A time zone hint the runtime does not know is dropped and listed under `ignored`:
 * the rest of the delivery is good, and a vehicle registered with an unknown zone would fail every rule evaluation.
 */
const canonicalOnly = (delivery: NormalizedDelivery): NormalizedDelivery => {
  const ignored = [...delivery.ignored];
  const events = delivery.events.map((event, index) => {
    const checked = withKnownTimeZone(event, ignored);
    const result = VehicleEvent.safeParse(checked);
    if (!result.success) {
      throw new PayloadInvalidError(
        result.error.issues.map((issue) => ({
          path: `events[${index}].${formatIssuePath(issue.path)}`,
          message:
            issue.path[0] === "vehicleId"
              ? `the provider's vehicle id makes ${JSON.stringify(event.vehicleId.slice(0, QUOTED_LENGTH))}, which ${issue.message}`
              : issue.message,
        })),
        { cause: result.error },
      );
    }
    return checked;
  });
  return { ...delivery, events, ignored };
};

const withKnownTimeZone = (event: VehicleEvent, ignored: NormalizedDelivery["ignored"]): VehicleEvent => {
  const zone = event.vehicleHints?.timeZone;
  if (zone === undefined) return event;
  const known = knownTimeZone(zone);
  if (known !== undefined) return { ...event, vehicleHints: { ...event.vehicleHints, timeZone: known } };
  ignored.push({
    type: "time_zone",
    reason: `${JSON.stringify(zone.slice(0, QUOTED_LENGTH))} is not an IANA time zone; the vehicle keeps its registered zone (UTC when first seen)`,
  });
  const { timeZone: _, ...hints } = event.vehicleHints ?? {};
  const { vehicleHints: __, ...rest } = event;
  return (Object.keys(hints).length === 0 ? rest : { ...rest, vehicleHints: hints }) as VehicleEvent;
};

const parseJson = (rawBody: string): unknown => {
  try {
    return JSON.parse(rawBody);
  } catch (error) {
    // Only the position: the parser's own message quotes the body, which may hold a location or a VIN.
    const position = /position (\d+)/.exec((error as Error).message)?.[1];
    throw new PayloadInvalidError([
      { path: "$", message: position === undefined ? "malformed JSON" : `malformed JSON at position ${position}` },
    ]);
  }
};
