// Request validation with zod: every failure becomes one 400 APP_ERR_VALIDATION listing each problem.
import { z } from 'zod';
import { AppError, ErrorCodes } from './errors.js';

const MAX_INTEGER = 2_147_483_647;

/** Parses `value` or throws a 400 whose details name each offending field. */
export function parse<S extends z.ZodType>(schema: S, value: unknown, where: 'body' | 'query' | 'params'): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const details = result.error.issues.map((issue) => ({
    path: issue.path.join('.'),
    message: issue.message,
  }));
  throw new AppError(ErrorCodes.VALIDATION, `Invalid request ${where}`, { details });
}

// Text that Postgres can store: no NUL characters.
function text(min: number, max: number) {
  return z
    .string()
    .trim()
    .min(min)
    .max(max)
    .refine((value) => !value.includes('\u0000'), 'Must not contain NUL characters');
}

const integerString = (max: number) =>
  z
    .string()
    .regex(/^\d{1,10}$/, 'Expected a whole number')
    .transform(Number)
    .pipe(z.number().max(max));

/** `:id` in a path: a positive integer that fits Postgres' `integer`. */
export const idParams = z.object({ id: integerString(MAX_INTEGER).pipe(z.number().min(1)) });

/** `?limit=&before=` of the feeds. */
export const pageQuery = z.object({
  limit: integerString(200).pipe(z.number().min(1)).default(50),
  before: integerString(MAX_INTEGER).pipe(z.number().min(1)).optional(),
});

// Kept as written (not trimmed); may be empty.
const description = z
  .string()
  .max(10_000)
  .refine((value) => !value.includes('\u0000'), 'Must not contain NUL characters');
const id = z.int().min(1).max(MAX_INTEGER);
const position = z.int().min(0).max(MAX_INTEGER);

export const messageBody = z.strictObject({ author: text(1, 100), body: text(1, 10_000) });

export const columnCreateBody = z.strictObject({ title: text(1, 200) });

export const columnUpdateBody = z
  .strictObject({ title: text(1, 200).optional(), position: position.optional() })
  .refine((body) => body.title !== undefined || body.position !== undefined, 'Expected at least one of title, position');

export const taskCreateBody = z.strictObject({
  columnId: id,
  title: text(1, 200),
  description: description.optional(),
});

export const taskUpdateBody = z
  .strictObject({
    title: text(1, 200).optional(),
    description: description.optional(),
    columnId: id.optional(),
    position: position.optional(),
  })
  .refine((body) => Object.values(body).some((value) => value !== undefined), 'Expected at least one of title, description, columnId, position');
