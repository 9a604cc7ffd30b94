// What the tests see of real processes, read from /proc on its own (not through the code under test).
import { readdirSync, readFileSync } from 'node:fs';

function stat(pid: number): string[] | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return text.slice(text.lastIndexOf(')') + 2).split(' '); // [state, ppid, …]
  } catch {
    return undefined;
  }
}

/** Whether a process is running (a zombie, dead but not yet reaped, is not). */
export function isRunning(pid: number): boolean {
  const state = stat(pid)?.[0];
  return state !== undefined && state !== 'Z' && state !== 'X';
}

export function parentOf(pid: number): number | undefined {
  const ppid = stat(pid)?.[1];
  return ppid === undefined ? undefined : Number(ppid);
}

/** The running DynamoDB Local JVMs whose data folder is `dbPath`, found by scanning every process. */
export function dynamoDbLocalsOn(dbPath: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    let args: string[];
    try {
      args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    } catch {
      continue; // ended while we looked
    }
    const at = args.indexOf('-dbPath');
    const java = /(^|\/)java$/.test(args[0] ?? ''); // not the guard, whose arguments name the same jar
    if (java && args.some((a) => a.endsWith('DynamoDBLocal.jar')) && at !== -1 && args[at + 1] === dbPath) {
      if (isRunning(pid)) found.push(pid);
    }
  }
  return found;
}

/** Polls until `condition` holds, failing after `timeoutMs`. */
export async function eventually<T>(
  condition: () => T | undefined | false | Promise<T | undefined | false>,
  what: string,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await condition();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
