/** Unit conversions the normalizers share. Results are rounded to 3 decimals (metres, millilitres). */

const KM_PER_MILE = 1.609344;
const LITRES_PER_US_GALLON = 3.785411784;
const KPA_PER_PSI = 6.894757293168;

export const round3 = (value: number): number => Math.round(value * 1000) / 1000;

/** @example mphToKph(70) // 112.654 */
export const mphToKph = (mph: number): number => round3(mph * KM_PER_MILE);
export const milesToKm = (miles: number): number => round3(miles * KM_PER_MILE);
export const metresToKm = (metres: number): number => round3(metres / 1000);
/** @example usGallonsToLitres(1) // 3.785 */
export const usGallonsToLitres = (gallons: number): number => round3(gallons * LITRES_PER_US_GALLON);
export const psiToKpa = (psi: number): number => round3(psi * KPA_PER_PSI);
/** Smartcar-style fractions (0..1) to percent. */
export const fractionToPct = (fraction: number): number => round3(fraction * 100);

/** Epoch milliseconds or any ISO 8601 string to ISO 8601 UTC with millisecond precision. */
export const toIsoUtc = (time: number | string): string => new Date(time).toISOString();
