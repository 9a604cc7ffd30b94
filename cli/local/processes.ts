// What the CLI needs to know about other processes on this machine: whether one is still running (and
// is still the same process, not a new one that was given a dead one's pid), and which are running.
// Linux answers both from /proc; elsewhere a live pid is taken at its word and `ps` lists the processes.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';

const hasProc = existsSync('/proc/self/stat');

/**
 * What tells this run of process `pid` from a later one given the same pid: its start time (in clock
 * ticks since boot, from /proc), '' where /proc is missing; undefined if no such process is running
 * (a zombie counts as gone).
 */
export function processIdentity(pid: number): string | undefined {
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  if (!hasProc) return isSignalable(pid) ? '' : undefined;
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // `pid (comm) state ppid … starttime …`: comm may hold spaces and parentheses, so count from the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  if (fields[0] === 'Z' || fields[0] === 'X') return undefined;
  return fields[19]; // field 22 of proc(5), the 20th after comm
}

/** Whether a process that was `identity` (from processIdentity) is still running as itself. */
export function isStillRunning(pid: number, identity: string): boolean {
  const now = processIdentity(pid);
  return now !== undefined && (identity === '' || now === '' || now === identity);
}

/** Every running process with its command line (arguments joined by spaces). */
export function runningProcesses(): { pid: number; command: string }[] {
  if (!hasProc) {
    return execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' })
      .split('\n')
      .map((line) => /^\s*(\d+)\s+(.*)$/.exec(line))
      .filter((match) => match !== null)
      .map((match) => ({ pid: Number(match[1]), command: String(match[2]) }));
  }
  const found: { pid: number; command: string }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const command = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ').trim();
      if (command) found.push({ pid: Number(entry), command }); // a zombie's is empty
    } catch {
      // ended while we looked
    }
  }
  return found;
}

function isSignalable(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'; // running, as another user
  }
}

/** A running process's command line (arguments joined by spaces), undefined if it is not running. */
export function commandLine(pid: number): string | undefined {
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  if (!hasProc) return runningProcesses().find((p) => p.pid === pid)?.command;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim() || undefined;
  } catch {
    return undefined;
  }
}
