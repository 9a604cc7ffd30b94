// The lock between processes (the CLI's home and delivery locks): waiting, one waiting line, take-over
// of a lock whose holder died or whose pid now belongs to someone else, giving up on a stalled holder.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { acquireLock, LockBusyError, type LockOptions } from '../../cli/local/lock-file';
import { processIdentity } from '../../cli/local/processes';
import { silentLog } from '../../shared/deps';
import { TSX } from '../support/cli';

const lockPath = () => join(mkdtempSync(join(tmpdir(), 'lock-test-')), 'the.lock');
const watched = () => {
  const lines: string[] = [];
  const options: LockOptions = { doing: 'testing', log: silentLog, onWait: (l) => lines.push(l), pollMs: 5 };
  return { lines, options };
};
const settled = async (promise: Promise<unknown>) => {
  let done = false;
  promise.then(
    () => (done = true),
    () => (done = true),
  );
  await new Promise((resolve) => setTimeout(resolve, 100));
  return done;
};

describe('acquireLock', () => {
  it('waits while a living holder has the lock, with one line, and takes it once released', async () => {
    const path = lockPath();
    const first = await acquireLock(path, watched().options);
    const { lines, options } = watched();
    const second = acquireLock(path, options);
    expect(await settled(second)).toBe(false);
    expect(await settled(second)).toBe(false);
    expect(lines).toEqual([`waiting for process ${process.pid}, which is testing`]);
    first.release();
    const held = await second;
    expect(JSON.parse(readFileSync(path, 'utf8'))).toMatchObject({ pid: process.pid });
    held.release();
    expect(() => readFileSync(path)).toThrow(/ENOENT/);
  });

  it('takes over at once a lock whose holder was killed with SIGKILL', async () => {
    const path = lockPath();
    const holder = spawn(TSX, ['test/support/hold-lock.ts', path], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise((resolve) => holder.stdout.once('data', resolve));
    expect(JSON.parse(readFileSync(path, 'utf8')).pid).not.toBe(process.pid);
    const killed = new Promise((resolve) => holder.once('exit', resolve));
    // tsx runs the script in a child process: kill that one, the real holder.
    const holderPid = JSON.parse(readFileSync(path, 'utf8')).pid as number;
    process.kill(holderPid, 'SIGKILL');
    await killed;
    const { lines, options } = watched();
    (await acquireLock(path, { ...options, idleTimeoutMs: 2_000 })).release(); // fails fast if it waits
    expect(lines).toEqual([]);
  });

  it('takes over a lock naming a pid that now belongs to another process (pid reuse)', async () => {
    const path = lockPath();
    const living = process.ppid;
    expect(processIdentity(living)).toBeDefined();
    writeFileSync(path, JSON.stringify({ pid: living, started: 'not-its-start-time', token: 'x' }));
    const { lines, options } = watched();
    (await acquireLock(path, { ...options, idleTimeoutMs: 2_000 })).release();
    expect(lines).toEqual([]);
    // The same pid with its real start time is a living holder: that one is waited for.
    writeFileSync(path, JSON.stringify({ pid: living, started: processIdentity(living), token: 'x' }));
    const waiting = acquireLock(path, watched().options);
    expect(await settled(waiting)).toBe(false);
    rmSync(path);
    (await waiting).release();
  });

  it('gives up on a living holder that shows no progress; one that touches its lock is waited for', async () => {
    const path = lockPath();
    const holder = await acquireLock(path, watched().options);
    await expect(acquireLock(path, { ...watched().options, idleTimeoutMs: 0 })).rejects.toThrow(
      LockBusyError,
    );
    const future = new Date(Date.now() + 3_600_000);
    utimesSync(path, future, future); // as if it had just been touched, for the next hour
    const waiting = acquireLock(path, { ...watched().options, idleTimeoutMs: 0 });
    expect(await settled(waiting)).toBe(false);
    holder.release();
    (await waiting).release();
  });

  it('a holder whose lock was taken over neither removes nor touches the new holder’s lock', async () => {
    const path = lockPath();
    const held = await acquireLock(path, watched().options);
    const theirs = JSON.stringify({
      pid: process.pid,
      started: processIdentity(process.pid),
      token: 'theirs',
    });
    writeFileSync(path, theirs);
    expect(() => held.touch()).toThrow(/lost the lock/);
    held.release();
    expect(readFileSync(path, 'utf8')).toBe(theirs);
  });
});
