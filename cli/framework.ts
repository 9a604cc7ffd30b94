// What every command shares, around commander (which parses the arguments, checks required and
// conflicting options and prints each command's help): the context a command runs in, its result
// (JSON on stdout, an exit code 0 ok, 1 failed, 2 bad input), and the validation of option values
// with zod, naming the option, the value given and the problem.
import { existsSync, readFileSync } from 'node:fs';
import { type Command, Option } from 'commander';
import * as z from 'zod';
import type { AppConfig } from '../shared/config';
import type { Log } from '../shared/deps';
import {
  ConflictError,
  InputError,
  type InputProblem,
  NotFoundError,
  unlessMissing,
  zodProblems,
} from '../shared/errors';
import type { Store } from './store';
import { renderTable } from './table-output';

/** A stream a command writes to; `isTTY` decides between a live progress bar and plain lines. */
export interface Output {
  write(text: string): unknown;
  isTTY?: boolean;
}

export interface CommandContext {
  config: AppConfig;
  /** For progress that redraws itself (a bar); everything else goes through `progress`. */
  stderr: Output;
  env: Record<string, string | undefined>;
  log: Log;
  /** Prints a progress line on stderr. */
  progress(line: string): void;
  /** Prints one JSON line on stdout now (a long command's results as they come, not kept until its end). */
  emit(value: unknown): void;
  /** Opens the store (starting the embedded DynamoDB Local if needed) once per command. */
  store(): Promise<Store>;
}

export interface CommandResult {
  /** One object is printed as JSON; an array as JSON Lines (or, with `--output table`, a table). */
  output: unknown;
  exitCode?: number;
  /** The fields a table shows, in order (default: every field, in the order it first appears). */
  columns?: readonly string[];
  /**
   * What a command that changes state changed, said in one line: the last line it writes on stderr
   * (after the notices it caused are delivered). Every such command has one, "nothing changed" too.
   */
  summary?: string;
}

/** What commander parsed for a command: its arguments in order, and its options by camel-cased name. */
export interface Invocation {
  args: (string | undefined)[];
  options: Record<string, string | boolean | undefined>;
}

export type Run = (input: Invocation, ctx: CommandContext) => Promise<CommandResult>;

export const EXIT = { ok: 0, failed: 1, badInput: 2 } as const;

/** The command that parsing chose, by the program it was parsed with (one program per invocation). */
const chosen = new WeakMap<Command, { run: Run; input: Invocation }>();

/**
 * A command's commander action: parsing only records what to run, so that the CLI runs it (and opens
 * the store, delivers notices, closes it) once every argument has been checked.
 */
export function runs(run: Run) {
  return (...params: unknown[]) => {
    const command = params.at(-1) as Command;
    let program = command;
    let name = command.name();
    while (program.parent) {
      program = program.parent;
      if (program.parent) name = `${program.name()} ${name}`;
    }
    const extra = command.args[command.registeredArguments.length];
    if (extra !== undefined) {
      throw new InputError(
        `unexpected argument ${JSON.stringify(extra)} (usage: ${name} ${command.usage()})`,
      );
    }
    chosen.set(program, {
      run,
      input: { args: [...command.processedArgs], options: command.opts() },
    });
  };
}

export function chosenCommand(program: Command) {
  return chosen.get(program);
}

/** A value as an error message shows it: quoted when it is empty or holds spaces, shortened when long. */
export function shown(text: string): string {
  const short = text.length > 60 ? `${text.slice(0, 57)}…` : text;
  return /^[\x21-\x7e\u00a0-\uffff]+$/.test(short) ? short : JSON.stringify(short);
}

/**
 * Validates option values with a zod schema keyed by the options' names (`--at`, `<merchantId>`).
 * Each problem names the option and the value given: `--standard-rate: must be at least 0 (got -0.05)`.
 */
export function parseOptions<S extends z.ZodType>(schema: S, given: Record<string, unknown>): z.output<S> {
  const result = schema.safeParse(given);
  if (result.success) return result.data;
  throw inOptionTerms(zodProblems(result.error), given);
}

/**
 * Input problems as an operator reads them: each field named by the option that gave it (`optionOf`;
 * by default the field is the option's name), with the value given unless the problem shows it.
 */
