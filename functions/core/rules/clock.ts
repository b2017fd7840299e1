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

export type LocalTime = { readonly minuteOfDay: number; readonly weekday: number; readonly hhmm: string };

/** From 1973 on, every IANA zone's offset is whole minutes (Monrovia's −0:44:30 was the last, to 1972): an instant's local minute is then its UTC minute's. */
const WHOLE_MINUTE_OFFSETS_SINCE_MS = Date.UTC(1973, 0, 1);
const LOCAL_MINUTES_KEPT = 4096;
const localMinutes = new Map<string, LocalTime>();

/**
 * Local wall-clock time of an instant: minutes since local midnight and weekday (0 = Sunday).
 * Kept per zone and minute: formatting through Intl costs microseconds, and every firing
 * (templates, time windows) asks for the minute its neighbours asked for.
 *
 * @example localTime(Date.parse("2026-05-01T21:30:00Z"), "Europe/Paris").hhmm // "23:30"
 */
export const localTime = (epochMs: number, timeZone: string): LocalTime => {
  if (epochMs < WHOLE_MINUTE_OFFSETS_SINCE_MS || !Number.isFinite(epochMs)) return formatLocalTime(epochMs, timeZone);
  const key = `${timeZone}@${Math.floor(epochMs / 60_000)}`;
  let local = localMinutes.get(key);
  if (local === undefined) {
    local = formatLocalTime(epochMs, timeZone);
    if (localMinutes.size >= LOCAL_MINUTES_KEPT) localMinutes.clear();
    localMinutes.set(key, local);
  }
  return local;
};

const formatLocalTime = (epochMs: number, timeZone: string): LocalTime => {
  let hour = 0;
  let minute = 0;
  let weekday = 0;
  for (const part of formatter(timeZone).formatToParts(epochMs)) {
    if (part.type === "hour") hour = Number(part.value);
    else if (part.type === "minute") minute = Number(part.value);
    else if (part.type === "weekday") weekday = WEEKDAY_INDEX[part.value] ?? 0;
  }
  const hhmm = `${String(hour).padStart(2, "0")}:${String(minute).padStart(2, "0")}`;
  return Object.freeze({ minuteOfDay: hour * 60 + minute, weekday, hhmm });
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
