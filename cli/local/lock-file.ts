// A lock between processes on one machine: a file naming its holder (pid, the holder's start time so
// that a reused pid is not mistaken for it, and a token). It is created whole and atomically (written
// aside, then hard-linked into place), so no one ever reads a half-written lock. A holder killed with
// SIGKILL leaves its file behind; the next process finds the holder gone and takes the lock over.
import { randomUUID } from 'node:crypto';
import { linkSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import type { Log } from '../../shared/deps';
import { sleep } from '../../shared/retry';
import { isStillRunning, processIdentity } from './processes';

export interface HeldLock {
  /** Says the holder is making progress: a waiter gives up only after `idleTimeoutMs` without any. */
  touch(): void;
  /** Removes the lock if it is still ours. */
  release(): void;
}

interface Holder {
  pid: number;
  started: string;
  token: string;
}

export class LockBusyError extends Error {
  override name = 'LockBusyError';
}

export interface LockOptions {
  /** What the holder is doing, for the waiting line: "waiting for process 123, which is <doing>". */
  doing: string;
  log: Log;
  /** Called once per acquisition that has to wait; by default writes the waiting line to `log`. */
  onWait?: (line: string) => void;
  /** How long to wait without a sign of progress from a living holder before giving up. */
  idleTimeoutMs?: number;
  pollMs?: number;
}

/**
 * Takes the lock at `path`, waiting (with one line on stderr) while a living holder has it. A lock whose
 * holder is no longer running is taken over. Throws LockBusyError if the holder shows no progress (its
 * lock untouched) for `idleTimeoutMs` while we wait.
 */
export async function acquireLock(path: string, options: LockOptions): Promise<HeldLock> {
  const idleTimeoutMs = options.idleTimeoutMs ?? 120_000;
  const me: Holder = { pid: process.pid, started: processIdentity(process.pid) ?? '', token: randomUUID() };
  const mine = JSON.stringify(me);
  const waitingSince = Date.now();
  let told = false;
  for (;;) {
    if (tryCreate(path, mine)) return held(path, mine);
    const found = readLock(path);
    if (!found) continue; // released meanwhile
    const holder = parseHolder(found.text);
    if (!holder || !isStillRunning(holder.pid, holder.started)) {
      takeAway(path, found.text);
      continue;
    }
    if (Date.now() > Math.max(waitingSince, found.touchedAt) + idleTimeoutMs) {
      throw new LockBusyError(
        `process ${holder.pid} holds ${path} (${options.doing}) and has shown no progress for ${Math.round(idleTimeoutMs / 1000)} s; see docs/operations.md`,
      );
    }
    const line = `waiting for process ${holder.pid}, which is ${options.doing}`;
    if (!told) (options.onWait ?? ((text) => options.log.warn(text)))(line);
    told = true;
    await sleep(options.pollMs ?? 100);
  }
}

function held(path: string, mine: string): HeldLock {
  const isMine = () => readLock(path)?.text === mine;
  return {
    touch() {
      if (!isMine()) throw new Error(`lost the lock ${path}`);
      const now = new Date();
      utimesSync(path, now, now);
    },
    release() {
      if (isMine()) rmSync(path, { force: true });
    },
  };
}

/** Creates the lock with our content in one step; false if it exists. */
function tryCreate(path: string, content: string): boolean {
  const aside = `${path}.${process.pid}.${randomUUID()}`;
  writeFileSync(aside, content);
  try {
    linkSync(aside, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    rmSync(aside, { force: true });
  }
}

function readLock(path: string): { text: string; touchedAt: number } | undefined {
  try {
    const touchedAt = statSync(path).mtimeMs;
    return { text: readFileSync(path, 'utf8'), touchedAt };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

function parseHolder(text: string): Pick<Holder, 'pid' | 'started'> | undefined {
  try {
    const value = JSON.parse(text) as Partial<Holder>;
    return typeof value.pid === 'number' && typeof value.started === 'string'
      ? { pid: value.pid, started: value.started }
      : undefined;
  } catch {
    return undefined; // not a lock we wrote (locks are never half-written): nobody holds it
  }
}

/**
 * Removes a lock left by a holder that is gone. Moved aside first, so that if another process took
 * it over between our read and now, we see that it is no longer the dead holder's and put it back.
 */
function takeAway(path: string, deadHolders: string): void {
  const aside = `${path}.stale.${process.pid}.${randomUUID()}`;
  try {
    renameSync(path, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  try {
    if (readFileSync(aside, 'utf8') !== deadHolders) linkSync(aside, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    rmSync(aside, { force: true });
  }
}
