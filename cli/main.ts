// Entry point of `npm run --silent jobs -- <command>`.
import { loadConfig } from '../shared/config';
import type { Log } from '../shared/deps';
import { InputError } from '../shared/errors';
import { COMMANDS } from './commands';
import {
  type Command,
  type CommandContext,
  describeError,
  EXIT,
  exitCodeOf,
  helpText,
  type Output,
  parseCommandArgs,
  writeOutput,
} from './framework';
import { homeDirectory, openStore, type Store } from './store';

function overview(commands: Command[]): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'usage: npm run --silent jobs -- <command> [options]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Every command takes --help. JSON goes to stdout, progress and errors to stderr.',
    'Exit codes: 0 ok, 1 failed (unknown merchant, rejected lines, failed items), 2 bad arguments or input.',
    'State: DYNAMODB_ENDPOINT if set, otherwise an embedded DynamoDB Local with its data under',
    'PROMO_JOBS_HOME (default ./.promo-jobs).',
    '',
    'Options before the command:',
    '  --aws               work on the deployed table (standard AWS credential chain; PROMO_JOBS_TARGET=aws)',
    '  --table <name>      the table (TABLE_NAME; default promo-jobs)',
    '  --topic-arn <arn>   publish notices to this SNS topic instead of the local sink (SNS_TOPIC_ARN)',
  ].join('\n');
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

function findCommand(argv: string[]): { command: Command; rest: string[] } | undefined {
  const two = `${argv[0]} ${argv[1]}`;
  const byTwo = COMMANDS.find((c) => c.name === two);
  if (byTwo) return { command: byTwo, rest: argv.slice(2) };
  const byOne = COMMANDS.find((c) => c.name === argv[0]);
  return byOne ? { command: byOne, rest: argv.slice(1) } : undefined;
}

/** Where a command writes: the process's streams, or (in tests) buffers. */
export interface CliIo {
  stdout: Output;
  stderr: Output;
}

export async function main(
  argv: string[],
  env: Record<string, string | undefined> = process.env,
  io: CliIo = { stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
  let parsed: ReturnType<typeof globalOptions>;
  try {
    parsed = globalOptions(argv, env);
  } catch (error) {
    io.stderr.write(`error: ${describeError(error)}\n`);
    return EXIT.badInput;
  }
  return runCommand(parsed.argv, parsed.env, io);
}

/** `--aws`, `--table <name>`, `--topic-arn <arn>` before the command, as environment settings. */
function globalOptions(argv: string[], env: Record<string, string | undefined>) {
  const settings: Record<string, string> = {};
  let i = 0;
  for (; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--aws') settings.PROMO_JOBS_TARGET = 'aws';
    else if (arg === '--table' || arg === '--topic-arn') {
      const value = argv[++i];
      if (value === undefined || value.startsWith('--')) throw new InputError(`${arg}: needs a value`);
      settings[arg === '--table' ? 'TABLE_NAME' : 'SNS_TOPIC_ARN'] = value;
    } else break;
  }
  return { argv: argv.slice(i), env: { ...env, ...settings } };
}

async function runCommand(
  argv: string[],
  env: Record<string, string | undefined>,
  io: CliIo,
): Promise<number> {
  const { stdout, stderr } = io;
  if (argv.length === 0 || argv[0] === 'help' || argv[0] === '--help' || argv[0] === '-h') {
    stdout.write(`${overview(COMMANDS)}\n`);
    return argv.length === 0 ? EXIT.badInput : EXIT.ok;
  }
  const found = findCommand(argv);
  if (!found) {
    const group = COMMANDS.filter((c) => c.name.startsWith(`${argv[0]} `));
    stderr.write(
      group.length > 0
        ? `${argv[0]}: expected one of: ${group.map((c) => c.name).join(', ')}\n`
        : `unknown command ${JSON.stringify(argv[0])}\n\n${overview(COMMANDS)}\n`,
    );
    return EXIT.badInput;
  }
  const { command, rest } = found;
  const log = stderrLog(stderr, env.LOG_LEVEL === 'info' || env.LOG_LEVEL === 'debug');
  let store: Store | undefined;
  try {
    const args = parseCommandArgs(command, rest);
    if (args.help) {
      stdout.write(helpText(command));
      return EXIT.ok;
    }
    const config = loadConfig(env);
    const ctx: CommandContext = {
      config,
      env,
      log,
      stderr,
      progress: (line) => stderr.write(`${line}\n`),
      store: async () => {
        if (!store) {
          store = await openStore(config, homeDirectory(env), log);
          if (store.target === 'aws') stderr.write(`working on the deployed ${store.endpoint}\n`);
        }
        return store;
      },
    };
    let exitCode: number;
    try {
      const result = await command.run(args, ctx);
      writeOutput(result.output, stdout);
      exitCode = result.exitCode ?? EXIT.ok;
    } catch (error) {
      stderr.write(`error: ${describeError(error)}\n`);
      exitCode = exitCodeOf(error);
    }
    // Whatever the command wrote (even if it failed half-way) reaches the merchants before we exit.
    if (store) {
      try {
        const delivered = await store.deliverNotices();
        if (delivered.records > 0) log.info('delivered notices', { ...delivered });
      } catch (error) {
        stderr.write(`error: delivering notices: ${describeError(error)}\n`);
        exitCode ||= EXIT.failed;
      }
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

if (import.meta.url === `file://${process.argv[1]}`) {
  // These machines run Node.js 20 on purpose (see docs/decisions.md); the SDK's notice about it is noise here.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const io = { stdout: quietWhenClosed(process.stdout), stderr: quietWhenClosed(process.stderr) };
  main(process.argv.slice(2), process.env, io).then((code) => {
    process.exitCode = code;
  });
}
