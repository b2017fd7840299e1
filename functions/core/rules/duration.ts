const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const PART = /(\d+)(ms|s|m|h|d)/g;

/** Durations in rule files: one or more `<integer><unit>` parts, units ms, s, m, h, d: `10s`, `5m`, `1h30m`. */
export const DURATION_PATTERN = "^(\\d+(ms|s|m|h|d))+$";
const WHOLE = new RegExp(DURATION_PATTERN);

/** `parseDuration("1h30m")` → 5_400_000 (milliseconds); undefined when the text is not a duration. */
export const parseDuration = (text: string): number | undefined => {
  if (!WHOLE.test(text)) return undefined;
  let ms = 0;
  for (const m of text.matchAll(PART)) ms += Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
  return ms;
};

/** `formatDuration(5_400_000)` → "1h30m"; the inverse of parseDuration for explanations. */
export const formatDuration = (ms: number): string => {
  if (ms === 0) return "0s";
  let rest = ms;
  let out = "";
  for (const unit of ["d", "h", "m", "s", "ms"] as const) {
    const n = Math.floor(rest / UNIT_MS[unit]);
    if (n > 0) {
      out += `${n}${unit}`;
      rest -= n * UNIT_MS[unit];
    }
  }
  return out;
};
