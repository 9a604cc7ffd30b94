// One DynamoDB Local per home, kept running between commands (docs/decisions.md, "One DynamoDB Local
// per home, kept between commands"). The first command that needs it starts a detached supervisor
// (server-supervisor.ts), which owns the JVM (through jvm-guard.mjs) and records it in
// <home>/local-server.json once it answers; later commands find that record, check that its processes
// are still the ones it names and that the JVM serves this home's folder and answers, and reuse it.
// Every command touches <home>/local-server.used while it runs; the supervisor stops the JVM once that
// file is older than the idle timeout. Starting, replacing and stopping are serialised by
// <home>/local-server.lock, so a home never has two.
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { DateTime } from 'luxon';
import * as z from 'zod';
import type { Log } from '../../shared/deps';
import { InputError } from '../../shared/errors';
import { sleep } from '../../shared/retry';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../shared/store/client';
import { formatInstant } from '../../shared/time';
import { isDynamoDbLocalOn, stopLeftovers } from './dynamodb-local';
import { acquireLock, type HeldLock } from './lock-file';
import { commandLine, isStillRunning, processIdentity, runningProcesses } from './processes';

/** How long a home's server waits, with no command using it, before it stops itself. */
export const DEFAULT_IDLE_SECONDS = 15 * 60;
export const IDLE_SETTING = 'PROMO_JOBS_LOCAL_IDLE_SECONDS';

/** What <home>/local-server.json says about the home's running server. */
export interface ServerRecord {
  /** The JVM's process id, and its start time (processIdentity) so that a reused pid is not it. */
  pid: number;
  pidStarted: string;
  supervisorPid: number;
  supervisorStarted: string;
  port: number;
  endpoint: string;
  dbPath: string;
  /** When it was started (an instant, +08:00). */
  started: string;
  idleSeconds: number;
  /** Names this start: a supervisor removes the record only while it is still its own. */
  token: string;
}

export function serverFiles(home: string) {
  return {
    record: join(home, 'local-server.json'),
    lock: join(home, 'local-server.lock'),
    used: join(home, 'local-server.used'),
    log: join(home, 'local-server.log'),
    dbPath: join(home, 'dynamodb'),
  };
}

/** PROMO_JOBS_LOCAL_IDLE_SECONDS, validated (a whole number of seconds, at least 1). */
export function idleSecondsFrom(env: Record<string, string | undefined>): number {
  const text = env[IDLE_SETTING];
  if (text === undefined || text === '') return DEFAULT_IDLE_SECONDS;
  const parsed = z.coerce
    .number()
    .int()
    .min(1)
    .max(7 * 24 * 3600)
    .safeParse(text);
  if (!parsed.success)
    throw new InputError(`${IDLE_SETTING}: must be a whole number of seconds from 1 to 604800 (got ${text})`);
  return parsed.data;
}

const recordSchema = z.object({
  pid: z.number().int(),
  pidStarted: z.string(),
  supervisorPid: z.number().int(),
  supervisorStarted: z.string(),
  port: z.number().int(),
  endpoint: z.string(),
  dbPath: z.string(),
  started: z.string(),
  idleSeconds: z.number(),
  token: z.string(),
});