export function inOptionTerms(
  problems: readonly InputProblem[],
  given: Record<string, unknown>,
  optionOf: (field: string) => string | undefined = (field) => field,
): InputError {
  return new InputError(
    problems.map(({ field, problem }) => {
      const option = optionOf(field.split('.')[0] ?? field);
      if (option === undefined) return { field, problem };
      const text = given[option];
      // A message that names the value says so (`2020-02-30 is not a date of February 2020`); a
      // value that only appears inside it (`5` in `e.g. 0.05 for 5%`) is still shown.
      const named = typeof text !== 'string' || (text !== '' && problem.includes(`${text} is not`));
      return {
        field: option + field.slice(field.split('.')[0]?.length ?? 0),
        problem: named ? problem : `${problem} (got ${shown(text)})`,
      };
    }),
  );
}

/** An operator's reason (`--reason`), kept with what it explains. */
export const reasonSchema = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(500, 'must be at most 500 characters');

/** Splits a comma-separated option value into its items (`--categories a,b`). */
export function listOf(text: unknown): unknown {
  return typeof text === 'string'
    ? text
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : text;
}

/**
 * A command that only groups others (`merchants`, `policies`, `leases`): its `--help` lists them; on its
 * own, or with a name that is none of them, it says which there are (exit 2).
 */
export function group(program: Command, name: string, summary: string): Command {
  const command = program
    .command(name)
    .description(summary)
    .usage('<command> [options]')
    .argument('[command]')
    .action((given: string | undefined) => {
      const names = command.commands.map((c) => `${name} ${c.name()}`).join(', ');
      throw new InputError(
        `${name}: ${given === undefined ? '' : `unknown command ${JSON.stringify(given)}; `}expected one of: ${names}`,
      );
    });
  return command;
}

/**
 * A summary line of counts, `merchants import: created 2, updated 0, unchanged 5`, that starts with
 * "nothing changed" when every count that is a change (all but `unchanged`) is zero.
 */
export function changeSummary(
  what: string,
  counts: Record<string, number>,
  notChanges: readonly string[] = ['unchanged'],
): string {
  const changed = Object.entries(counts).some(([key, n]) => n > 0 && !notChanges.includes(key));
  const listed = Object.entries(counts)
    .map(([key, n]) => `${key} ${n}`)
    .join(', ');
  return `${what}: ${changed ? '' : 'nothing changed; '}${listed}`;
}

/** Exit code for an error: 2 for bad input, 1 for everything else. */
export function exitCodeOf(error: unknown): number {
  return error instanceof InputError ? EXIT.badInput : EXIT.failed;
}

export function describeError(error: unknown): string {
  if (error instanceof InputError || error instanceof NotFoundError || error instanceof ConflictError) {
    return error.message;
  }
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** How a command's output is printed: JSON (the default, for tools) or, for people, a table. */
export const OUTPUT_FORMATS = ['json', 'table'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** The `--output <json|table>` option of every command that lists things (see outputFormatOf). */
export const outputOption = () =>
  new Option(
    '--output <json|table>',
    'json: one JSON object a line (default); table: aligned columns for people',
  );

/** The `--output` a command was given, validated; json when it was not given. */
export function outputFormatOf(options: Invocation['options']): OutputFormat {
  return (
    parseOptions(
      z.strictObject({
        '--output': z
          .enum(OUTPUT_FORMATS, { error: unlessMissing(`must be ${OUTPUT_FORMATS.join(' or ')}`) })
          .default('json'),
      }),
      { '--output': options.output },
    )['--output'] ?? 'json'
  );
}

export function writeOutput(
  output: unknown,
  stream: Output,
  format: OutputFormat = 'json',
  columns?: readonly string[],
): void {
  if (format === 'table') {
    stream.write(renderTable(output, columns));
  } else if (Array.isArray(output)) {
    for (const item of output) stream.write(`${JSON.stringify(item)}\n`);
  } else if (output !== undefined) {
    stream.write(`${JSON.stringify(output, null, stream.isTTY ? 2 : undefined)}\n`);
  }
}

/**
 * The entries of a JSON file that holds one object or an array of them, and where each is in the
 * file (`[i]` in an array, nothing for a lone object) for naming a field in an error.
 */
export function jsonEntriesIn(path: string): { entries: unknown[]; where: (i: number) => string } {
  if (!existsSync(path)) throw new InputError(`<file.json>: no such file: ${path}`);
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    throw new InputError('<file.json>: not valid JSON');
  }
  if (Array.isArray(value)) return { entries: value, where: (i) => `[${i}]` };
  return { entries: [value], where: () => '' };
}
