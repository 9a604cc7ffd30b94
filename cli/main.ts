// Entry point of `npm run --silent jobs -- <command>`: commander parses the arguments (exit 2 on
// anything it refuses), then the chosen command runs with a store opened for it.
import { Command, CommanderError, Help } from 'commander';
import { loadConfig } from '../shared/config';
import type { Log } from '../shared/deps';
import { defineCommands } from './commands';
import {
  type CommandContext,
  chosenCommand,
  describeError,
  EXIT,
  exitCodeOf,
  type Invocation,
  type Output,
  outputFormatOf,
  type Run,
  writeOutput,
} from './framework';
import { idleSecondsFrom } from './local/local-server';
import { homeDirectory, openStore, type Store } from './store';

/** Where a command writes: the process's streams, or (in tests) buffers. */
export interface CliIo {
  stdout: Output;
  stderr: Output;
}

/** The overview (`help`, `--help`): every command by its full name, one line each. */
function overview(program: Command, helper: Help): string {
  const leaves = program.commands
    .filter((c) => c.name() !== 'help')
    .flatMap((c) =>
      c.commands.length > 0
        ? [
            // A command with subcommands that is no mere group (`notices` beside `notices resend`) is one too.
            ...(c.registeredArguments[0]?.name() === 'command'
              ? []
              : [{ name: c.name(), summary: c.description() }]),
            ...c.commands.map((sub) => ({ name: `${c.name()} ${sub.name()}`, summary: sub.description() })),
          ]
        : [{ name: c.name(), summary: c.description() }],
    );
  const width = Math.max(...leaves.map((c) => c.name.length));
  const options = program.options.map((o) => ({ term: helper.optionTerm(o), text: o.description }));
  const optionWidth = Math.max(...options.map((o) => o.term.length));
  return [
    `usage: ${program.name()} <command> [options]`,
    '',
    'Commands:',
    ...leaves.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Every command takes --help. JSON goes to stdout, progress and errors to stderr.',
    'Exit codes: 0 ok, 1 failed (unknown merchant, rejected lines, failed items), 2 bad arguments or input.',
    "State: DYNAMODB_ENDPOINT if set, otherwise the home's own DynamoDB Local with its data under",
    'PROMO_JOBS_HOME (default ./.promo-jobs), kept running between commands: "local stop" stops it,',
    'and it stops itself after PROMO_JOBS_LOCAL_IDLE_SECONDS (default 900) unused.',
    '',
    'Options before the command:',
    ...options.map((o) => `  ${o.term.padEnd(optionWidth)}  ${o.text}`),
    '',
  ].join('\n');
}

function createProgram(io: CliIo): Command {
  const program = new Command('npm run --silent jobs --')
    .enablePositionalOptions() // the global options come before the command
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    })
    .configureHelp({
      styleTitle: (title) => (title === 'Usage:' ? 'usage:' : title),
      formatHelp: (cmd, helper) =>
        cmd.parent ? Help.prototype.formatHelp.call(helper, cmd, helper) : overview(cmd, helper),
    })
    .showSuggestionAfterError()
    .allowExcessArguments() // refused by runs(), naming the argument
    .option('--aws', 'work on the deployed table (standard AWS credential chain; PROMO_JOBS_TARGET=aws)')
    .option('--table <name>', 'the table (TABLE_NAME; default promo-jobs)')
    .option(
      '--topic-arn <arn>',
      'publish notices to this SNS topic instead of the local sink (SNS_TOPIC_ARN)',
    );
  defineCommands(program);
  return program;
}

/** The global options, as the environment settings they stand for. */
function globalSettings(program: Command): Record<string, string> {
  const { aws, table, topicArn } = program.opts<{ aws?: boolean; table?: string; topicArn?: string }>();
  return {
    ...(aws ? { PROMO_JOBS_TARGET: 'aws' } : {}),
    ...(table !== undefined ? { TABLE_NAME: table } : {}),
    ...(topicArn !== undefined ? { SNS_TOPIC_ARN: topicArn } : {}),
  };
}

function stderrLog(stderr: Output, verbose: boolean): Log {
  const line = (level: string, message: string, attributes?: Record<string, unknown>) =>
    stderr.write(`[${level}] ${message}${attributes ? ` ${JSON.stringify(attributes)}` : ''}\n`);
  return {
    info: (m, a) => verbose && line('info', m, a),
    warn: (m, a) => line('warn', m, a),
    error: (m, a) => line('error', m, a),
  };
}

