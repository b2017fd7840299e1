import { describe, expect, it } from "vitest";
import { normalizeSmartcarResponses, type SmartcarDataResponse } from "#providers/smartcar/normalize-rest.ts";
import { samplePayload } from "#test/support/events.ts";

const POLLED_AT = "2026-03-01T10:05:00.000Z";
const batchItems = (name: string) =>
  (samplePayload("smartcar", name) as { responses: SmartcarDataResponse[] }).responses;

describe("normalizeSmartcarResponses", () => {
  it("maps an EV batch to canonical signals, each observed at its own sc-data-age", () => {
    expect(normalizeSmartcarResponses(batchItems("rest-batch-ev"), POLLED_AT)).toStrictEqual({
      signals: {
        soc_pct: { value: 63.4, observedAt: "2026-03-01T10:00:00.000Z" },
        range_km: { value: 251.6, observedAt: "2026-03-01T10:00:00.000Z" },
        is_plugged_in: { value: true, observedAt: "2026-03-01T10:00:00.000Z" },
        charge_state: { value: "charging", observedAt: "2026-03-01T10:00:00.000Z" },
        charge_limit_pct: { value: 80, observedAt: "2026-03-01T09:55:00.000Z" },
        // No sc-data-age on this item: observed at the poll time.
        is_locked: { value: true, observedAt: POLLED_AT },
        location: { value: { lat: 37.4292, lon: -122.1381 }, observedAt: "2026-03-01T10:01:30.000Z" },
        odometer_km: { value: 37829.4, observedAt: "2026-03-01T10:00:00.000Z" },
        dtcs: {
          value: [{ code: "P0300", occurredAt: "2026-03-01T08:12:00.000Z" }, { code: "B1234" }],
          observedAt: "2026-03-01T10:00:00.000Z",
        },
        mil_on: { value: true, observedAt: "2026-03-01T10:00:00.000Z" },
      },
      dtcs: [{ code: "P0300", occurredAt: "2026-03-01T08:12:00.000Z" }, { code: "B1234" }],
      skipped: [
        { path: "/fuel", reason: "status 501 COMPATIBILITY:VEHICLE_NOT_CAPABLE" },
        { path: "/engine/oil", reason: "status 501 COMPATIBILITY:VEHICLE_NOT_CAPABLE" },
      ],
    });
  });

  it("converts imperial items, takes the fuel range when there is no battery, and skips what it cannot read", () => {
    expect(normalizeSmartcarResponses(batchItems("rest-batch-ice-imperial"), POLLED_AT)).toStrictEqual({
      signals: {
        fuel_pct: { value: 50, observedAt: "2026-03-01T10:00:00.000Z" },
        fuel_l: { value: 24.605, observedAt: "2026-03-01T10:00:00.000Z" },
        range_km: { value: 321.869, observedAt: "2026-03-01T10:00:00.000Z" },
        oil_life_pct: { value: 35, observedAt: "2026-03-01T10:00:00.000Z" },
        // An unparseable sc-data-age falls back to the poll time.
        odometer_km: { value: 1609.344, observedAt: POLLED_AT },
        dtcs: { value: [], observedAt: POLLED_AT },
        mil_on: { value: false, observedAt: POLLED_AT },
      },
      dtcs: [],
      skipped: [
        { path: "/security", reason: "body off schema at isLocked: Invalid input: expected boolean, received string" },
        { path: "/tires/pressure", reason: "not a Smartcar data path Dashlight reads" },
      ],
    });
  });

  it("prefers the battery range over the fuel range for a plug-in hybrid", () => {
    const responses: SmartcarDataResponse[] = [
      { path: "/fuel", code: 200, body: { percentRemaining: 0.25, range: 150 } },
      { path: "/battery", code: 200, body: { percentRemaining: 0.1, range: 30 } },
    ];
    expect(normalizeSmartcarResponses(responses, POLLED_AT)).toStrictEqual({
      signals: {
        fuel_pct: { value: 25, observedAt: POLLED_AT },
        soc_pct: { value: 10, observedAt: POLLED_AT },
        range_km: { value: 30, observedAt: POLLED_AT },
      },
      skipped: [],
    });
  });

  it("maps every charge state and reports no dtcs when the DTC endpoint was not read", () => {
    const charge = (state: string) =>
      normalizeSmartcarResponses([{ path: "/charge", code: 200, body: { isPluggedIn: true, state } }], POLLED_AT);
    expect(charge("FULLY_CHARGED").signals.charge_state).toStrictEqual({
      value: "fully_charged",
      observedAt: POLLED_AT,
    });
    expect(charge("NOT_CHARGING").signals.charge_state).toStrictEqual({ value: "not_charging", observedAt: POLLED_AT });
    expect(charge("CHARGING")).toStrictEqual({
      signals: {
        is_plugged_in: { value: true, observedAt: POLLED_AT },
        charge_state: { value: "charging", observedAt: POLLED_AT },
      },
      skipped: [],
    });
  });

  it("rejects fractions above 1 instead of reporting 150 %", () => {
    expect(
      normalizeSmartcarResponses(
        [{ path: "/battery", code: 200, body: { percentRemaining: 1.5, range: 10 } }],
        POLLED_AT,
      ),
    ).toStrictEqual({
      signals: {},
      skipped: [
        { path: "/battery", reason: "body off schema at percentRemaining: Too big: expected number to be <=1" },
      ],
    });
  });
});
