import * as z from 'zod';

// One wording for a missing field everywhere: "merchantId: is required".
z.config({ customError: (issue) => (issue.input === undefined ? 'is required' : undefined) });

/** One thing wrong with an input, and the field it is about (`(input)` for the input as a whole). */
export interface InputProblem {
  field: string;
  problem: string;
}

/** `to: must be on or after from; asOf: is required`: how problems read in a message. */
export const describeProblems = (problems: readonly InputProblem[]) =>
  problems.map(({ field, problem }) => `${field}: ${problem}`).join('; ');

/**
 * Input that does not satisfy its schema: CLI exit code 2, Lambda invocation error. Nothing was
 * written. Made from its problems, it keeps them, so an entry point can name each field in its own
 * terms (the CLI says `--as-of` where the job input says `asOf`) without parsing the message.
 */
export class InputError extends Error {
  override name = 'InputError';
  readonly problems: readonly InputProblem[];

  constructor(messageOrProblems: string | readonly InputProblem[]) {
    const problems = typeof messageOrProblems === 'string' ? [] : messageOrProblems;
    super(typeof messageOrProblems === 'string' ? messageOrProblems : describeProblems(problems));
    this.problems = problems;
  }
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

/** Each problem of a failed parse with the field it names (`prefix` first, dot-separated). */
export function zodProblems(error: z.ZodError, prefix = ''): InputProblem[] {
  return error.issues.flatMap((issue) => {
    const path = [prefix, ...issue.path.map(String)].filter(Boolean).join('.');
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({
        field: [path, key].filter(Boolean).join('.'),
        problem: 'unknown field',
      }));
    }
    return [{ field: path || '(input)', problem: issue.message }];
  });
}

/** One line per problem, each naming the field: `to: must be on or after from`. */
export function describeZodError(error: z.ZodError, prefix = ''): string {
  return describeProblems(zodProblems(error, prefix));
}

/** Parses with a zod schema, turning a failure into an InputError that names each field. */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, prefix = ''): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw new InputError(zodProblems(result.error, prefix));
  return result.data;
}
