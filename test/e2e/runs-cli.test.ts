// `runs list`, `runs show`, `run --now` and resumable backfills as an operator runs them: through the
// CLI's own main (and, for the kill, a real process killed with SIGKILL mid-backfill, then the same
// command again), against DynamoDB Local.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DateTime } from 'luxon';
import { beforeEach, describe, expect, it } from 'vitest';
import type { CommandContext } from '../../cli/framework';
import { runFromCli } from '../../cli/run/run-job';
import type { Store } from '../../cli/store';
import { loadConfig } from '../../shared/config';
import { silentLog } from '../../shared/deps';
import { latestOccurrence } from '../../shared/jobs/input';
import type { RunReport } from '../../shared/jobs/run';
import { merchantRecordSchema, recordMerchants } from '../../shared/merchants/record';
import { listRuns } from '../../shared/store/job-runs';
import { daysBetween, parseInstant } from '../../shared/time';
import { cliOn, startCli } from '../support/cli';
import { TEST_TABLE, useLocalDynamo } from '../support/dynamo';
import { sh } from '../support/promotions';

const db = useLocalDynamo();
beforeEach(() => db.reset());

/** A command context as main builds one, on the test's table, with the run's clock and stderr given. */
function contextWith(clock: () => DateTime, stderr: { isTTY?: boolean } = {}) {
  const out: unknown[] = [];
  let err = '';
  const deps = db.deps({ clock });
  const ctx: CommandContext = {
    config: loadConfig({ TABLE_NAME: TEST_TABLE, LEASE_TTL_SECONDS: '3' }),
    env: {},
    log: silentLog,
    stderr: { write: (text: string) => (err += text), ...stderr },
    progress: (line) => {
      err += `${line}\n`;
    },
    emit: (value) => out.push(value),
    store: async () => ({ deps }) as Store,
  };
  return { ctx, out: () => out as RunReport[], err: () => err };
}

