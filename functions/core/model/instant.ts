/**
 * Comparing ISO 8601 instants without parsing them. Every time Dashlight writes is
 * `Date.prototype.toISOString()` output, `YYYY-MM-DDTHH:mm:ss.sssZ`: fixed width and
 * UTC, so such strings sort exactly like the instants they name, and a string
 * comparison replaces two `Date.parse` calls on hot paths (snapshot updates, rule
 * state deadlines). Any other accepted form (no milliseconds, more digits) is parsed.
 */

/**
 * Whether `text` has the canonical fixed-width form, checked at its separators.
 *
 * @example isCanonicalInstant("2026-05-01T08:00:00.000Z") // true; "2026-05-01T08:00:00Z" → false
 */
export const isCanonicalInstant = (text: string): boolean =>
  text.length === 24 &&
  text.charCodeAt(23) === 90 /* Z */ &&
  text.charCodeAt(19) === 46 /* . */ &&
  text.charCodeAt(10) === 84 /* T */ &&
  text.charCodeAt(4) === 45 /* - */;

/**
 * Sign of `a − b` (−1, 0 or 1) for two ISO 8601 instants. A string that does not parse
 * compares as earlier than anything, so it never counts as newer.
 *
 * @example compareInstants("2026-05-01T08:00:01.000Z", "2026-05-01T08:00:00Z") // 1
 */
export const compareInstants = (a: string, b: string): number => {
  if (isCanonicalInstant(a) && isCanonicalInstant(b)) return a < b ? -1 : a > b ? 1 : 0;
  const delta = Date.parse(a) - Date.parse(b);
  return delta > 0 ? 1 : delta === 0 ? 0 : -1;
};

const TWO_DIGITS = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, "0"));
const THREE_DIGITS = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, "0"));
const DAY_MS = 86_400_000;
/** Years 1970–9999: where the fixed-width form holds and the day prefix cache pays. */
const FAST_RANGE_END_MS = 253_402_300_800_000;
let cachedDay = Number.NaN;
let cachedDayPrefix = "";
let cachedSecond = Number.NaN;
let cachedSecondPrefix = "";

/**
 * `new Date(epochMs).toISOString()`, several times faster: events arrive second after
 * second, so the `YYYY-MM-DDTHH:mm:ss.` prefix of the last second (and the date of the
 * last day) is kept and usually only the milliseconds are appended. Fewer pieces also
 * mean fewer intermediate strings, which the snapshot path then flattens per sample.
 * Same output for every input.
 *
 * @example isoOf(0) // "1970-01-01T00:00:00.000Z"
 */
export const isoOf = (epochMs: number): string => {
  if (!(epochMs >= 0 && epochMs < FAST_RANGE_END_MS) || !Number.isInteger(epochMs)) {
    return new Date(epochMs).toISOString(); // throws RangeError on NaN, like before
  }
  const second = Math.floor(epochMs / 1000);
  if (second !== cachedSecond) {
    cachedSecondPrefix = secondPrefix(second);
    cachedSecond = second;
  }
  return `${cachedSecondPrefix}${THREE_DIGITS[epochMs - second * 1000]}Z`;
};

/** `YYYY-MM-DDTHH:mm:ss.` of a second since the epoch (the day's prefix cached too). */
const secondPrefix = (second: number): string => {
  const day = Math.floor(second / 86_400);
  if (day !== cachedDay) {
    cachedDayPrefix = new Date(day * DAY_MS).toISOString().slice(0, 11);
    cachedDay = day;
  }
  let rest = second - day * 86_400;
  const hours = Math.floor(rest / 3600);
  rest -= hours * 3600;
  const minutes = Math.floor(rest / 60);
  return `${cachedDayPrefix}${TWO_DIGITS[hours]}:${TWO_DIGITS[minutes]}:${TWO_DIGITS[rest - minutes * 60]}.`;
};

/** The value of `length` decimal digits at `start`, or NaN if one is not a digit. */
const digits = (text: string, start: number, length: number): number => {
  let value = 0;
  for (let i = start; i < start + length; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return Number.NaN;
    value = value * 10 + d;
  }
  return value;
};

/** Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's days_from_civil). */
const daysFromCivil = (year: number, month: number, day: number): number => {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
};

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const daysInMonth = (year: number, month: number): number =>
  month === 2 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : (MONTH_DAYS[month - 1] ?? 0);

/**
 * `Date.parse(text)`, computed from the digits when the text is canonical (a few times
 * faster); any other form, or a field out of range, goes to Date.parse.
 *
 * @example instantMs("1970-01-01T00:00:01.000Z") // 1000
 */
export const instantMs = (text: string): number => {
  const ms = canonicalInstantMs(text);
  return Number.isNaN(ms) ? Date.parse(text) : ms;
};

/**
 * The epoch ms of `text` when it is exactly what isoOf(ms) writes (every separator in
 * place, every field a digit and in range), else NaN. So a caller may keep the number
 * and drop the text: isoOf gives the same text back.
 *
 * @example canonicalInstantMs("1970-01-01T00:00:01.000Z") // 1000; "1970-01-01T00:00:01Z" → NaN
 */
export const canonicalInstantMs = (text: string): number => {
  if (
    !isCanonicalInstant(text) ||
    text.charCodeAt(7) !== 45 /* - */ ||
    text.charCodeAt(13) !== 58 /* : */ ||
    text.charCodeAt(16) !== 58 /* : */
  ) {
    return Number.NaN;
  }
  const year = digits(text, 0, 4);
  const month = digits(text, 5, 2);
  const day = digits(text, 8, 2);
  const hours = digits(text, 11, 2);
  const minutes = digits(text, 14, 2);
  const seconds = digits(text, 17, 2);
  const ms = digits(text, 20, 3);
  // NaN (a non-digit) fails every test.
  const inRange =
    year >= 0 &&
    month >= 1 &&
    month <= 12 &&
    day >= 1 &&
    day <= daysInMonth(year, month) &&
    hours <= 23 &&
    minutes <= 59 &&
    seconds <= 59 &&
    ms >= 0;
  if (!inRange) return Number.NaN;
  return daysFromCivil(year, month, day) * DAY_MS + hours * 3_600_000 + minutes * 60_000 + seconds * 1000 + ms;
};