export async function main(
  argv: string[],
  env: Record<string, string | undefined> = process.env,
  io: CliIo = { stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
  const program = createProgram(io);
  if (argv.length === 0) {
    io.stdout.write(program.helpInformation());
    return EXIT.badInput;
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (error) {
    if (!(error instanceof CommanderError)) {
      io.stderr.write(`error: ${describeError(error)}\n`);
      return exitCodeOf(error);
    }
    // commander has printed its message (or the help) already; help that was asked for is a success.
    const helpAsked =
      error.code === 'commander.helpDisplayed' || (error.code === 'commander.help' && error.exitCode === 0);
    return helpAsked ? EXIT.ok : EXIT.badInput;
  }
  const chosen = chosenCommand(program);
  if (!chosen) return EXIT.badInput; // commander always runs an action or refuses: not reached
  return runCommand(chosen.run, chosen.input, { ...env, ...globalSettings(program) }, io);
}

async function runCommand(
  run: Run,
  input: Invocation,
  env: Record<string, string | undefined>,
  io: CliIo,
): Promise<number> {
  const { stdout, stderr } = io;
  const log = stderrLog(stderr, env.LOG_LEVEL === 'info' || env.LOG_LEVEL === 'debug');
  let store: Store | undefined;
  try {
    const config = loadConfig(env);
    const ctx: CommandContext = {
      config,
      env,
      log,
      stderr,
      progress: (line) => stderr.write(`${line}\n`),
      emit: (value) => stdout.write(`${JSON.stringify(value)}\n`),
      store: async () => {
        if (!store) {
          store = await openStore(config, homeDirectory(env), log, { idleSeconds: idleSecondsFrom(env) });
          if (store.target === 'aws') stderr.write(`working on the deployed ${store.endpoint}\n`);
        }
        return store;
      },
    };
    let exitCode: number;
    let summary: string | undefined;
    try {
      const format = outputFormatOf(input.options);
      const result = await run(input, ctx);
      writeOutput(result.output, stdout, format, result.columns);
      exitCode = result.exitCode ?? EXIT.ok;
      summary = result.summary;
    } catch (error) {
      stderr.write(`error: ${describeError(error)}\n`);
      exitCode = exitCodeOf(error);
    }
    // Whatever the command wrote (even if it failed half-way) reaches the merchants before we exit.
    let noticesSent = 0;
    if (store) {
      try {
        const delivered = await store.deliverNotices();
        if (delivered.records > 0) log.info('delivered notices', { ...delivered });
        noticesSent = Object.values(delivered.notices).reduce((sum, n) => sum + n, 0);
      } catch (error) {
        stderr.write(`error: delivering notices: ${describeError(error)}\n`);
        exitCode ||= EXIT.failed;
      }
    }
    if (summary !== undefined) {
      const delivered = noticesSent === 1 ? '; 1 notice delivered' : `; ${noticesSent} notices delivered`;
      stderr.write(`${summary}${noticesSent > 0 ? delivered : ''}\n`);
    }
    return exitCode;
  } catch (error) {
    stderr.write(`error: ${describeError(error)}\n`);
    return exitCodeOf(error);
  } finally {
    await store?.close();
  }
}

/**
 * The process's stdout or stderr, but once its reader has gone (`… | head -1`: EPIPE) further writes
 * are dropped, as Unix tools stop writing, instead of crashing with an unhandled 'error' event. The
 * command itself carries on to its end (a job is not left half-run) and exits with its own status.
 */
function quietWhenClosed(stream: NodeJS.WriteStream): Output {
  let closed = false;
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE' || closed) closed = true;
    else throw error;
  });
  return {
    write: (text: string) => closed || stream.destroyed || stream.write(text),
    get isTTY() {
      return stream.isTTY;
    },
  };
}

/** Runs the command line this process was started with, and exits with its status. */
export function runFromShell(): void {
  // These machines run Node.js 20 on purpose (see docs/decisions.md); the SDK's notice about it is noise here.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const io = { stdout: quietWhenClosed(process.stdout), stderr: quietWhenClosed(process.stderr) };
  main(process.argv.slice(2), process.env, io).then((code) => {
    process.exitCode = code;
  });
}

// Run directly (`tsx cli/main.ts …`); `npm run jobs` runs it from a bundle through cli/launch.mjs.
if (import.meta.url === `file://${process.argv[1]}`) runFromShell();
