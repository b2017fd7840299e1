import * as z from "zod";
import { formatIssuePath } from "#core/ingest/errors.ts";
import { badRequest } from "./http-errors.ts";

/**
 * Parses part of an HTTP request with a zod schema; a failure is a 400 naming
 * each field (`query.limit`, `path.id`) and what is wrong with it.
 */
export const parseRequestPart = <T extends z.ZodType>(schema: T, value: unknown, where: string): z.infer<T> => {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw badRequest(
    `invalid ${where}`,
    result.error.issues.map((issue) => ({
      path: issue.path.length === 0 ? where : `${where}.${formatIssuePath(issue.path)}`,
      message: issue.message,
    })),
  );
};

/** `?limit=&since=` of the time-ordered lists (events, firings, commands, outbox), newest first. */
export const TimeListQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  since: z.iso.datetime().optional(),
});
