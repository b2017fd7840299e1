import type { z } from "zod";

/** Base class of errors raised while turning a provider payload into canonical events. */
export class IngestError extends Error {
  override name = "IngestError";
}

export type PayloadIssue = { path: string; message: string };

/** The payload does not match the provider's documented schema. */
export class PayloadInvalidError extends IngestError {
  override name = "PayloadInvalidError";
  constructor(
    readonly issues: readonly PayloadIssue[],
    options?: ErrorOptions,
  ) {
    super(`invalid payload: ${issues.map((issue) => `${issue.path}: ${issue.message}`).join("; ")}`, options);
  }
}

/** Formats a zod issue path as `dtcs[0].code` (the root is `$`). */
export const formatIssuePath = (path: readonly PropertyKey[]): string =>
  path.length === 0
    ? "$"
    : path
        .map((key, index) => (typeof key === "number" ? `[${key}]` : index === 0 ? String(key) : `.${String(key)}`))
        .join("");

/** Parses with a zod schema, turning a failure into a PayloadInvalidError that names each field path. */
export const parsePayload = <T extends z.ZodType>(schema: T, payload: unknown): z.infer<T> => {
  const result = schema.safeParse(payload);
  if (result.success) return result.data;
  throw new PayloadInvalidError(
    result.error.issues.map((issue) => ({ path: formatIssuePath(issue.path), message: issue.message })),
    { cause: result.error },
  );
};
