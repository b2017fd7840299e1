import type { ChargeState, Dtc, SignalSamples } from "#core/model/signals.ts";
import { fractionToPct, milesToKm, round3, toIsoUtc, usGallonsToLitres } from "#core/units/convert.ts";
import {
  DATA_AGE_HEADER,
  DATA_PATHS,
  type DataBody,
  type DataPath,
  isDataPath,
  UNIT_SYSTEM_HEADER,
} from "./rest-schema.ts";

/** One data endpoint's answer: a plain GET, or one item of a /batch response. Header names are lower case. */
export type SmartcarDataResponse = {
  path: string;
  /** HTTP status of this item (always 200 for a plain GET that reached the normalizer). */
  code: number;
  headers?: Readonly<Record<string, string>> | undefined;
  body: unknown;
};

/** A response the normalizer could not use, and why (a failed batch item, an unknown path, a body off schema). */
export type SkippedResponse = { path: string; reason: string };

export type NormalizedSmartcarPoll = {
  signals: SignalSamples;
  /** Present when /diagnostics/dtcs answered: the active codes (empty when none). */
  dtcs?: Dtc[];
  skipped: SkippedResponse[];
};

const CHARGE_STATES = {
  CHARGING: "charging",
  FULLY_CHARGED: "fully_charged",
  NOT_CHARGING: "not_charging",
} as const satisfies Record<DataBody<"/charge">["state"], ChargeState>;

/**
 * Turns Smartcar data responses into canonical samples, converting units: fractions (0..1) to percent, and
 * distances and volumes to km and litres when an item says `sc-unit-system: imperial` (the client asks for metric,
 * the seed documents metric; imperial is converted rather than trusted to never happen).
 *
 * Observation time: the seed documents no age field, but Smartcar's v2.0 reference documents the `sc-data-age`
 * header ("when the returned data was recorded by the vehicle"), on plain responses and on each batch item. Each
 * sample is observed at its own item's `sc-data-age` when present and valid, else at `polledAt` (our poll time).
 * DTCs carry their own `timestamp` when Smartcar gives one.
 *
 * Pure: the same responses and poll time give the same output. Failed items (code ≠ 200), unknown paths and bodies
 * off schema are reported in `skipped` and never throw, so one unreadable endpoint does not lose the rest.
 *
 * @example normalizeSmartcarResponses([{ path: "/battery", code: 200, body: { percentRemaining: 0.5, range: 200 } }],
 *   "2026-01-01T00:00:00.000Z").signals.soc_pct // { value: 50, observedAt: "2026-01-01T00:00:00.000Z" }
 */
export const normalizeSmartcarResponses = (
  responses: readonly SmartcarDataResponse[],
  polledAt: string,
): NormalizedSmartcarPoll => {
  const signals: SignalSamples = {};
  const skipped: SkippedResponse[] = [];
  let dtcs: Dtc[] | undefined;
  // Battery range wins over fuel range: a plug-in hybrid's `range_km` is read as its electric range.
  let fuelRange: { value: number; observedAt: string } | undefined;

  for (const response of responses) {
    const { path } = response;
    if (response.code !== 200) {
      skipped.push({ path, reason: `status ${response.code}${errorCodeOf(response.body)}` });
      continue;
    }
    if (!isDataPath(path)) {
      skipped.push({ path, reason: "not a Smartcar data path Dashlight reads" });
      continue;
    }
    const parsed = DATA_PATHS[path].safeParse(response.body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      skipped.push({ path, reason: `body off schema at ${issue?.path.join(".") || "(root)"}: ${issue?.message}` });
      continue;
    }
    const observedAt = dataAgeOf(response.headers) ?? polledAt;
    const imperial = response.headers?.[UNIT_SYSTEM_HEADER]?.toLowerCase() === "imperial";
    const km = (distance: number) => (imperial ? milesToKm(distance) : round3(distance));
    const at = <T>(value: T) => ({ value, observedAt });

    switch (path as DataPath) {
      case "/battery": {
        const body = parsed.data as DataBody<"/battery">;
        signals.soc_pct = at(fractionToPct(body.percentRemaining));
        signals.range_km = at(km(body.range));
        break;
      }
      case "/charge": {
        const body = parsed.data as DataBody<"/charge">;
        signals.is_plugged_in = at(body.isPluggedIn);
        signals.charge_state = at(CHARGE_STATES[body.state]);
        break;
      }
      case "/charge/limit":
        signals.charge_limit_pct = at(fractionToPct((parsed.data as DataBody<"/charge/limit">).limit));
        break;
      case "/security":
        signals.is_locked = at((parsed.data as DataBody<"/security">).isLocked);
        break;
      case "/location": {
        const body = parsed.data as DataBody<"/location">;
        signals.location = at({ lat: body.latitude, lon: body.longitude });
        break;
      }
      case "/odometer":
        signals.odometer_km = at(km((parsed.data as DataBody<"/odometer">).distance));
        break;
      case "/fuel": {
        const body = parsed.data as DataBody<"/fuel">;
        signals.fuel_pct = at(fractionToPct(body.percentRemaining));
        if (body.amountRemaining !== undefined) {
          signals.fuel_l = at(imperial ? usGallonsToLitres(body.amountRemaining) : round3(body.amountRemaining));
        }
        if (body.range !== undefined) fuelRange = at(km(body.range));
        break;
      }
      case "/engine/oil":
        signals.oil_life_pct = at(fractionToPct((parsed.data as DataBody<"/engine/oil">).lifeRemaining));
        break;
      case "/diagnostics/dtcs": {
        dtcs = (parsed.data as DataBody<"/diagnostics/dtcs">).activeCodes.map((active) =>
          typeof active.timestamp === "string"
            ? { code: active.code, occurredAt: toIsoUtc(active.timestamp) }
            : { code: active.code },
        );
        signals.dtcs = at(dtcs);
        // Smartcar reports no lamp state: any active code is read as the MIL being on (as in the webhook normalizer).
        signals.mil_on = at(dtcs.length > 0);
        break;
      }
    }
  }
  if (signals.range_km === undefined && fuelRange !== undefined) signals.range_km = fuelRange;
  return dtcs === undefined ? { signals, skipped } : { signals, dtcs, skipped };
};

const dataAgeOf = (headers: Readonly<Record<string, string>> | undefined): string | undefined => {
  const age = headers?.[DATA_AGE_HEADER];
  if (age === undefined) return undefined;
  const ms = Date.parse(age);
  return Number.isNaN(ms) ? undefined : toIsoUtc(ms);
};

const errorCodeOf = (body: unknown): string => {
  if (typeof body !== "object" || body === null) return "";
  const { type, code } = body as { type?: unknown; code?: unknown };
  const parts = [type, code].filter((part): part is string => typeof part === "string" && part !== "");
  return parts.length === 0 ? "" : ` ${parts.join(":")}`;
};
