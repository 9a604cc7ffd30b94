// Backfills of any length and the recorded runs, against DynamoDB Local: a range longer than
// MAX_RANGE_DAYS runs in chunks (each job input within the limit) and leaves the state day by day
// leaves; an interrupted backfill resumes after its last finished day and never skips one cut short;
// dry runs never record nor resume; `runs list` reads one Query per job; `run --now` picks the latest
// scheduled occurrence by the run's own clock.
import { DeleteCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { DateTime } from 'luxon';
import { beforeEach, describe, expect, it } from 'vitest';
import { announcePolicy } from '../../cli/policies/announcements';
import { DEFAULT_CART_POLICIES } from '../../cli/policies/calendar';
import { chunksOf, runBackfill } from '../../cli/run/backfill';
import { listRecordedRuns, runView } from '../../cli/run/recorded-runs';
import { latestOccurrence, MAX_RANGE_DAYS, parseJobInput } from '../../shared/jobs/input';
import type { JobName } from '../../shared/jobs/registry';
import { type RunReport, runJob } from '../../shared/jobs/run';
import { merchantRecordSchema, recordMerchants } from '../../shared/merchants/record';
import { cartPolicyInputSchema } from '../../shared/policies/policy';
import { readBackfill, recordRun } from '../../shared/store/job-runs';
import { addDays, daysBetween, parseInstant } from '../../shared/time';
import { interceptSend, TEST_NOW, TEST_TABLE, useLocalDynamo } from '../support/dynamo';
import { sh } from '../support/promotions';

const db = useLocalDynamo();
const JOB: JobName = 'cart-policies'; // the cheapest job per day: long ranges stay quick

/** A tiny state: merchants whose live carts the 2020 cart policies reach, and those policies. */
async function seed() {
  await recordMerchants(
    db.deps(),
    [
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
    ].map((m) => merchantRecordSchema.parse(m)),
  );
  for (const policy of DEFAULT_CART_POLICIES)
    await announcePolicy(db.deps(), cartPolicyInputSchema.parse(policy));
}

/** The table without the job partitions' bookkeeping (and, unless kept, the job-run items). */
async function domainState(options: { runs?: boolean; attempts?: boolean } = {}) {
  return (await db.scanAll())
    .filter((i) => !String(i.pk).startsWith('JOB#') || (options.runs && String(i.sk).startsWith('RUN#')))
    .map((i) => (options.attempts === false ? { ...i, attempts: undefined } : i));
}

const asOfs = (reports: RunReport[]) => reports.map((r) => r.asOf);
const occurrences = (from: string, to: string) => daysBetween(from, to).map((d) => sh(`${d} 00:00`));

const fresh = async () => {
  await db.reset();
  await seed();
};

/** Deps whose table client fails the write of the job-run item of `asOf`: the process dies there. */
const diesRecording = (asOf: string) =>
  db.deps({
    db: interceptSend(db.clients.doc, (command, send) => {
      if (command instanceof UpdateCommand && command.input.Key?.sk === `RUN#${asOf}`)
        return Promise.reject(new Error('killed'));
      return send();
    }),
  });

describe('chunks', () => {
  it('splits any range into consecutive chunks of at most MAX_RANGE_DAYS days, in order', () => {
    const chunks = chunksOf({ from: '2020-01-01', to: '2021-12-31' });
    expect(chunks).toEqual([
      { from: '2020-01-01', to: '2020-12-31' }, // 366 days: 2020 is a leap year
      { from: '2021-01-01', to: '2021-12-31' },
    ]);
    expect(chunksOf({ from: '2020-01-01', to: '2020-01-01' })).toEqual([
      { from: '2020-01-01', to: '2020-01-01' },
    ]);
    const long = chunksOf({ from: '1990-03-01', to: '2026-02-28' });
    expect(long.every((c) => daysBetween(c.from, c.to).length <= MAX_RANGE_DAYS)).toBe(true);
    expect(long.slice(1).every((c, i) => c.from === addDays(long[i]?.to as string, 1))).toBe(true);
    expect([long[0]?.from, long.at(-1)?.to]).toEqual(['1990-03-01', '2026-02-28']);
  });
});

describe('a backfill longer than MAX_RANGE_DAYS', () => {
  beforeEach(fresh);
  it('runs in chunks, each job input within the limit, one report per day, and leaves the state day-by-day runs leave', async () => {
    // 368 days: 2019-09-05 … 2020-09-04 (366) and 2020-09-05 … 2020-09-06 (the policy comes into force).
    let leases = 0;
    const deps = db.deps({
      db: interceptSend(db.clients.doc, (command, send) => {
        if (command instanceof DeleteCommand && command.input.Key?.sk === 'LEASE') leases++;
        return send();
      }),
    });
    const reports: RunReport[] = [];
    const result = await runBackfill(
      deps,
      JOB,
      { from: '2019-09-05', to: '2020-09-06', dryRun: false },
      {
        onReport: (r) => reports.push(r),
      },
    );
    expect(result.plan.chunks).toEqual([
      { from: '2019-09-05', to: '2020-09-04' },
      { from: '2020-09-05', to: '2020-09-06' },
    ]);
    expect(leases).toBe(2); // one runJob (one job input, one lease) per chunk
    expect(asOfs(reports)).toEqual(occurrences('2019-09-05', '2020-09-06'));
    expect([result.ran, result.failed, result.complete]).toEqual([368, 0, true]);
    expect(result.transitions).toMatchObject({ CART_POLICY_ANNOUNCED: 4, CART_POLICY_IN_FORCE: 2 });
    expect(await readBackfill(db.deps(), JOB, '2019-09-05', '2020-09-06')).toBeUndefined(); // finished: removed
    const runs = await listRecordedRuns(db.deps(), { jobs: [JOB] });
    expect(runs).toHaveLength(368);
    expect(runs.every((r) => r.complete && r.failed === 0)).toBe(true);
    const chunked = await domainState();

    // Day by day, as the schedule would have run it (the days before 2020-08-20 change nothing here).
    await db.reset();
    await seed();
    for (const day of daysBetween('2020-08-20', '2020-09-06')) {
      await runJob(db.deps(), JOB, parseJobInput({ asOf: sh(`${day} 00:00`) }));
    }
    expect(await domainState()).toEqual(chunked);
  }, 90_000);

  it('over short chunks gives the same table as day-by-day runs, job-run items included', async () => {
    const range = { from: '2020-08-20', to: '2020-10-12', dryRun: false, chunkDays: 7 };
    const result = await runBackfill(db.deps(), JOB, range);
    expect(result.plan.chunks).toHaveLength(8);
    const chunked = await domainState({ runs: true });
    await db.reset();
    await seed();
    for (const day of daysBetween(range.from, range.to)) {
      await runJob(db.deps(), JOB, parseJobInput({ asOf: sh(`${day} 00:00`) }));
    }
    expect(await domainState({ runs: true })).toEqual(chunked);
  }, 60_000);

  it('a dry run spans its chunks (each day plans from what the days before would have written), records nothing, never resumes', async () => {
    const range = { from: '2020-08-20', to: '2020-10-12', chunkDays: 5 };
    // On the seeded state: each announcement and each flip is planned once, in its own chunk, and not
    // again by a later chunk that would otherwise not see it.
    const projected = await runBackfill(db.deps(), JOB, { ...range, dryRun: true });
    expect(projected.plan.chunks).toHaveLength(11);
    expect(projected.transitions).toMatchObject({
      CART_POLICY_ANNOUNCED: 4,
      CART_POLICY_IN_FORCE: 4,
      FLAG_CHANGED: 2,
    });
    expect(await listRecordedRuns(db.deps(), { jobs: [JOB] })).toEqual([]);
    // A real backfill of the range died on 09-30: its item and its job-run items are there.
    await expect(
      runBackfill(diesRecording(sh('2020-09-30 00:00')), JOB, { ...range, dryRun: false }),
    ).rejects.toThrow('killed');
    const before = await db.scanAll();
    const reports: RunReport[] = [];
    const result = await runBackfill(
      db.deps(),
      JOB,
      { ...range, dryRun: true },
      { onReport: (r) => reports.push(r) },
    );
    expect([result.plan.skipped, result.plan.resumedAfter]).toEqual([0, undefined]);
    expect(asOfs(reports)).toEqual(occurrences('2020-08-20', '2020-10-12'));
    // The real run already told the announcement and the first flip; the dry run's later chunks plan the
    // second flip from the first one it projected in an earlier chunk, not from the stored state only.
    expect(reports.every((r) => r.dryRun)).toBe(true);
    expect(result.transitions.FLAG_CHANGED).toBe(1);
    expect(await db.scanAll()).toEqual(before);
  });
});

describe('resuming an interrupted backfill', () => {
  beforeEach(fresh);
  const range = { from: '2020-08-20', to: '2020-10-12', dryRun: false, chunkDays: 10 };

  it('continues after the last day that finished; a day cut short (its run never recorded) is run again', async () => {
    const reference = await runBackfill(db.deps(), JOB, range);
    const uninterrupted = await domainState();
    await fresh();

    // The run dies while recording 2020-09-06: its work is written, its run item is not.
    const first: RunReport[] = [];
    await expect(
      runBackfill(diesRecording(sh('2020-09-06 00:00')), JOB, range, { onReport: (r) => first.push(r) }),
    ).rejects.toThrow('killed');
    expect(asOfs(first)).toEqual(occurrences('2020-08-20', '2020-09-05'));
    expect(await readBackfill(db.deps(), JOB, range.from, range.to)).toMatchObject({ startedAt: TEST_NOW });

    const again: RunReport[] = [];
    const resumed = await runBackfill(db.deps(), JOB, range, { onReport: (r) => again.push(r) });
    expect([resumed.plan.resumedAfter, resumed.plan.skipped, resumed.ran]).toEqual(['2020-09-05', 17, 37]);
    expect(asOfs(again)).toEqual(occurrences('2020-09-06', '2020-10-12')); // 09-06 again, nothing before it
    expect(await domainState()).toEqual(uninterrupted);
    const runs = await listRecordedRuns(db.deps(), { jobs: [JOB] });
    expect(runs.map((r) => [r.asOf, r.complete, r.failed])).toEqual(
      occurrences(range.from, range.to).map((asOf) => [asOf, true, 0]),
    );
    // What the killed day had written is not done twice: the flips of 09-06 and 10-09 count once each.
    expect(resumed.transitions.FLAG_CHANGED).toBe(1);
    expect(reference.transitions.FLAG_CHANGED).toBe(2);
    expect(await readBackfill(db.deps(), JOB, range.from, range.to)).toBeUndefined();

    // Finished: the same command again starts from its first day (and changes nothing).
    const repeat = await runBackfill(db.deps(), JOB, range);
    expect([repeat.plan.skipped, repeat.ran, repeat.changed]).toEqual([0, 54, 0]);
  }, 60_000);

  it('skips only days that finished with nothing failed since the backfill started', async () => {
    await expect(runBackfill(diesRecording(sh('2020-09-11 00:00')), JOB, range)).rejects.toThrow('killed');
    // 09-03 was run again since, and had a failed item: the backfill continues from it.
    const failedRun = {
      complete: true,
      failed: 1,
      failures: [{ merchantId: 'jd-cosmetics', error: 'boom' }],
    };
    await recordRun(db.deps(), {
      job: JOB,
      asOf: sh('2020-09-03 00:00'),
      report: { ...failedRun, finishedAt: TEST_NOW },
    });
    const again: RunReport[] = [];
    const continued = await runBackfill(db.deps(), JOB, range, { onReport: (r) => again.push(r) });
    expect(continued.plan.resumedAfter).toBe('2020-09-02');
    expect(asOfs(again)[0]).toBe(sh('2020-09-03 00:00'));

    // A day that stopped early (complete: false, its checkpoint kept) is not skipped either.
    await fresh();
    await expect(runBackfill(diesRecording(sh('2020-08-26 00:00')), JOB, range)).rejects.toThrow('killed');
    await recordRun(db.deps(), {
      job: JOB,
      asOf: sh('2020-08-22 00:00'),
      report: { complete: false, failed: 0, finishedAt: TEST_NOW },
      checkpoint: { merchants: { after: 'jd-cosmetics' } },
    });
    expect((await runBackfill(db.deps(), JOB, range)).plan.resumedAfter).toBe('2020-08-21');

    // Runs recorded before the backfill started are not its work: killed on its first day, it starts over.
    await fresh();
    const earlier = db.deps({ clock: () => parseInstant(TEST_NOW).minus({ hours: 1 }) });
    await runJob(earlier, JOB, parseJobInput({ from: '2020-08-20', to: '2020-08-30' }));
    await expect(runBackfill(diesRecording(sh('2020-08-20 00:00')), JOB, range)).rejects.toThrow('killed');
    const over = await runBackfill(db.deps(), JOB, range);
    expect([over.plan.resumedAfter, over.ran]).toEqual([undefined, 54]);
  }, 60_000);
});

describe('runs list', () => {
  beforeEach(() => db.reset());
  it('reads one Query per job partition (never a Scan), filters by Asia/Shanghai days, orders by asOf then job', async () => {
    await runJob(db.deps(), 'activate', parseJobInput({ from: '2020-05-07', to: '2020-05-09' }));
    await runJob(db.deps(), 'expire', parseJobInput({ from: '2020-05-07', to: '2020-05-08' }));
    const commands: string[] = [];
    const deps = db.deps({
      db: interceptSend(db.clients.doc, (command, send) => {
        commands.push((command as object).constructor.name);
        return send();
      }),
    });
    const day = await listRecordedRuns(deps, {
      jobs: ['activate', 'expire', 'cart-policies'],
      from: '2020-05-08',
      to: '2020-05-08',
    });
    expect(commands).toEqual(['QueryCommand', 'QueryCommand', 'QueryCommand']);
    // 05-08 in Asia/Shanghai holds expire's 23:59 run (15:59 UTC), not 05-09 00:00 (05-08 16:00 UTC).
    expect(day.map((r) => [r.job, r.asOf])).toEqual([
      ['activate', sh('2020-05-08 00:00')],
      ['expire', sh('2020-05-08 23:59')],
    ]);
    const all = await listRecordedRuns(db.deps(), { jobs: ['expire', 'activate'] });
    expect(all.map((r) => `${r.asOf.slice(0, 16)} ${r.job}`)).toEqual([
      '2020-05-07T00:00 activate',
      '2020-05-07T23:59 expire',
      '2020-05-08T00:00 activate',
      '2020-05-08T23:59 expire',
      '2020-05-09T00:00 activate',
    ]);
    expect(await listRecordedRuns(db.deps(), { jobs: ['activate'], from: '2020-05-09' })).toHaveLength(1);
    expect(await listRecordedRuns(db.deps(), { jobs: ['activate'], to: '2020-05-07' })).toHaveLength(1);
    // Backfill progress items share the partition and are not runs.
    await runBackfill(db.deps(), 'activate', { from: '2020-05-07', to: '2020-05-07', dryRun: false });
    expect(commands.filter((c) => c === 'ScanCommand')).toEqual([]);
  });

  it('shows each field; a run recorded before startedAt/finishedAt existed shows null', async () => {
    const clock = () => parseInstant('2026-11-25T10:00:00.000+08:00');
    await recordRun(db.deps({ clock }), {
      job: 'activate',
      asOf: sh('2020-05-08 00:00'),
      report: {
        dryRun: false,
        examined: 3,
        changed: 2,
        alreadyDone: 1,
        failed: 0,
        transitions: { ACTIVE: 2 },
        failures: [],
        complete: true,
        startedAt: '2026-11-25T10:00:00.000+08:00',
        finishedAt: '2026-11-25T10:01:02.345+08:00',
        durationMs: 62_345,
      },
    });
    await recordRun(db.deps(), {
      job: 'activate',
      asOf: sh('2020-05-09 00:00'),
      report: { failed: 0, examined: 1, changed: 0 },
    });
    const { Items = [] } = await db.clients.doc.send(
      new QueryCommand({
        TableName: TEST_TABLE,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': 'JOB#activate' },
      }),
    );
    expect(Items.map((i) => runView(i as never))).toEqual([
      {
        job: 'activate',
        asOf: sh('2020-05-08 00:00'),
        complete: true,
        examined: 3,
        changed: 2,
        alreadyDone: 1,
        failed: 0,
        startedAt: '2026-11-25T10:00:00.000+08:00',
        finishedAt: '2026-11-25T10:01:02.345+08:00',
        duration: 'PT1M2.345S',
        durationMs: 62_345,
        attempts: 1,
      },
      {
        job: 'activate',
        asOf: sh('2020-05-09 00:00'),
        complete: true,
        examined: 1,
        changed: 0,
        alreadyDone: null,
        failed: 0,
        startedAt: null,
        finishedAt: null,
        duration: null,
        durationMs: null,
        attempts: 1,
      },
    ]);
  });
});

describe('the latest scheduled occurrence (run --now)', () => {
  const at = (text: string) => DateTime.fromISO(text, { setZone: true });
  it.each([
    ['activate', '2020-05-08T00:00:00.000+08:00', sh('2020-05-08 00:00')], // its time has come: today's
    ['activate', '2020-05-07T23:59:59.999+08:00', sh('2020-05-07 00:00')],
    ['activate', '2020-05-07T16:30:00Z', sh('2020-05-08 00:00')], // 00:30 in Shanghai, whatever the zone given
    ['expire', '2020-05-08T23:58:59.999+08:00', sh('2020-05-07 23:59')], // not yet: yesterday's
    ['expire', '2020-05-08T23:59:00.000+08:00', sh('2020-05-08 23:59')],
    ['expire', '2021-01-01T00:10:00+08:00', sh('2020-12-31 23:59')],
  ] as const)('%s at %s is as of %s', (job, now, expected) => {
    expect(latestOccurrence(job, at(now))).toBe(expected);
  });
});
