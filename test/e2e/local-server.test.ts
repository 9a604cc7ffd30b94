// One DynamoDB Local per home, kept between commands (cli/local/local-server.ts), as real processes
// meet it: the first command starts it and the next reuse it, concurrent first commands end with one,
// `local stop` stops it, it stops itself when idle, and kill -9 of a command, of the JVM, of its
// supervisor, or of both supervisor and guard leaves nothing the next command cannot clean up.
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { processIdentity } from '../../cli/local/processes';
import { type CliResult, runCli, type Started, startCli } from '../support/cli';
import { onHome, useHomes } from '../support/homes';
import { dynamoDbLocalsOn, eventually, isRunning, parentOf } from '../support/processes';
import { sh } from '../support/promotions';

const newHome = useHomes();
const record = (home: string) => join(home, 'local-server.json');

/** The JVMs on the folders of the homes this file made. */
const homesMade: string[] = [];
function home(): string {
  const made = newHome();
  homesMade.push(made);
  return made;
}
function homesJvms(): number[] {
  return homesMade.flatMap((h) => dynamoDbLocalsOn(join(h, 'dynamodb')));
}

/** The home's server as /proc shows it: the JVM, its guard, and the guard's parent, the supervisor. */
async function serverOf(h: string) {
  const jvm = await eventually(() => dynamoDbLocalsOn(join(h, 'dynamodb'))[0], `a JVM for ${h}`);
  const guard = parentOf(jvm) as number;
  const supervisor = parentOf(guard) as number;
  expect(readFileSync(`/proc/${guard}/cmdline`, 'utf8')).toContain('jvm-guard.mjs');
  expect(readFileSync(`/proc/${supervisor}/cmdline`, 'utf8')).toContain('server-supervisor');
  return { jvm, guard, supervisor };
}

