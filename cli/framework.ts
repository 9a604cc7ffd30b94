// A small command framework: argument parsing with node:util parseArgs, --help for every command,
// JSON on stdout, progress and logs on stderr, and exit codes 0 (ok), 1 (failed), 2 (bad input).
import { type ParseArgsConfig, parseArgs } from 'node:util';
import type { AppConfig } from '../shared/config';
import type { Log } from '../shared/deps';
import { ConflictError, InputError, NotFoundError } from '../shared/errors';
import type { Store } from './store';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

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
  /** Opens the store (starting the embedded DynamoDB Local if needed) once per command. */
  store(): Promise<Store>;
}

export interface CommandResult {
  /** One object is printed as JSON; an array as JSON Lines. */
  output: unknown;
  exitCode?: number;
}

export interface Command {
  /** e.g. `merchants import` */
  name: string;
  summary: string;
  /** The full --help text after the usage line. */
  help: string;
  usage: string;
  options?: OptionSpec;
  /** Names of the positional arguments, in order; `?` marks an optional one. */
  positionals?: string[];
  run(
    args: { positionals: string[]; values: Record<string, string | boolean | undefined> },
    ctx: CommandContext,
  ): Promise<CommandResult>;
}

export const EXIT = { ok: 0, failed: 1, badInput: 2 } as const;

export function parseCommandArgs(command: Command, argv: string[]) {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: argv,
      options: { ...command.options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw new InputError(`${(error as Error).message.split('\n')[0]} (see: ${command.name} --help)`);
  }
  if (parsed.values.help) return { help: true as const };
  const names = command.positionals ?? [];
  const required = names.filter((n) => !n.endsWith('?')).length;
  if (parsed.positionals.length < required) {
    throw new InputError(`<${names[parsed.positionals.length]}>: missing (usage: ${command.usage})`);
  }
  if (parsed.positionals.length > names.length) {
    throw new InputError(
      `unexpected argument ${JSON.stringify(parsed.positionals[names.length])} (usage: ${command.usage})`,
    );
  }
  return {
    help: false as const,
    positionals: parsed.positionals,
    values: parsed.values as Record<string, string | boolean | undefined>,
  };
}

export function helpText(command: Command): string {
  return `usage: npm run --silent jobs -- ${command.usage}\n\n${command.summary}\n\n${command.help.trim()}\n`;
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

export function writeOutput(output: unknown, stream: Output): void {
  if (Array.isArray(output)) {
    for (const item of output) stream.write(`${JSON.stringify(item)}\n`);
  } else if (output !== undefined) {
    stream.write(`${JSON.stringify(output, null, stream.isTTY ? 2 : undefined)}\n`);
  }
}

/** Renames the fields named in a validation message, e.g. `asOf:` to `--as-of:`. */
export function renameFields(error: unknown, names: Record<string, string>): unknown {
  if (!(error instanceof InputError)) return error;
  // A field at the start of a problem, possibly with a path below it: `categories.0: …`.
  const message = error.message.replace(
    /(^|; )([A-Za-z]+)([.\w]*):/g,
    (match, sep: string, field: string, path: string) =>
      names[field] ? `${sep}${names[field]}${path}:` : match,
  );
  return new InputError(message);
}
