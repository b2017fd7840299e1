import { describe, expect, it } from "vitest";
import { replayVehicle } from "#core/rules/replay.ts";
import { at, rulesFrom, signalsEvent, vehicle } from "./helpers.ts";

const ruleSet = rulesFrom(`
rules:
  - id: gone-quiet
    triggers: [{ no_data_for: 30m }]
    actions: [{ sms: owner, message: "quiet" }]
`);

const events = [signalsEvent(0, { speed_kph: 50 }, "a"), signalsEvent(7200, { speed_kph: 40 }, "b")];
const firingsUntil = (to: string) =>
  replayVehicle(ruleSet, vehicle, events, { from: at(0), to }).map((f) => `${f.at} ${f.ruleId} ${f.kind}`);

describe("replayVehicle", () => {
  it("ticks the timers that fall due inside the window", () => {
    expect(firingsUntil(at(3 * 3600))).toStrictEqual([
      `${at(1800)} gone-quiet fired`,
      `${at(7200)} gone-quiet resolved`,
      `${at(9000)} gone-quiet fired`,
    ]);
  });

  it("ticks no timer past the window's end, even before an event dated later", () => {
    // The second event's clock is ahead of the window's end (now, for the CLI): nothing was due yet.
    expect(firingsUntil(at(600))).toStrictEqual([]);
  });
});