describe('runs list and runs show', () => {
  const { cli } = cliOn(db, TEST_TABLE);

  it('lists the recorded runs with their fields, filtered by job and Asia/Shanghai days; shows one with its failures', async () => {
    await cli('merchants', 'record', 'merchant-a', '--onboarded-at', '2020-05-06');
    const range = await cli('run', 'activate', '--from', '2020-05-07', '--to', '2020-05-09');
    expect(range.stderr).toMatch(
      /^run activate 2020-05-07 … 2020-05-09: 3 of 3 days run; changed 1 \(ACTIVE 1\); 1 notice delivered$/m,
    );
    const one = await cli('run', 'expire', '--as-of', '2020-05-08T23:59:00+08:00');
    expect(one.stderr.trim().split('\n').at(-1)).toBe(
      `run expire as of ${sh('2020-05-08 23:59')}: nothing changed`,
    );

    const all = await cli('runs', 'list');
    expect(all.status).toBe(0);
    expect(all.json.map((r) => `${(r as RunReport).asOf.slice(0, 16)} ${(r as RunReport).job}`)).toEqual([
      '2020-05-07T00:00 activate',
      '2020-05-08T00:00 activate',
      '2020-05-08T23:59 expire',
      '2020-05-09T00:00 activate',
    ]);
    const activated = all.json[1] as Record<string, unknown>;
    expect(activated).toMatchObject({
      job: 'activate',
      asOf: sh('2020-05-08 00:00'),
      complete: true,
      examined: 1,
      changed: 1,
      failed: 0,
      attempts: 1,
    });
    const started = parseInstant(activated.startedAt as string);
    const finished = parseInstant(activated.finishedAt as string);
    expect(Math.abs(started.diffNow().as('minutes'))).toBeLessThan(10); // the run's own wall clock
    expect(activated.durationMs).toBe(finished.toMillis() - started.toMillis());
    expect(activated.duration).toMatch(/^PT(\d+M)?\d+(\.\d+)?S$/);

    expect((await cli('runs', 'list', '--job', 'expire')).json).toHaveLength(1);
    const day = await cli('runs', 'list', '--from', '2020-05-08', '--to', '2020-05-08');
    expect(day.json.map((r) => (r as RunReport).asOf)).toEqual([
      sh('2020-05-08 00:00'),
      sh('2020-05-08 23:59'),
    ]);
    const table = await cli('runs', 'list', '--job', 'activate', '--output', 'table');
    expect(table.stdout.split('\n')[0]).toMatch(
      /^job +asOf +complete +examined +changed +failed +startedAt +finishedAt +duration +attempts$/,
    );
    expect(table.stdout.trim().split('\n')).toHaveLength(4);

    // Any offset names the same run; a day names the job's scheduled occurrence that day.
    const shown = await cli('runs', 'show', 'activate', '2020-05-07T16:00:00Z');
    expect([shown.status, shown.json[0]]).toEqual([
      0,
      { ...activated, transitions: { ACTIVE: 1 }, failures: [] },
    ]);
    expect((await cli('runs', 'show', 'expire', '2020-05-08')).json[0]).toMatchObject({
      asOf: sh('2020-05-08 23:59'),
    });
    const none = await cli('runs', 'show', 'activate', '2020-05-10T00:00:00+08:00');
    expect([none.status, none.stdout, none.stderr]).toEqual([
      1,
      '',
      `error: no run of activate as of ${sh('2020-05-10 00:00')}\n`,
    ]);
  });

  it('shows the failed items and their errors as the report records them', async () => {
    const { recordRun } = await import('../../shared/store/job-runs');
    await recordRun(db.deps(), {
      job: 'expire',
      asOf: sh('2020-06-06 23:59'),
      report: {
        examined: 2,
        changed: 1,
        alreadyDone: 0,
        failed: 1,
        transitions: { EXPIRED: 1 },
        failures: [{ merchantId: 'merchant-b', error: 'ProvisionedThroughputExceededException: slow down' }],
        complete: true,
      },
    });
    const shown = await cli('runs', 'show', 'expire', '2020-06-06T23:59:00+08:00');
    expect(shown.json[0]).toMatchObject({
      failed: 1,
      complete: true,
      startedAt: null,
      duration: null,
      failures: [{ merchantId: 'merchant-b', error: 'ProvisionedThroughputExceededException: slow down' }],
    });
  });

  it.each([
    [
      ['runs', 'list', '--job', 'publish'],
      /^error: --job: must be one of activate, expire, cart-policies \(got publish\)$/m,
    ],
    [['runs', 'list', '--from', '2020-13-01'], /^error: --from: must be a calendar date/m],
    [
      ['runs', 'list', '--from', '2020-05-09', '--to', '2020-05-08'],
      /^error: --to: must be on or after --from/m,
    ],
    [['runs', 'list', '--output', 'yaml'], /^error: --output: must be json or table/m],
    [['runs', 'show', 'activate', '2020-05-08T00:00:00'], /^error: <asOf>: /m],
    [['runs', 'show', 'activate'], /missing required argument 'asOf'/],
    [
      ['run', 'activate', '--now', '--as-of', '2020-05-08T00:00:00Z'],
      /option '--now' cannot be used with option '--as-of/,
    ],
    [
      ['run', 'activate', '--now', '--from', '2020-05-08', '--to', '2020-05-09'],
      /option '--now' cannot be used with option '--from/,
    ],
  ])('%j exits 2 naming the option', async (args, message) => {
    const r = await cli(...args);
    expect([r.status, r.stdout]).toEqual([2, '']);
    expect(r.stderr).toMatch(message);
  });
});

