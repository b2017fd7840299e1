import { createHmac, timingSafeEqual } from "node:crypto";
import { parsePayload } from "#core/ingest/errors.ts";
import type { NormalizedDelivery } from "#core/ingest/normalized-delivery.ts";
import type { VehicleEvent } from "#core/model/event.ts";
import { eventIdOf } from "#core/model/ids.ts";
import type { ChargeState, Dtc, Location, SignalSamples } from "#core/model/signals.ts";
import { type VehicleId, vehicleIdOf } from "#core/model/vehicle.ts";
import { milesToKm, round3, toIsoUtc, usGallonsToLitres } from "#core/units/convert.ts";
import { SmartcarVerifyNotNormalizableError } from "./errors.ts";
import {
  isMappedSignalCode,
  type MappedSignalCode,
  SIGNAL_BODIES,
  type SignalBody,
  SmartcarEnvelope,
  type SmartcarSignal,
  SmartcarVehicleError,
  SmartcarVehicleState,
  SmartcarVerify,
  signalFailed,
  type Timestamp,
} from "./webhook-schema.ts";

type Ignored = NormalizedDelivery["ignored"][number];

// ---------------------------------------------------------------------------------------------------------------
// Verification: the handler answers VERIFY and checks SC-Signature before anything reaches the normalizer.
// https://smartcar.com/docs/api-reference/webhooks/event-types (VERIFY, "Required Response")
// ---------------------------------------------------------------------------------------------------------------

/** A VERIFY delivery: `{ eventType: "VERIFY", data: { challenge } }` (payload version 4.0). */
export const isSmartcarVerifyChallenge = (
  payload: unknown,
): payload is { eventId: string; eventType: "VERIFY"; data: { challenge: string } } =>
  SmartcarVerify.safeParse(payload).success;

const hmacSha256 = (key: string, message: string): Buffer => createHmac("sha256", key).update(message).digest();

/**
 * The body Smartcar expects in answer to VERIFY: the hex HMAC-SHA256 of the challenge keyed by the Application
 * Management Token.
 *
 * @example answerSmartcarChallenge("abc", token) // { challenge: "9f1c…" } (64 lower-case hex characters)
 */
export const answerSmartcarChallenge = (challenge: string, managementToken: string): { challenge: string } => ({
  challenge: hmacSha256(managementToken, challenge).toString("hex"),
});

const HEX_SHA256 = /^[0-9a-fA-F]{64}$/;

/**
 * Checks the `SC-Signature` header: the hex HMAC-SHA256 of the raw request body keyed by the Application Management
 * Token. The digests are compared as bytes in constant time, so the hex case does not matter (both spell the same
 * MAC). A missing or malformed header, or an empty token, is `false`; this never throws.
 *
 * @example verifySmartcarSignature(rawBody, headers["sc-signature"], token) // true
 */
export const verifySmartcarSignature = (
  rawBody: string,
  signature: string | undefined,
  managementToken: string,
): boolean => {
  if (typeof signature !== "string" || !HEX_SHA256.test(signature)) return false;
  if (typeof rawBody !== "string" || typeof managementToken !== "string" || managementToken.length === 0) return false;
  const expected = hmacSha256(managementToken, rawBody);
  const given = Buffer.from(signature, "hex");
  return given.length === expected.length && timingSafeEqual(given, expected);
};

// ---------------------------------------------------------------------------------------------------------------
// Normalization
// ---------------------------------------------------------------------------------------------------------------

/** Epoch numbers below 1e11 are seconds (see `Timestamp` in webhook-schema.ts); everything else is ms or ISO. */
const isoOf = (time: Timestamp): string =>
  typeof time === "number" ? toIsoUtc(time < 1e11 ? time * 1000 : time) : toIsoUtc(time);

/**
 * Turns one Smartcar VEHICLE_STATE or VEHICLE_ERROR delivery into canonical events. VERIFY must be answered by the
 * handler first (it throws SmartcarVerifyNotNormalizableError here); other unknown event types are accepted and
 * reported in `ignored`. Schema violations throw PayloadInvalidError naming each field path.
 *
 * @example normalizeSmartcarWebhook(JSON.parse(body), new Date().toISOString()).events[0].type // "signals"
 */
