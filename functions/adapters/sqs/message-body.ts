/** Every UTF-16 code unit outside printable ASCII (surrogate halves included, one at a time). */
const NON_ASCII = /[\u007f-\uffff]/g;

/**
 * A JSON message body that SQS and the local engines accept whatever text it carries. SQS refuses U+FFFE, U+FFFF
 * and lone surrogates, and fauxqs refuses every character outside the Basic Multilingual Plane (an emoji in a car's
 * name), so a plain JSON.stringify made such an event fail to enqueue on every retry. Escaped as `\uXXXX`, the body
 * is plain ASCII, and JSON.parse gives back exactly the same strings.
 *
 * @example sqsMessageBody({ name: "Zoë 🚗" }) // '{"name":"Zo\\u00eb \\ud83d\\ude97"}'
 */
export const sqsMessageBody = (value: unknown): string =>
  JSON.stringify(value).replace(NON_ASCII, (unit) => `\\u${unit.charCodeAt(0).toString(16).padStart(4, "0")}`);
