import { cellToLatLng } from "h3-js";
import { describe, expect, it } from "vitest";
import { compileCondition, type EvalContext } from "#core/rules/conditions.ts";
import { RuleContractError, rulesForVehicle } from "#core/rules/index.ts";
import { compileZone } from "#core/rules/zones.ts";
import { empty, rulesFrom, vehicle } from "./helpers.ts";

describe("zones", () => {
  it("tests a circle by great-circle distance", () => {
    const zone = compileZone("home", { circle: { lat: 48.8566, lon: 2.3522, radius_m: 500 } });
    expect([
      zone.contains(48.8566, 2.3522),
      zone.contains(48.861, 2.3522),
      zone.contains(48.8612, 2.3522),
    ]).toStrictEqual([true, true, false]);
  });

  it("tests a GeoJSON polygon, holes excluded", () => {
    const zone = compileZone("yard", {
      polygon: {
        type: "Polygon",
        coordinates: [
          [
            [2.0, 48.0],
            [2.1, 48.0],
            [2.1, 48.1],
            [2.0, 48.1],
            [2.0, 48.0],
          ],
          [
            [2.04, 48.04],
            [2.06, 48.04],
            [2.06, 48.06],
            [2.04, 48.06],
            [2.04, 48.04],
          ],
        ],
      },
    });
    expect([zone.contains(48.02, 2.02), zone.contains(48.05, 2.05), zone.contains(48.2, 2.05)]).toStrictEqual([
      true,
      false,
      false,
    ]);
  });

  it("tests a set of H3 cells of any resolution", () => {
    const cell = "89283082803ffff";
    const [lat, lon] = cellToLatLng(cell);
    const zone = compileZone("school", { h3: [cell, "85283473fffffff"] });
    expect([zone.contains(lat, lon), zone.contains(37.3, -121.9), zone.contains(0, 0)]).toStrictEqual([
      true,
      true,
      false,
    ]);
  });
});

describe("time windows", () => {
  const at = (iso: string, timeZone: string): EvalContext => ({
    vehicle: { ...vehicle, timeZone },
    snapshot: empty(),
    event: undefined,
    atMs: Date.parse(iso),
  });
  const night = compileCondition({ time: { after: "22:00", before: "06:00", weekdays: ["fri"] } }, new Map());

  it("wraps past midnight and counts the night as the day it started, in the vehicle's time zone", () => {
    expect([
      night.test(at("2026-05-01T20:30:00Z", "Europe/Paris")), // Friday 22:30 in Paris
      night.test(at("2026-05-02T03:00:00Z", "Europe/Paris")), // Saturday 05:00, Friday's night
      night.test(at("2026-05-02T04:30:00Z", "Europe/Paris")), // Saturday 06:30
      night.test(at("2026-05-01T20:30:00Z", "UTC")), // Friday 20:30 in UTC
      night.test(at("2026-05-02T20:30:00Z", "Europe/Paris")), // Saturday 22:30
    ]).toStrictEqual([true, true, false, false, false]);
  });

  it("explains the local time it saw", () => {
    expect(night.trace(at("2026-05-01T20:30:00Z", "Europe/Paris"))).toStrictEqual({
      condition: "time 22:00–06:00 on fri",
      result: true,
      value: "fri 22:30",
    });
  });
});

describe("rulesForVehicle", () => {
  const ruleSet = rulesFrom(`rules:
  - id: everyone
    triggers: [{ event: mil.on }]
    actions: []
  - id: fleet-only
    scope: { tags: [fleet] }
    triggers: [{ event: mil.on }]
    actions: []
  - id: one-car
    scope: { vehicles: ["automatic:C_test"] }
    triggers: [{ event: mil.on }]
    actions: []
  - id: switched-off
    enabled: false
    triggers: [{ event: mil.on }]
    actions: []
`);

  it("selects rules by scope: all, tags, vehicle ids; never disabled ones", () => {
    expect([
      rulesForVehicle(ruleSet, vehicle).map((r) => r.id),
      rulesForVehicle(ruleSet, { id: "smartcar:x", tags: ["fleet"] }).map((r) => r.id),
    ]).toStrictEqual([
      ["everyone", "one-car"],
      ["everyone", "fleet-only"],
    ]);
  });
});

describe("time zones", () => {
  it("rejects a vehicle time zone that is not IANA with a typed error", () => {
    const window = compileCondition({ time: { after: "22:00" } }, new Map());
    const ctx: EvalContext = {
      vehicle: { ...vehicle, timeZone: "Mars/Olympus" },
      snapshot: empty(),
      event: undefined,
      atMs: 0,
    };
    expect(() => window.test(ctx)).toThrow(RuleContractError);
  });
});