export const normalizeSmartcarWebhook = (payload: unknown, receivedAt: string): NormalizedDelivery => {
  const envelope = parsePayload(SmartcarEnvelope, payload);
  // Smartcar retries a delivery with the same eventId: the id is the de-duplication key, not meta.deliveryId.
  const deliveryId = `smartcar:${envelope.eventId}`;
  switch (envelope.eventType) {
    case "VERIFY":
      // A VERIFY the handler could not answer (no challenge, or not a string) is the sender's mistake: 400, not 500.
      parsePayload(SmartcarVerify, payload);
      throw new SmartcarVerifyNotNormalizableError(envelope.eventId);
    case "VEHICLE_STATE":
      return { provider: "smartcar", deliveryId, ...vehicleStateEvents(payload, receivedAt) };
    case "VEHICLE_ERROR":
      return { provider: "smartcar", deliveryId, ...vehicleErrorEvents(payload, receivedAt) };
    default:
      return {
        provider: "smartcar",
        deliveryId,
        events: [],
        ignored: [{ type: `event:${envelope.eventType}`, reason: "unsupported Smartcar event type" }],
      };
  }
};

type Normalized = Pick<NormalizedDelivery, "events" | "ignored">;

type SmartcarVehicleAttributes = { make?: string | undefined; model?: string | undefined; year?: number | undefined };

const baseEvent = (
  eventId: string,
  vehicleId: VehicleId,
  vehicle: SmartcarVehicleAttributes,
  occurredAt: string,
  receivedAt: string,
): Omit<VehicleEvent, "id" | "type" | "data" | "signals"> => {
  // A name for a vehicle seen for the first time, from the attributes Smartcar includes in every delivery
  // ("2022 CHEVROLET Bolt EV"). Never the VIN: it stays out of anything that may be logged or shown.
  const displayName = [vehicle.year, vehicle.make, vehicle.model]
    .filter((part) => part !== undefined && part !== "")
    .join(" ");
  return {
    vehicleId,
    occurredAt,
    receivedAt,
    source: { provider: "smartcar", providerEventId: eventId },
    ...(vehicle.make || vehicle.model ? { vehicleHints: { displayName } } : {}),
  };
};

const vehicleStateEvents = (payload: unknown, receivedAt: string): Normalized => {
  const state = parsePayload(SmartcarVehicleState, payload);
  const vehicleId = vehicleIdOf("smartcar", state.data.vehicle.id);
  const deliveredAt = state.meta?.deliveredAt === undefined ? undefined : isoOf(state.meta.deliveredAt);
  const fallbackTime = deliveredAt ?? receivedAt;
  const { samples, ignored } = samplesOf(state.data.signals, fallbackTime);
  const base = (occurredAt: string) => baseEvent(state.eventId, vehicleId, state.data.vehicle, occurredAt, receivedAt);
  const idOf = (type: VehicleEvent["type"]) => eventIdOf("smartcar", [state.eventId, type]);
  const events: VehicleEvent[] = [];

  const times = Object.values(samples).map((sample) => sample.observedAt);
  if (times.length > 0) {
    // The event happened when its newest sample was observed; older samples keep their own times.
    const newest = times.reduce((latest, time) => (Date.parse(time) > Date.parse(latest) ? time : latest));
    events.push({ ...base(newest), id: idOf("signals"), type: "signals", data: {}, signals: samples });
  }

  // Transition events only for signals that a trigger says changed. FIRST_DELIVERY sends a baseline ("does not
  // indicate any signal value changes", vehicle-state page), so it never starts or stops a charge.
  const changed = changedSignalCodes(state);
  const chargeState = samples.charge_state;
  if (changed.has("charge-ischarging") && chargeState !== undefined) {
    const type = CHARGE_TRANSITION[chargeState.value];
    events.push({
      ...base(chargeState.observedAt),
      id: idOf(type),
      type,
      data: {},
      signals: { charge_state: chargeState },
    });
  }
  const dtcs = samples.dtcs;
  if (changed.has("diagnostics-dtclist") && dtcs !== undefined && samples.mil_on !== undefined) {
    // The DTC list changed: codes present means the lamp came on; an emptied list means the codes cleared.
    const type = dtcs.value.length > 0 ? "mil.on" : "mil.off";
    events.push({
      ...base(dtcs.observedAt),
      id: idOf(type),
      type,
      data: { dtcs: dtcs.value },
      signals: { dtcs, mil_on: samples.mil_on },
    });
  }
  return { events, ignored };
};

/** IsCharging turned true: started; turned false at or above the charge limit: completed; otherwise stopped. */
const CHARGE_TRANSITION = {
  charging: "charge.started",
  fully_charged: "charge.completed",
  not_charging: "charge.stopped",
} as const satisfies Record<ChargeState, VehicleEvent["type"]>;

const changedSignalCodes = (state: SmartcarVehicleState): Set<string> => {
  // Every example puts `triggers` at the top level; a `data.triggers` is read as well.
  const triggers = [...(state.triggers ?? []), ...(state.data.triggers ?? [])];
  const codes = new Set<string>();
  for (const trigger of triggers) {
    if (trigger.type === "FIRST_DELIVERY") continue;
    const code = trigger.signal?.code ?? trigger.code;
    if (code !== undefined) codes.add(code);
  }
  return codes;
};

