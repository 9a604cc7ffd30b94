import { z } from 'zod';

// One wording for a missing field everywhere: "merchantId: is required".
z.config({ customError: (issue) => (issue.input === undefined ? 'is required' : undefined) });

/** Input that does not satisfy its schema: CLI exit code 2, Lambda invocation error. Nothing was written. */
export class InputError extends Error {
  override name = 'InputError';
}

/** The thing asked about does not exist (CLI exit code 1). */
export class NotFoundError extends Error {
  override name = 'NotFoundError';
}

/** The request is well-formed but contradicts the recorded state (CLI exit code 1). */
export class ConflictError extends Error {
  override name = 'ConflictError';
}

/** A revocation the recorded promotion refuses (ineligible, already revoked at another instant, or over). */
export class RevocationRefusedError extends ConflictError {
  override name = 'RevocationRefusedError';
}

/** A field's own wording for a wrong value, keeping "is required" for a missing one. */
export const unlessMissing = (message: string) => (issue: { input?: unknown }) =>
  issue.input === undefined ? 'is required' : message;

/** One line per problem, each naming the field: `to: must be on or after from`. */
export function describeZodError(error: z.ZodError, prefix = ''): string {
  return error.issues
    .map((issue) => {
      const path = [prefix, ...issue.path.map(String)].filter(Boolean).join('.');
      if (issue.code === 'unrecognized_keys') {
        return issue.keys.map((key) => `${[path, key].filter(Boolean).join('.')}: unknown field`).join('; ');
      }
      return `${path || '(input)'}: ${issue.message}`;
    })
    .join('; ');
}

/** Parses with a zod schema, turning a failure into an InputError that names each field. */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, prefix = ''): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw new InputError(describeZodError(result.error, prefix));
  return result.data;
}
