import { describe, expect, it } from "vitest";
import { localTime } from "#core/rules/clock.ts";

/** What Intl says, formatted the way localTime reports it. */
const intlHhmm = (epochMs: number, timeZone: string): string =>
  new Intl.DateTimeFormat("en-GB", { timeZone, hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(epochMs);

describe("localTime", () => {
  it("agrees with Intl second by second across daylight-saving changes, in zones with odd offsets too", () => {
    const starts = [
      ["Europe/Paris", "2026-03-29T00:58:00Z"],
      ["Europe/Paris", "2026-10-25T00:58:00Z"],
      ["America/St_Johns", "2026-03-08T05:28:00Z"],
      ["Asia/Kathmandu", "2026-05-01T18:13:00Z"],
      ["Australia/Lord_Howe", "2026-04-04T14:58:00Z"],
    ] as const;
    for (const [zone, start] of starts) {
      for (let s = 0; s < 240; s += 7) {
        const at = Date.parse(start) + s * 1000;
        expect(`${zone} ${new Date(at).toISOString()} ${localTime(at, zone).hhmm}`).toBe(
          `${zone} ${new Date(at).toISOString()} ${intlHhmm(at, zone)}`,
        );
      }
    }
  });

  it("reads the seconds of an offset that was not whole minutes (Monrovia, −0:44:30 until 1972)", () => {
    expect(localTime(Date.parse("1970-01-01T00:00:29Z"), "Africa/Monrovia").hhmm).toBe("23:15");
    expect(localTime(Date.parse("1970-01-01T00:00:31Z"), "Africa/Monrovia").hhmm).toBe("23:16");
  });

  it("gives the weekday and minute of day of the local date", () => {
    expect(localTime(Date.parse("2026-05-03T22:30:00Z"), "Europe/Paris")).toStrictEqual({
      minuteOfDay: 30,
      weekday: 1,
      hhmm: "00:30",
    });
  });
});