/**
 * Reads every mapped signal into a canonical sample. Each sample is observed at the signal's `oemUpdatedAt` (when the
 * vehicle recorded it), else its `retrievedAt` (when Smartcar read it), else the delivery's `meta.deliveredAt`, else
 * our receipt time.
 */
const samplesOf = (signals: readonly SmartcarSignal[], fallbackTime: string) => {
  const samples: SignalSamples = {};
  const ignored: Ignored[] = [];
  const readable = new Map<MappedSignalCode, { body: unknown; observedAt: string }>();
  for (const signal of signals) {
    const type = `signal:${signal.code}`;
    if (!isMappedSignalCode(signal.code)) {
      ignored.push({ type, reason: "no canonical signal for this Smartcar signal" });
      continue;
    }
    if (signalFailed(signal.status)) {
      const error = signal.status?.error;
      const detail = [error?.type, error?.code].filter((part) => typeof part === "string").join(" ");
      ignored.push({ type, reason: `signal status ${signal.status?.value}${detail === "" ? "" : `: ${detail}`}` });
      continue;
    }
    if (signal.body === undefined) {
      ignored.push({ type, reason: "signal has no body" });
      continue;
    }
    const time = signal.meta?.oemUpdatedAt ?? signal.meta?.retrievedAt;
    readable.set(signal.code, { body: signal.body, observedAt: time === undefined ? fallbackTime : isoOf(time) });
  }
  // Bodies were validated by SmartcarSignal's refinement; parsing again only narrows the type.
  const read = <C extends MappedSignalCode>(code: C) => {
    const entry = readable.get(code);
    return entry && { body: SIGNAL_BODIES[code].parse(entry.body) as SignalBody<C>, observedAt: entry.observedAt };
  };
  const sample = <T>(value: T, observedAt: string): { value: T; observedAt: string } => ({ value, observedAt });
  const soc = read("tractionbattery-stateofcharge");
  const limits = read("charge-chargelimits");

  if (soc) samples.soc_pct = sample(round3(soc.body.value), soc.observedAt);
  const range = read("tractionbattery-range");
  if (range) samples.range_km = sample(kmOf(range.body), range.observedAt);
  const plugged = read("charge-ischargingcableconnected");
  if (plugged) samples.is_plugged_in = sample(plugged.body.value, plugged.observedAt);

  const limitPct = limits === undefined ? undefined : chargeLimitOf(limits.body);
  if (limits !== undefined) {
    if (limitPct === undefined)
      ignored.push({ type: "signal:charge-chargelimits", reason: "no active or global limit" });
    else samples.charge_limit_pct = sample(limitPct, limits.observedAt);
  }

  const charging = read("charge-ischarging");
  if (charging) {
    samples.charge_state = sample(
      chargeStateOf(charging.body.value, samples.soc_pct?.value, limitPct, samples.is_plugged_in?.value),
      charging.observedAt,
    );
  }

  const location = read("location-preciselocation");
  if (location) samples.location = sample(locationOf(location.body), location.observedAt);
  const odometer = read("odometer-traveleddistance");
  if (odometer) samples.odometer_km = sample(kmOf(odometer.body), odometer.observedAt);
  const fuel = read("internalcombustionengine-fuellevel");
  if (fuel) samples.fuel_pct = sample(round3(fuel.body.value), fuel.observedAt);
  const fuelAmount = read("internalcombustionengine-amountremaining");
  if (fuelAmount) samples.fuel_l = sample(litresOf(fuelAmount.body), fuelAmount.observedAt);
  const oil = read("internalcombustionengine-oillife");
  if (oil) samples.oil_life_pct = sample(round3(oil.body.value), oil.observedAt);

  const dtcList = read("diagnostics-dtclist");
  if (dtcList) {
    const dtcs = dtcList.body.values.map(dtcOf);
    samples.dtcs = sample(dtcs, dtcList.observedAt);
    // Smartcar reports no lamp state: any active code is read as the MIL being on.
    samples.mil_on = sample(dtcs.length > 0, dtcList.observedAt);
  }

  const locked = read("closure-islocked");
  if (locked) samples.is_locked = sample(locked.body.value, locked.observedAt);
  const doors = read("closure-doors");
  if (doors) {
    const states = doorsOf(doors.body);
    if (Object.keys(states).length === 0)
      ignored.push({ type: "signal:closure-doors", reason: "no door reports isOpen" });
    else samples.doors = sample(states, doors.observedAt);
  }
  return { samples, ignored };
};

const kmOf = (body: SignalBody<"odometer-traveleddistance">): number =>
  body.unit === "miles" ? milesToKm(body.value) : round3(body.value);