/** Runs a command while counting, over and over, the JVMs on the home's folder: the most seen at once. */
async function whileCounting(h: string, started: Started[]): Promise<{ results: CliResult[]; most: number }> {
  let done = false;
  let most = 0;
  const results = Promise.all(started.map((s) => s.result)).finally(() => {
    done = true;
  });
  while (!done) {
    most = Math.max(most, dynamoDbLocalsOn(join(h, 'dynamodb')).length);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return { results: await results, most };
}

const recordMerchant = (h: string, id: string) =>
  runCli(['merchants', 'record', id, '--onboarded-at', '2020-05-06'], onHome(h));

// Each test spawns a few CLI processes and JVMs: generous limits for a busy 2-core machine.
describe("the home's DynamoDB Local, kept between commands", { timeout: 300_000 }, () => {
  it('is started by the first command and reused by the next; `local stop` stops it and waits until it is gone', async () => {
    const h = home();
    expect((await runCli(['local', 'stop'], onHome(h))).json).toEqual([{ stopped: false }]);
    expect((await recordMerchant(h, 'k')).status).toBe(0);
    const first = await serverOf(h);
    expect(isRunning(first.jvm)).toBe(true); // the command has ended; its server has not

    const next = await runCli(['merchant', 'k'], onHome(h));
    expect([next.status, next.json[0]]).toEqual([0, expect.objectContaining({ merchantId: 'k' })]);
    expect(dynamoDbLocalsOn(join(h, 'dynamodb'))).toEqual([first.jvm]); // the same one

    const status = await runCli(['local', 'status'], onHome(h));
    expect(status.json[0]).toMatchObject({ running: true, pid: first.jvm, idleSeconds: 900 });

    const stop = await runCli(['local', 'stop'], onHome(h));
    expect([stop.status, stop.json[0]]).toEqual([
      0,
      { stopped: true, pid: first.jvm, endpoint: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/) },
    ]);
    expect(stop.stderr).toContain(`stopped DynamoDB Local (process ${first.jvm})`);
    // Gone by the time `local stop` has exited: JVM, guard and supervisor, and the record.
    expect([isRunning(first.jvm), isRunning(first.guard), isRunning(first.supervisor)]).toEqual([
      false,
      false,
      false,
    ]);
    expect(existsSync(record(h))).toBe(false);
    const again = await runCli(['local', 'stop'], onHome(h));
    expect([again.status, again.json[0]]).toEqual([0, { stopped: false }]);
    expect((await runCli(['local', 'status'], onHome(h))).json[0]).toEqual({ running: false, home: h });

    // The data stays in the home: a new server serves it.
    const later = await runCli(['merchant', 'k'], onHome(h));
    expect([later.status, (await serverOf(h)).jvm === first.jvm]).toEqual([0, false]);
  });

  it('four first commands at once on a fresh home end with one server, used by all', async () => {
    const h = home();
    const ids = ['c-0', 'c-1', 'c-2', 'c-3'];
    const started = ids.map((id) =>
      startCli(['merchants', 'record', id, '--onboarded-at', '2020-05-06'], onHome(h)),
    );
    const { results, most } = await whileCounting(h, started);
    expect(results.map((r) => r.status)).toEqual([0, 0, 0, 0]);
    expect(most).toBe(1);
    const { jvm } = await serverOf(h);
    // And four reads at once reuse it.
    const reads = await whileCounting(
      h,
      ids.map((id) => startCli(['merchant', id], onHome(h))),
    );
    expect(reads.results.map((r) => [r.status, (r.json[0] as { merchantId?: string })?.merchantId])).toEqual(
      ids.map((id) => [0, id]),
    );
    expect(reads.most).toBe(1);
    expect(dynamoDbLocalsOn(join(h, 'dynamodb'))).toEqual([jvm]);
    const supervisors = readProcs().filter((c) => c.includes('server-supervisor') && c.includes(h));
    expect(supervisors).toHaveLength(1);
  });

  it('a command killed with SIGKILL mid-way leaves the server running; the next reuses it and the state is consistent', async () => {
    const h = home();
    expect((await recordMerchant(h, 'k')).status).toBe(0);
    const { jvm } = await serverOf(h);
    const env = onHome(h, { LEASE_TTL_SECONDS: '3' });
    const started = startCli(['run', 'activate', '--as-of', sh('2020-05-08 00:00')], env);
    await new Promise((resolve) => setTimeout(resolve, 400)); // well inside its start-up and its run
    started.child.kill('SIGKILL');
    await started.result;
    expect(isRunning(jvm)).toBe(true);

    const again = await runCli(['run', 'activate', '--as-of', sh('2020-05-08 00:00')], env);
    expect(again.status).toBe(0); // what the killed run did is not redone; what it left is done now
    const merchant = await runCli(['merchant', 'k'], env);
    expect(merchant.json[0]).toMatchObject({ promotion: { status: 'ACTIVE' } });
    expect(dynamoDbLocalsOn(join(h, 'dynamodb'))).toEqual([jvm]);
    const notices = await runCli(['notices', '--merchant', 'k'], env);
    expect((notices.json as { type: string }[]).map((n) => n.type)).toEqual(['PROMOTION_ACTIVATED']); // once
  });

  it('a JVM killed with SIGKILL: its supervisor removes the record and exits; the next command starts a new one', async () => {
    const h = home();
    expect((await recordMerchant(h, 'k')).status).toBe(0);
    const first = await serverOf(h);
    process.kill(first.jvm, 'SIGKILL');
    await eventually(
      () => !isRunning(first.supervisor) && !existsSync(record(h)),
      'the supervisor to clean up',
    );
    const next = await whileCounting(h, [startCli(['merchant', 'k'], onHome(h))]);
    expect([next.results[0]?.status, next.most]).toEqual([0, 1]);
    expect((await serverOf(h)).jvm).not.toBe(first.jvm);
  });

  it('a supervisor killed with SIGKILL takes its JVM with it (its guard); the next command replaces the server', async () => {
    const h = home();
    expect((await recordMerchant(h, 'k')).status).toBe(0);
    const first = await serverOf(h);
    process.kill(first.supervisor, 'SIGKILL');
    await eventually(() => !isRunning(first.jvm), `JVM ${first.jvm} to end with its supervisor`, 5_000);
    const next = await runCli(['merchant', 'k'], onHome(h));
    expect([next.status, next.stderr]).toEqual([
      0,
      `[warn] replacing DynamoDB Local (process ${first.jvm}) of ${h}: it is no longer running\n`,
    ]);
    expect((await serverOf(h)).jvm).not.toBe(first.jvm);
  });

  it('a JVM whose supervisor and guard were both killed is stopped before a new one starts (with its record or without)', async () => {
    const h = home();
    expect((await recordMerchant(h, 'k')).status).toBe(0);
    const first = await serverOf(h);
    process.kill(first.guard, 'SIGKILL');
    process.kill(first.supervisor, 'SIGKILL');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(isRunning(first.jvm)).toBe(true); // an orphan: nothing of its owner is left to stop it
    const next = await whileCounting(h, [startCli(['merchant', 'k'], onHome(h))]);
    expect([next.results[0]?.status, next.most]).toEqual([0, 1]); // never the orphan and a new JVM at once
    expect(next.results[0]?.stderr).toContain(`replacing DynamoDB Local (process ${first.jvm}) of ${h}`);
    expect(isRunning(first.jvm)).toBe(false);

    // Without a record (it was removed by hand), the orphan is found by its command line.
    const second = await serverOf(h);
    process.kill(second.guard, 'SIGKILL');
    process.kill(second.supervisor, 'SIGKILL');
    rmSync(record(h));
    const third = await whileCounting(h, [startCli(['merchant', 'k'], onHome(h))]);
    expect([third.results[0]?.status, third.most]).toEqual([0, 1]);
    expect(third.results[0]?.stderr).toContain(
      `stopping DynamoDB Local (process ${second.jvm}) left running on ${join(h, 'dynamodb')}`,
    );
    expect(isRunning(second.jvm)).toBe(false);
  });

  it('a record that names processes that are not its server (a live pid of something else) is not used, nor are they stopped', async () => {
    const h = home();
    const me = { pid: process.pid, started: processIdentity(process.pid) ?? '' };
    writeFileSync(
      record(h),
      JSON.stringify({
        pid: me.pid,
        pidStarted: me.started,
        supervisorPid: me.pid,
        supervisorStarted: me.started,
        port: 1,
        endpoint: 'http://127.0.0.1:1',
        dbPath: join(h, 'dynamodb'),
        started: '2020-01-01T00:00:00.000+08:00',
        idleSeconds: 900,
        token: 'not-a-server',
      }),
    );
    const result = await runCli(['merchant', 'k'], onHome(h));
    expect([result.status, result.stderr]).toEqual([1, expect.stringContaining('no merchant k')]); // we are still here
    expect(JSON.parse(readFileSync(record(h), 'utf8')).pid).toBe((await serverOf(h)).jvm);
  });

  it('stops itself after PROMO_JOBS_LOCAL_IDLE_SECONDS with no command using it, removing its record', async () => {
    const h = home();
    const env = onHome(h, { PROMO_JOBS_LOCAL_IDLE_SECONDS: '2' });
    expect((await runCli(['merchants', 'record', 'k', '--onboarded-at', '2020-05-06'], env)).status).toBe(0);
    const { jvm, supervisor } = await serverOf(h);
    // Read at once (another command would take longer than the timeout on a busy machine).
    expect(JSON.parse(readFileSync(record(h), 'utf8'))).toMatchObject({ pid: jvm, idleSeconds: 2 });
    await eventually(() => !isRunning(jvm) && !isRunning(supervisor), 'the idle server to stop', 15_000);
    expect(existsSync(record(h))).toBe(false);
    expect(readFileSync(join(h, 'local-server.log'), 'utf8')).toMatch(
      /stopping: no command used it for \d+ s/,
    );
    const bad = await runCli(['merchant', 'k'], onHome(h, { PROMO_JOBS_LOCAL_IDLE_SECONDS: '0' }));
    expect([bad.status, bad.stderr]).toEqual([
      2,
      expect.stringContaining('PROMO_JOBS_LOCAL_IDLE_SECONDS: must be a whole number of seconds'),
    ]);
    expect(dynamoDbLocalsOn(join(h, 'dynamodb'))).toEqual([]); // the refused command started nothing
  });

  it('`local stop` on every home of this file leaves none of their servers running', async () => {
    for (const h of homesMade) expect((await runCli(['local', 'stop'], onHome(h))).status).toBe(0);
    expect(homesJvms()).toEqual([]);
  });
});

function readProcs(): string[] {
  const found: string[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      found.push(readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' '));
    } catch {
      // ended while we looked
    }
  }
  return found;
}
