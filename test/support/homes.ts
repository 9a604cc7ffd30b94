// Scratch homes (PROMO_JOBS_HOME) for tests that run the CLI on its own DynamoDB Local, and the
// cleanup that leaves no server running after the test file: each home's server is stopped, and any
// JVM still on a home's folder (an orphan a failed test was checking for) is killed.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, onTestFinished } from 'vitest';
import { stopLocalServer } from '../../cli/local/local-server';
import { silentLog } from '../../shared/deps';
import { dynamoDbLocalsOn } from './processes';

/** Stops the home's server (as `local stop` does) and kills whatever is left on its folder. */
export async function stopHome(home: string): Promise<void> {
  try {
    await stopLocalServer(home, silentLog);
  } finally {
    for (const pid of dynamoDbLocalsOn(join(home, 'dynamodb'))) process.kill(pid, 'SIGKILL');
  }
}

/**
 * A maker of fresh homes, for use inside tests: each home's server is stopped when its test ends
 * (so a file's servers do not pile up), and again, with anything left, after the file.
 */
export function useHomes(prefix = 'promo-home-'): () => string {
  const homes: string[] = [];
  afterAll(async () => {
    for (const home of homes) await stopHome(home);
  });
  return () => {
    const home = mkdtempSync(join(tmpdir(), prefix));
    homes.push(home);
    onTestFinished(() => stopHome(home));
    return home;
  };
}

/** The environment of a command on a home's own DynamoDB Local (none given from outside). */
export const onHome = (home: string, extra: Record<string, string | undefined> = {}) => ({
  PROMO_JOBS_HOME: home,
  DYNAMODB_ENDPOINT: undefined,
  TABLE_NAME: undefined,
  PROMO_JOBS_LOCAL_IDLE_SECONDS: undefined,
  ...extra,
});