describe('run --now', () => {
  const { cli } = cliOn(db, TEST_TABLE);

  it('runs the latest scheduled occurrence at or before the run’s own clock, and says which', async () => {
    await recordMerchants(db.deps(), [
      merchantRecordSchema.parse({ merchantId: 'm', onboardedAt: '2020-05-06' }),
    ]);
    // 00:30 on 05-08 in Shanghai (16:30 UTC the day before): activate's 00:00 has fired that day.
    const early = contextWith(() => DateTime.fromISO('2020-05-07T16:30:00Z'));
    expect((await runFromCli(early.ctx, 'expire', { kind: 'now', dryRun: false })).exitCode).toBe(0);
    expect(early.out().map((r) => r.asOf)).toEqual([sh('2020-05-07 23:59')]); // expire's latest: the evening before
    const now = contextWith(() => DateTime.fromISO('2020-05-07T16:30:00Z'));
    const ran = await runFromCli(now.ctx, 'activate', { kind: 'now', dryRun: false });
    expect(now.out()).toMatchObject([{ asOf: sh('2020-05-08 00:00'), dryRun: false, changed: 1 }]);
    expect(now.err()).toMatch(
      /^run activate --now: its latest scheduled occurrence at or before now \(2020-05-08T00:30:00.000\+08:00\) is 2020-05-08T00:00:00.000\+08:00$/m,
    );
    expect(ran.summary).toBe(`run activate as of ${sh('2020-05-08 00:00')}: changed 1 (ACTIVE 1)`);
    expect(
      (await listRuns(db.deps(), 'activate', sh('2020-05-08 00:00'), sh('2020-05-08 00:00')))[0]?.report,
    ).toMatchObject({
      changed: 1,
    });

    // Through the CLI, by the wall clock: the occurrence the clock gives (either side of a boundary).
    const before = latestOccurrence('cart-policies', DateTime.now());
    const dry = await cli('run', 'cart-policies', '--now', '--dry-run');
    const after = latestOccurrence('cart-policies', DateTime.now());
    expect(dry.status).toBe(0);
    expect([before, after]).toContain((dry.json[0] as RunReport).asOf);
    expect(dry.json).toMatchObject([{ dryRun: true }]);
    expect(dry.stderr).toMatch(/its latest scheduled occurrence at or before now .* is /);
  });
});

describe('a backfill’s progress on stderr', () => {
  it('on a terminal, a progress bar (cli-progress) instead of a line per day; otherwise plain lines', async () => {
    const clock = () => DateTime.fromISO('2026-11-25T10:00:00+08:00');
    const tty = contextWith(clock, { isTTY: true });
    await runFromCli(tty.ctx, 'cart-policies', {
      kind: 'range',
      from: '2020-01-01',
      to: '2020-01-30',
      dryRun: false,
    });
    expect(tty.out()).toHaveLength(30);
    expect(tty.err()).toMatch(/cart-policies \[[=-]{30}\] 30\/30 days \| 2020-01-30 \| changed 0/);
    expect(tty.err()).not.toMatch(/as of 2020-01-10T00:00:00.000\+08:00: examined/);
    const plain = contextWith(clock);
    const dryRun = await runFromCli(plain.ctx, 'cart-policies', {
      kind: 'range',
      from: '2020-01-01',
      to: '2020-01-30',
      dryRun: true,
    });
    expect(plain.err()).not.toMatch(/\[[=-]{10,}\]/);
    expect(plain.err()).toMatch(
      /^cart-policies as of 2020-01-10T00:00:00.000\+08:00 \(dry run\): examined 0/m,
    );
    expect(dryRun.summary).toBe(
      'run cart-policies 2020-01-01 … 2020-01-30 (dry run): 30 of 30 days run; nothing changed',
    );
  });
});

