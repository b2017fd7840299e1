import { Cron } from "croner";
import { isoOf } from "../model/instant.ts";
import { RuleContractError } from "./errors.ts";

/**
 * Time-zone arithmetic for schedules and time-of-day windows. Pure: every function
 * takes the instant it reasons about; nothing reads the system clock.
 */

const formatters = new Map<string, Intl.DateTimeFormat>();
const formatter = (timeZone: string): Intl.DateTimeFormat => {
  let f = formatters.get(timeZone);
  if (f === undefined) {
    try {
      f = new Intl.DateTimeFormat("en-US", {
        timeZone,
        hourCycle: "h23",
        weekday: "short",
        hour: "2-digit",
        minute: "2-digit",
      });
    } catch (cause) {
      throw new RuleContractError(`vehicle time zone ${JSON.stringify(timeZone)} is not an IANA time zone`, { cause });
    }
    formatters.set(timeZone, f);
  }
  return f;
};

const WEEKDAY_INDEX: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };

/** Local wall-clock time of an instant: minutes since local midnight and weekday (0 = Sunday). */
export const localTime = (
  epochMs: number,
  timeZone: string,
): { minuteOfDay: number; weekday: number; hhmm: string } => {
  let hour = 0;
  let minute = 0;
  let weekday = 0;
  for (const part of formatter(timeZone).formatToParts(epochMs)) {
    if (part.type === "hour") hour = Number(part.value);
    else if (part.type === "minute") minute = Number(part.value);
    else if (part.type === "weekday") weekday = WEEKDAY_INDEX[part.value] ?? 0;
  }
  const hhmm = `${String(hour).padStart(2, "0")}:${String(minute).padStart(2, "0")}`;
  return { minuteOfDay: hour * 60 + minute, weekday, hhmm };
};

/** `"22:30"` → 1350. */
export const minutesOf = (hhmm: string): number => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/** A cron pattern's problem in plain words, or undefined when it is valid. */
export const checkCron = (pattern: string): string | undefined => {
  try {
    new Cron(pattern, { paused: true });
    return undefined;
  } catch (error) {
    return `invalid cron schedule: ${(error as Error).message.replace(/^CronPattern: /, "")}`;
  }
};

const crons = new Map<string, Cron>();

/** The first run of `pattern` in `timeZone` strictly after `afterMs`, or undefined if it never runs again. */
export const nextCronRun = (pattern: string, timeZone: string, afterMs: number): number | undefined => {
  const key = `${timeZone} ${pattern}`;
  let cron = crons.get(key);
  if (cron === undefined) {
    formatter(timeZone); // validates the time zone with a typed error
    cron = new Cron(pattern, { paused: true, timezone: timeZone });
    crons.set(key, cron);
  }
  return cron.nextRun(new Date(afterMs))?.getTime();
};

/** `new Date(epochMs).toISOString()`, via the fast formatter (evaluations format several instants each). */
export const iso = (epochMs: number): string => isoOf(epochMs);