const litresOf = (body: SignalBody<"internalcombustionengine-amountremaining">): number =>
  body.unit === "gallons" ? usGallonsToLitres(body.value) : round3(body.value);

/** The limit in force: `activeLimit` when Smartcar knows it (plugged in), else the GLOBAL configuration. */
const chargeLimitOf = (body: SignalBody<"charge-chargelimits">): number | undefined => {
  if (typeof body.activeLimit === "number") return round3(body.activeLimit);
  const global = body.values?.find((entry) => entry.type.toUpperCase() === "GLOBAL");
  return typeof global?.limit === "number" ? round3(global.limit) : undefined;
};

/**
 * Smartcar's signals say whether the car is charging, not why it stopped. A car that is not charging while still
 * plugged in with its state of charge at or above the limit in force is read as fully charged (as the v2 REST API's
 * FULLY_CHARGED, which it reports "at less than 100% SoC if its Charge Limit is less than 1"); this needs both the
 * state of charge and a limit in the same delivery, else it is plain not_charging.
 */
const chargeStateOf = (
  isCharging: boolean,
  socPct: number | undefined,
  limitPct: number | undefined,
  pluggedIn: boolean | undefined,
): ChargeState => {
  if (isCharging) return "charging";
  if (pluggedIn !== false && socPct !== undefined && limitPct !== undefined && socPct >= limitPct) {
    return "fully_charged";
  }
  return "not_charging";
};

const locationOf = (body: SignalBody<"location-preciselocation">): Location => {
  const location: Location = { lat: body.latitude, lon: body.longitude };
  // The range of `heading` is not documented; fold any degree value into 0..360.
  if (body.heading !== undefined) location.heading = round3(((body.heading % 360) + 360) % 360);
  return location;
};

const dtcOf = (entry: SignalBody<"diagnostics-dtclist">["values"][number]): Dtc =>
  typeof entry.timestamp === "string"
    ? { code: entry.code, occurredAt: toIsoUtc(entry.timestamp) }
    : { code: entry.code };

/**
 * The doors page does not say which way rows and columns run. We read row 0 as the front row and column 0 as the
 * left side, as the order of its example suggests: `front_left`, `front_right`, `rear_left`, `rear_right`; any
 * further rows or columns are named by number (`row2_left`, `front_column2`).
 */
const doorName = (row: number, column: number): string => {
  const rowName = row === 0 ? "front" : row === 1 ? "rear" : `row${row}`;
  const columnName = column === 0 ? "left" : column === 1 ? "right" : `column${column}`;
  return `${rowName}_${columnName}`;
};

const doorsOf = (body: SignalBody<"closure-doors">): Record<string, "open" | "closed"> => {
  const doors: Record<string, "open" | "closed"> = {};
  for (const door of body.values) {
    if (door.isOpen !== undefined) doors[doorName(door.row, door.column)] = door.isOpen ? "open" : "closed";
  }
  return doors;
};

/**
 * One `vehicle.error` event for the errors still in the ERROR state, timed at the delivery. A delivery that only
 * reports resolutions (`state: "RESOLVED"`) has no canonical event type yet: it is reported as ignored.
 */
const vehicleErrorEvents = (payload: unknown, receivedAt: string): Normalized => {
  const delivery = parsePayload(SmartcarVehicleError, payload);
  const vehicleId = vehicleIdOf("smartcar", delivery.data.vehicle.id);
  const occurredAt = delivery.meta?.deliveredAt === undefined ? receivedAt : isoOf(delivery.meta.deliveredAt);
  const codeOf = (error: { type: string; code?: string | null | undefined }) =>
    typeof error.code === "string" && error.code !== "" ? `${error.type}:${error.code}` : error.type;
  const active = delivery.data.errors.filter((error) => error.state !== "RESOLVED");
  const resolved = delivery.data.errors.filter((error) => error.state === "RESOLVED");
  const ignored: Ignored[] = resolved.map((error) => ({
    type: `error:${codeOf(error)}`,
    reason: "error resolved; no canonical event for resolutions",
  }));
  const [first] = active;
  if (first === undefined) return { events: [], ignored };
  const message = active
    .map((error) => `${codeOf(error)}: ${error.description ?? error.suggestedUserMessage ?? "no description"}`)
    .join("; ");
  const event: VehicleEvent = {
    ...baseEvent(delivery.eventId, vehicleId, delivery.data.vehicle, occurredAt, receivedAt),
    id: eventIdOf("smartcar", [delivery.eventId, "vehicle.error"]),
    type: "vehicle.error",
    data: { code: codeOf(first), message },
    signals: {},
  };
  return { events: [event], ignored };
};