describe('a backfill killed with SIGKILL, then the same command again', () => {
  const merchants = [
    {
      merchantId: 'taobao-apparel',
      onboardedAt: '2020-06-01',
      categories: ['apparel'],
      liveCartSources: ['shop', 'taobao'],
    },
    {
      merchantId: 'jd-cosmetics',
      onboardedAt: '2020-06-01',
      categories: ['cosmetics'],
      liveCartSources: ['jd'],
    },
    { merchantId: 'shop-only', onboardedAt: '2020-06-01', categories: ['food'], liveCartSources: ['shop'] },
  ];
  const args = ['run', 'cart-policies', '--from', '2020-08-01', '--to', '2020-10-31'];
  const all = daysBetween('2020-08-01', '2020-10-31').map((d) => sh(`${d} 00:00`));

  /**
   * The merchants' and policies' state, without the wall-clock stamps (when each was recorded or
   * processed: the data here is all of 2020, the wall clock years later).
   */
  const state = async () =>
    JSON.parse(
      JSON.stringify((await db.scanAll()).filter((i) => !String(i.pk).startsWith('JOB#'))),
      (_, value) =>
        typeof value === 'string' && /^\d{4}-\d\d-\d\dT/.test(value) && value >= '2025' ? undefined : value,
    );
  const notices = (
    home: string,
  ): { eventId: string; type: string; merchantId: string; effectiveAt: string }[] => {
    let text = '';
    try {
      text = readFileSync(join(home, 'notices.jsonl'), 'utf8');
    } catch {}
    return text
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line))
      .map(({ eventId, type, merchantId, effectiveAt }) => ({ eventId, type, merchantId, effectiveAt }));
  };
  const seed = async (cli: ReturnType<typeof cliOn>) => {
    const file = cli.file('merchants.jsonl', merchants.map((m) => JSON.stringify(m)).join('\n'));
    expect((await cli.cli('merchants', 'import', file)).status).toBe(0);
    expect((await cli.cli('policies', 'load-default')).status).toBe(0);
  };

  it('continues after the last finished day (not redoing any), and ends as an uninterrupted run does', async () => {
    const interrupted = cliOn(db, TEST_TABLE);
    await seed(interrupted);
    const seeded = notices(interrupted.home).length;
    const env = {
      DYNAMODB_ENDPOINT: db.endpoint,
      TABLE_NAME: TEST_TABLE,
      PROMO_JOBS_HOME: interrupted.home,
      LEASE_TTL_SECONDS: '3', // the killed run's lease lapses soon
    };
    const first = startCli(args, env);
    const recorded = () => listRuns(db.deps(), 'cart-policies', all[0] as string, all.at(-1) as string);
    const deadline = Date.now() + 60_000;
    while ((await recorded()).length < 15) {
      if (Date.now() > deadline) throw new Error(`the backfill never got going: ${first.stderr()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    first.child.kill('SIGKILL');
    const killed = await first.result;
    expect(killed.status).toBe(null);
    const done = (await recorded()).map((r) => r.asOf);
    expect(done).toEqual(all.slice(0, done.length)); // in order, from the first day
    expect(done.length).toBeLessThan(all.length);
    // Each report was printed as its day finished: what the killed run printed is what it finished
    // (but perhaps the last one, killed between recording it and printing it).
    const printed = killed.json.map((r) => (r as RunReport).asOf);
    expect(printed).toEqual(done.slice(0, printed.length));
    expect(printed.length).toBeGreaterThanOrEqual(done.length - 1);

    const again = await interrupted.cli(...args);
    expect(again.status).toBe(0);
    const last = done.at(-1)?.slice(0, 10);
    expect(again.stderr).toMatch(
      new RegExp(
        `^run cart-policies 2020-08-01 … 2020-10-31: 92 days; resuming after ${last} \\(${done.length} days done by an earlier run of the same command\\)$`,
        'm',
      ),
    );
    expect(again.json.map((r) => (r as RunReport).asOf)).toEqual(all.slice(done.length)); // nothing done twice
    expect(again.stderr.trim().split('\n').at(-1)).toMatch(
      new RegExp(
        `^run cart-policies 2020-08-01 … 2020-10-31: ${all.length - done.length} of 92 days run, ${done.length} already done by an earlier run; `,
      ),
    );
    const resumedState = await state();
    const resumedNotices = notices(interrupted.home).slice(seeded);

    // The same, uninterrupted (on the same home: its sink and stream checkpoint go on).
    await db.reset();
    await seed(interrupted);
    const before = notices(interrupted.home).length;
    const whole = await interrupted.cli(...args);
    expect(whole.json).toHaveLength(92);
    expect(await state()).toEqual(resumedState);
    const byId = (list: { eventId: string }[]) =>
      [...list].sort((a, b) => a.eventId.localeCompare(b.eventId));
    expect(byId(notices(interrupted.home).slice(before))).toEqual(byId(resumedNotices));
    expect(resumedNotices.length).toBeGreaterThan(0);
  }, 120_000);
});