export function readServerRecord(home: string): ServerRecord | undefined {
  let text: string;
  try {
    text = readFileSync(serverFiles(home).record, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const parsed = recordSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined; // written whole (aside, then renamed): not ours, nothing runs by it
  }
}

export function writeServerRecord(home: string, record: ServerRecord): void {
  const path = serverFiles(home).record;
  const aside = `${path}.${process.pid}.tmp`;
  writeFileSync(aside, `${JSON.stringify(record, null, 2)}\n`);
  renameSync(aside, path);
}

/** Removes the record if it is still the one with `token` (or any record without a token). */
export function removeServerRecord(home: string, token?: string): void {
  if (token !== undefined && readServerRecord(home)?.token !== token) return;
  rmSync(serverFiles(home).record, { force: true });
}

/** Says a command is using the home's server now (the supervisor's idle clock starts again). */
export function touchUsed(home: string): void {
  const path = serverFiles(home).used;
  const now = new Date();
  try {
    utimesSync(path, now, now);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    writeFileSync(path, '');
  }
}

/** When a command last used the home's server (ms since the epoch), undefined if never. */
export function lastUsed(home: string): number | undefined {
  try {
    return statSync(serverFiles(home).used).mtimeMs;
  } catch {
    return undefined;
  }
}

/**
 * Whether the recorded processes are still running as themselves, and the JVM is DynamoDB Local on
 * this home's folder and the recorded port (not a process that was given a dead one's pid).
 */
export function isRunningServer(record: ServerRecord, home: string): boolean {
  const { dbPath } = serverFiles(home);
  if (record.dbPath !== dbPath) return false;
  if (!isStillRunning(record.pid, record.pidStarted)) return false;
  if (!isStillRunning(record.supervisorPid, record.supervisorStarted)) return false;
  if (!(commandLine(record.supervisorPid) ?? '').includes(` ${record.token} `)) return false;
  const command = commandLine(record.pid) ?? '';
  return isDynamoDbLocalOn(command, dbPath) && command.includes(` -port ${record.port} `);
}

/** Whether DynamoDB Local at `endpoint` answers a request within `timeoutMs`. */
export async function answers(endpoint: string, timeoutMs = 5_000): Promise<boolean> {
  const client = new DynamoDBClient({
    endpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    maxAttempts: 1,
  });
  try {
    await client.send(new ListTablesCommand({ Limit: 1 }), { abortSignal: AbortSignal.timeout(timeoutMs) });
    return true;
  } catch {
    return false;
  } finally {
    client.destroy();
  }
}

/** The home's server lock; a wait is reported only if it lasts (most are a few milliseconds). */
async function lockServer(home: string, doing: string, log: Log): Promise<HeldLock> {
  let pending: NodeJS.Timeout | undefined;
  try {
    return await acquireLock(serverFiles(home).lock, {
      doing,
      log,
      onWait: (line) => {
        pending = setTimeout(() => log.warn(line), 1_000);
      },
    });
  } finally {
    clearTimeout(pending);
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
 * Stops a recorded server and waits until its JVM and supervisor are gone: SIGTERM to the supervisor
 * (which stops the JVM), then SIGKILL to both if they are still there after 5 s. Caller holds the lock.
 * Only processes that are what the record says are signalled: the supervisor by its command line
 * (which holds the record's token), the JVM as DynamoDB Local on the record's folder, each still
 * running as itself (its start time); a record naming anything else names nothing of ours.
 */
async function stopRecorded(record: ServerRecord): Promise<void> {
  const supervisor = () =>
    isStillRunning(record.supervisorPid, record.supervisorStarted) &&
    (commandLine(record.supervisorPid) ?? '').includes(` ${record.token} `);
  const jvm = () =>
    isStillRunning(record.pid, record.pidStarted) &&
    isDynamoDbLocalOn(commandLine(record.pid) ?? '', record.dbPath);
  const signal = (which: 'supervisor' | 'jvm', name: NodeJS.Signals) => {
    if (!(which === 'supervisor' ? supervisor() : jvm())) return;
    try {
      process.kill(which === 'supervisor' ? record.supervisorPid : record.pid, name);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
    }
  };
  const gone = () => !supervisor() && !jvm();
  if (supervisor()) signal('supervisor', 'SIGTERM');
  else signal('jvm', 'SIGTERM');
  if (await until(gone, 5_000)) return;
  signal('supervisor', 'SIGKILL');
  signal('jvm', 'SIGKILL');
  if (!(await until(gone, 10_000)))
    throw new Error(`DynamoDB Local (process ${record.pid}) of ${dirname(record.dbPath)} does not stop`);
}

/** How the supervisor is run: the bundle's own copy, or the TypeScript source under tsx. */
declare const __PROMO_JOBS_BUNDLE__: boolean | undefined;
function supervisorCommand(): string[] {
  if (typeof __PROMO_JOBS_BUNDLE__ !== 'undefined' && __PROMO_JOBS_BUNDLE__)
    return [fileURLToPath(new URL('./server-supervisor.mjs', import.meta.url))];
  const tsx = join(dirname(createRequire(import.meta.url).resolve('tsx/package.json')), 'dist/loader.mjs');
  return [
    '--import',
    pathToFileURL(tsx).href,
    fileURLToPath(new URL('./server-supervisor.ts', import.meta.url)),
  ];
}

function tail(path: string): string {
  try {
    return readFileSync(path, 'utf8').slice(-4000).trim();
  } catch {
    return '';
  }
}

/** Starts the home's server (the caller holds the lock and found none running) and waits for its record. */
async function startServer(home: string, idleSeconds: number): Promise<ServerRecord> {
  const files = serverFiles(home);
  mkdirSync(files.dbPath, { recursive: true });
  const token = randomUUID();
  const out = openSync(files.log, 'w');
  let child: ReturnType<typeof spawn>;
  try {
    child = spawn(process.execPath, [...supervisorCommand(), home, token, String(idleSeconds)], {
      cwd: home,
      detached: true, // its own session: it outlives this command and no terminal signal reaches it
      stdio: ['ignore', out, out],
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    });
  } finally {
    closeSync(out);
  }
  child.unref();
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  child.once('error', () => {
    exited = true;
  });
  const deadline = Date.now() + 60_000;
  for (;;) {
    const record = readServerRecord(home);
    if (record?.token === token) return record;
    if (exited) throw new Error(`DynamoDB Local for ${home} did not start:\n${tail(files.log)}`);
    if (Date.now() > deadline) {
      if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL'); // its guard takes the JVM with it
      throw new Error(`DynamoDB Local for ${home} did not start within 60 s:\n${tail(files.log)}`);
    }
    await sleep(25);
  }
}

/**
 * The home's running server, started if there is none: reused if its record names processes that
 * still run as themselves, a JVM on this home's folder that answers; otherwise replaced (the record's
 * processes stopped, any other JVM on the folder stopped as a leftover) by a new one.
 */
export async function ensureLocalServer(
  home: string,
  options: { log: Log; idleSeconds: number },
): Promise<ServerRecord> {
  const { log } = options;
  mkdirSync(home, { recursive: true });
  const lock = await lockServer(home, `starting the DynamoDB Local of ${home}`, log);
  try {
    const found = readServerRecord(home);
    if (found && isRunningServer(found, home)) {
      touchUsed(home); // under the lock: an idle supervisor that takes it next sees this use
      if (await answers(found.endpoint)) return found;
      log.warn(`replacing DynamoDB Local (process ${found.pid}) of ${home}: it does not answer`);
      await stopRecorded(found);
    } else if (found) {
      log.warn(`replacing DynamoDB Local (process ${found.pid}) of ${home}: it is no longer running`);
      await stopRecorded(found); // what is left of it (a supervisor without its JVM, or the reverse)
    }
    removeServerRecord(home);
    await stopLeftovers(serverFiles(home).dbPath, log);
    const started = await startServer(home, options.idleSeconds);
    touchUsed(home);
    return started;
  } finally {
    lock.release();
  }
}

/** The JVMs running on a folder, with the port each was started with. */
function jvmsOn(dbPath: string): { pid: number; port: number | undefined }[] {
  return runningProcesses()
    .filter(({ command }) => isDynamoDbLocalOn(command, dbPath))
    .map(({ pid, command }) => {
      const port = / -port (\d+) /.exec(command)?.[1];
      return { pid, port: port === undefined ? undefined : Number(port) };
    });
}

export type StopOutcome = { stopped: true; pid: number; endpoint: string } | { stopped: false };

/**
 * Stops the home's server and waits until it is gone (`local stop`). A JVM left on the home's folder
 * without a record (its supervisor and guard killed) is stopped too.
 */
export async function stopLocalServer(home: string, log: Log): Promise<StopOutcome> {
  if (!existsSync(home)) return { stopped: false };
  const lock = await lockServer(home, `stopping the DynamoDB Local of ${home}`, log);
  try {
    const found = readServerRecord(home);
    let outcome: StopOutcome = { stopped: false };
    if (found) {
      if (isRunningServer(found, home)) outcome = { stopped: true, pid: found.pid, endpoint: found.endpoint };
      removeServerRecord(home);
      await stopRecorded(found);
    }
    const { dbPath } = serverFiles(home);
    for (const leftover of jvmsOn(dbPath)) {
      if (!outcome.stopped)
        outcome = { stopped: true, pid: leftover.pid, endpoint: `http://127.0.0.1:${leftover.port ?? '?'}` };
    }
    await stopLeftovers(dbPath, log);
    return outcome;
  } finally {
    lock.release();
  }
}

export interface ServerStatus {
  running: boolean;
  home: string;
  pid?: number;
  endpoint?: string;
  started?: string;
  lastUsed?: string;
  idleSeconds?: number;
  /** When it stops itself if no command uses it before. */
  stopsAfter?: string;
}

/** An instant (ms since the epoch) as the CLI prints instants: ISO 8601, Asia/Shanghai's +08:00. */
export const shownAt = (ms: number) => formatInstant(DateTime.fromMillis(ms));

/** What runs for the home (`local status`); it does not count as a use. */
export function localServerStatus(home: string): ServerStatus {
  const found = readServerRecord(home);
  if (!found || !isRunningServer(found, home)) return { running: false, home };
  const used = lastUsed(home) ?? Date.parse(found.started);
  return {
    running: true,
    home,
    pid: found.pid,
    endpoint: found.endpoint,
    started: found.started,
    lastUsed: shownAt(used),
    idleSeconds: found.idleSeconds,
    stopsAfter: shownAt(used + found.idleSeconds * 1000),
  };
}

/** The supervisor takes the lock as a command does, and names itself the same way. */
export { lockServer, processIdentity };
