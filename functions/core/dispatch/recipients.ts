/** E.164: a plus, a country code that does not start with 0, at most 15 digits in all. */
const E164 = /^\+[1-9]\d{1,14}$/;

/** `isE164("+14155550100")` → true; `isE164("0155550100")` → false. */
export const isE164 = (value: string): boolean => E164.test(value);

/** A deliberately simple shape check; the mail service has the final word. */
const EMAIL = /^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/;
export const isEmailAddress = (value: string): boolean => EMAIL.test(value);

/**
 * For logs and the console: phone numbers and emails never appear in full.
 * `maskAddress("+14155550100")` → "+14*******00"; `maskAddress("alex@example.com")` → "a***@example.com".
 */
export const maskAddress = (address: string): string => {
  const at = address.indexOf("@");
  if (at > 0) return `${address.slice(0, 1)}***${address.slice(at)}`;
  if (address.length <= 5) return "*".repeat(address.length);
  return `${address.slice(0, 3)}${"*".repeat(address.length - 5)}${address.slice(-2)}`;
};
