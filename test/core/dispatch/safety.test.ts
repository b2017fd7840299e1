import { describe, expect, it } from "vitest";
import { checkCommandSafety, DEFAULT_COMMAND_POLICY, rateLimitReason, rateWindowOf } from "#core/dispatch/safety.ts";
import { snapshotOf } from "#test/support/dispatch-doubles.ts";

const now = new Date("2026-05-01T08:10:00.000Z");
const at = (secondsAgo: number) => new Date(now.getTime() - secondsAgo * 1000).toISOString();
const vehicle = "smartcar:veh_1";

describe("the command safety policy", () => {
  it("refuses an unlock while the vehicle moves", () => {
    const snapshot = snapshotOf(vehicle, { speed_kph: { value: 42, observedAt: at(30) } });
    expect(checkCommandSafety("unlock", { stationary: true }, snapshot, now)).toStrictEqual({
      allowed: false,
      reason: "vehicle is moving: 42 km/h at 2026-05-01T08:09:30.000Z",
    });
  });

  it("allows an unlock at a fresh standstill, even with the ignition on", () => {
    const snapshot = snapshotOf(vehicle, {
      speed_kph: { value: 0, observedAt: at(10) },
      ignition_on: { value: true, observedAt: at(10) },
    });
    expect(checkCommandSafety("open_trunk", { stationary: false }, snapshot, now)).toStrictEqual({ allowed: true });
  });

  it("treats GPS noise below the moving threshold as standing still", () => {
    const snapshot = snapshotOf(vehicle, { speed_kph: { value: 3, observedAt: at(5) } });
    expect(checkCommandSafety("open_frunk", { stationary: false }, snapshot, now)).toStrictEqual({ allowed: true });
  });

  it("refuses when the speed is unknown and the ignition came on recently", () => {
    const snapshot = snapshotOf(vehicle, { ignition_on: { value: true, observedAt: at(300) } });
    expect(checkCommandSafety("unlock", { stationary: false }, snapshot, now)).toStrictEqual({
      allowed: false,
      reason: "speed unknown and the vehicle is being driven: ignition on at 2026-05-01T08:05:00.000Z",
    });
  });

  it("refuses when the last speed is stale but recent and above the threshold", () => {
    const snapshot = snapshotOf(vehicle, { speed_kph: { value: 60, observedAt: at(240) } });
    expect(checkCommandSafety("unlock", { stationary: false }, snapshot, now)).toStrictEqual({
      allowed: false,
      reason: "speed unknown and the vehicle was recently driving: 60 km/h at 2026-05-01T08:06:00.000Z",
    });
  });

  it("allows when nothing recent says the vehicle is driving", () => {
    const snapshot = snapshotOf(vehicle, {
      speed_kph: { value: 60, observedAt: at(3600) },
      ignition_on: { value: true, observedAt: at(3600) },
    });
    expect(checkCommandSafety("unlock", { stationary: true }, snapshot, now)).toStrictEqual({ allowed: true });
    expect(checkCommandSafety("unlock", { stationary: true }, snapshotOf(vehicle, {}), now)).toStrictEqual({
      allowed: true,
    });
  });

  it("never holds back a lock or a charge command, and honours an explicit stationary precondition", () => {
    const moving = snapshotOf(vehicle, { speed_kph: { value: 90, observedAt: at(1) } });
    expect(checkCommandSafety("lock", { stationary: false }, moving, now)).toStrictEqual({ allowed: true });
    expect(checkCommandSafety("start_charge", { stationary: false }, moving, now)).toStrictEqual({ allowed: true });
    expect(checkCommandSafety("set_destination", { stationary: true }, moving, now)).toStrictEqual({
      allowed: false,
      reason: "vehicle is moving: 90 km/h at 2026-05-01T08:09:59.000Z",
    });
  });
});

describe("the command rate window", () => {
  it("is the fixed hour the instant falls in, kept one more window", () => {
    expect(rateWindowOf(new Date("2026-05-01T08:42:00Z"), 3_600_000)).toStrictEqual({
      start: "2026-05-01T08:00:00.000Z",
      expiresAt: Date.parse("2026-05-01T10:00:00Z") / 1000,
    });
  });

  it("explains a refusal with the limit", () => {
    expect(rateLimitReason(DEFAULT_COMMAND_POLICY)).toBe(
      "rate limit: 5 commands per 60 minutes already sent to this vehicle",
    );
  });
});
