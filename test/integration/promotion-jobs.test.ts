// The activate and expire jobs against a real DynamoDB Local: on time, late, twice, concurrently,
// as backfills, as dry runs, after corrections and revocations.
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { loadConfig } from '../../shared/config';
import { InputError } from '../../shared/errors';
import { type JobName, parseJobInput } from '../../shared/jobs/input';
import { acquireLease, LeaseHeldError } from '../../shared/jobs/lease';
import { emptyCounts } from '../../shared/jobs/partitions';
import { createProgress } from '../../shared/jobs/progress';
import { activateJob } from '../../shared/jobs/promotion-jobs';
import { runJob } from '../../shared/jobs/run';
import { sweep } from '../../shared/jobs/sweep';
import { createJobHandler } from '../../shared/lambda/job-handler';
import { createObservability } from '../../shared/lambda/runtime';
import {
  type MerchantRecord,
  merchantRecordSchema,
  recordMerchants,
  revokePromotion,
} from '../../shared/merchants/record';
import { endOfDayCutoff, type Promotion } from '../../shared/promotion/lifecycle';
import { onboardingDate, promotionWindow } from '../../shared/promotion/window';
import { getMerchant, getPromotion } from '../../shared/store/promotions';
import { addDays, daysBetween, parseInstant } from '../../shared/time';
import { steppingClock, TEST_NOW, TEST_TABLE, useLocalDynamo } from '../support/dynamo';
import { fakeContext } from '../support/lambda';
import { sh } from '../support/promotions';

const db = useLocalDynamo();
beforeEach(() => db.reset());

const run = async (job: JobName, input: Record<string, unknown>) =>
  (await runJob(db.deps(), job, parseJobInput(input))).reports;
const status = async (id: string) => (await getPromotion(db.deps(), id))?.status;
const record = (records: z.input<typeof merchantRecordSchema>[]) =>
  recordMerchants(
    db.deps(),
    records.map((r) => merchantRecordSchema.parse(r)),
  );

/** A day's schedule, as EventBridge Scheduler fires it: 00:00 activate, then 23:59 expire. */
async function runDays(from: string, to: string) {
  for (const day of daysBetween(from, to)) {
    await run('activate', { asOf: sh(`${day} 00:00`) });
    await run('expire', { asOf: sh(`${day} 23:59`) });
  }
}

describe('merchant A of the source (T = 2020-05-06)', () => {
  it('is SCHEDULED until 2020-05-08 00:00, ACTIVE through 2020-06-06, EXPIRED after the 23:59 run', async () => {
    await record([{ merchantId: 'merchant-a', onboardedAt: '2020-05-06' }]);
    await runDays('2020-05-06', '2020-05-07');
    expect(await status('merchant-a')).toBe('SCHEDULED');
    const [report] = await run('activate', { asOf: sh('2020-05-08 00:00') });
    expect(report).toMatchObject({
      job: 'activate',
      asOf: sh('2020-05-08 00:00'),
      dryRun: false,
      examined: 1,
      changed: 1,
      alreadyDone: 0,
      failed: 0,
    });
    expect(report?.transitions).toEqual({ ACTIVE: 1 });
    await run('expire', { asOf: sh('2020-05-08 23:59') });
    await runDays('2020-05-09', '2020-06-05');
    expect(await status('merchant-a')).toBe('ACTIVE');
    await run('activate', { asOf: sh('2020-06-06 00:00') });
    expect(await status('merchant-a')).toBe('ACTIVE');
    const [expiry] = await run('expire', { asOf: sh('2020-06-06 23:59') });
    expect(expiry?.transitions).toEqual({ EXPIRED: 1 });
    const p = (await getPromotion(db.deps(), 'merchant-a')) as Promotion;
    expect(p.history.map((h) => [h.status, h.effectiveAt, h.asOf])).toEqual([
      ['SCHEDULED', sh('2020-05-06 00:00'), undefined],
      ['ACTIVE', sh('2020-05-08 00:00'), sh('2020-05-08 00:00')],
      ['EXPIRED', sh('2020-06-07 00:00'), sh('2020-06-06 23:59')],
    ]);
    expect(p.reminder).toEqual({
      effectiveAt: sh('2020-06-04 00:00'),
      asOf: sh('2020-06-03 23:59'),
      processedAt: expect.any(String),
    });
    expect(p.version).toBe(4); // recorded, activated, reminded, expired: one write each
  });
});

describe('safe to run late, twice, concurrently, or as a backfill', () => {
  const cohort = (n: number, t: string): MerchantRecord[] =>
    Array.from({ length: n }, (_, i) => ({
      merchantId: `m-${t}-${String(i).padStart(4, '0')}`,
      onboardedAt: t,
    }));

  it('a second run of the same occurrence changes nothing', async () => {
    await record(cohort(40, '2020-05-06'));
    const [first] = await run('activate', { asOf: sh('2020-05-08 00:00') });
    const snapshot = await db.scanAll();
    const [second] = await run('activate', { asOf: sh('2020-05-08 00:00') });
    expect(first?.changed).toBe(40);
    expect(second?.changed).toBe(0);
    expect(second?.failed).toBe(0);
    expect(stripRuns(await db.scanAll())).toEqual(stripRuns(snapshot));
  });

  it('an invocation that overlaps a running one is refused by the lease, and runs once the lease is free', async () => {
    await record(cohort(20, '2020-05-06'));
    const held = await acquireLease(db.deps(), 'activate', { ttlMs: 60_000 });
    await expect(run('activate', { asOf: sh('2020-05-08 00:00') })).rejects.toThrow(LeaseHeldError);
    expect(await status('m-2020-05-06-0000')).toBe('SCHEDULED'); // the refused run wrote nothing
    expect((await run('activate', { asOf: sh('2020-05-08 00:00'), dryRun: true }))[0]?.changed).toBe(20); // dry runs need no lease
    await held.release();
    expect((await run('activate', { asOf: sh('2020-05-08 00:00') }))[0]?.changed).toBe(20);
  });

  it('a lease left by a crashed run expires', async () => {
    await record(cohort(5, '2020-05-06'));
    let now = parseInstant(TEST_NOW);
    const clock = () => now;
    await acquireLease(db.deps({ clock }), 'activate', { ttlMs: 60_000 }); // its owner "crashes": never released
    await expect(
      runJob(db.deps({ clock }), 'activate', parseJobInput({ asOf: sh('2020-05-08 00:00') })),
    ).rejects.toThrow(/already running/);
    now = now.plus({ seconds: 61 });
    const { reports } = await runJob(
      db.deps({ clock }),
      'activate',
      parseJobInput({ asOf: sh('2020-05-08 00:00') }),
    );
    expect(reports[0]?.changed).toBe(5);
  });

  it('even without the lease (an expired one, a stale index), overlapping sweeps apply each change exactly once', async () => {
    await record(cohort(300, '2020-05-06'));
    const sweepAt = async (asOf: string) => {
      const ctx = {
        deps: db.deps({ clock: steppingClock() }),
        asOf: sh(asOf),
        dryRun: false,
        counts: emptyCounts(),
        progress: createProgress({}),
      };
      await sweep(ctx, activateJob);
      return ctx.counts;
    };
    const counts = await Promise.all([
      sweepAt('2020-05-08 00:00'),
      sweepAt('2020-05-08 00:00'),
      sweepAt('2020-05-09 00:00'),
    ]);
    expect(counts.reduce((sum, c) => sum + c.changed, 0)).toBe(300);
    expect(counts.every((c) => c.failed === 0)).toBe(true);
    for (const item of await db.scanAll()) {
      if (item.type !== 'PROMOTION') continue;
      const p = item as unknown as Promotion;
      expect(p.status).toBe('ACTIVE');
      expect(p.history.filter((h) => h.status === 'ACTIVE')).toHaveLength(1);
      expect(p.version).toBe(2);
    }
  });

  it('a late run catches up every missed day in one pass', async () => {
    await record([...cohort(5, '2020-05-01'), ...cohort(5, '2020-05-03'), ...cohort(5, '2020-05-10')]);
    const [report] = await run('activate', { asOf: sh('2020-05-11 00:00') }); // nothing ran since 05-01
    expect(report).toMatchObject({ examined: 10, changed: 10 });
    const p = (await getPromotion(db.deps(), 'm-2020-05-01-0000')) as Promotion;
    expect(p.history[1]).toMatchObject({
      status: 'ACTIVE',
      effectiveAt: sh('2020-05-03 00:00'),
      asOf: sh('2020-05-11 00:00'),
    });
    expect(await status('m-2020-05-10-0000')).toBe('SCHEDULED');
  });

  it('a window wholly in the past goes SCHEDULED → ACTIVE → EXPIRED in one write, both instants recorded', async () => {
    await record(cohort(3, '2020-05-06'));
    const [report] = await run('activate', { asOf: sh('2020-07-01 00:00') });
    expect(report?.transitions).toEqual({ ACTIVE: 3, EXPIRED: 3 });
    const p = (await getPromotion(db.deps(), 'm-2020-05-06-0000')) as Promotion;
    expect(p.status).toBe('EXPIRED');
    expect(p.version).toBe(2);
    expect(p.history.slice(1).map((h) => [h.status, h.effectiveAt])).toEqual([
      ['ACTIVE', sh('2020-05-08 00:00')],
      ['EXPIRED', sh('2020-06-07 00:00')],
    ]);
    expect(await run('expire', { asOf: sh('2020-07-01 23:59') })).toMatchObject([
      { examined: 0, changed: 0 },
    ]);
  });

  it('a backfill over a range equals the day-by-day schedule, and repeating it changes nothing', async () => {
    const ts = ['2020-04-29', '2020-05-01', '2020-05-06', '2020-05-20', '2020-05-31', '2020-06-15'];
    const records = ts.flatMap((t) => cohort(4, t));
    await record(records);
    const activations = await run('activate', { from: '2020-05-01', to: '2020-06-20' });
    const expiries = await run('expire', { from: '2020-05-01', to: '2020-06-20' });
    expect(activations).toHaveLength(51);
    expect(activations.map((r) => r.asOf)).toEqual(
      daysBetween('2020-05-01', '2020-06-20').map((d) => sh(`${d} 00:00`)),
    );
    expect(expiries.at(-1)?.asOf).toBe(sh('2020-06-20 23:59'));
    // The model: after activate up to 06-20 00:00 and expire up to 06-20 23:59.
    for (const r of records) {
      const w = promotionWindow(onboardingDate(r.onboardedAt));
      const expected = !w.eligible
        ? 'INELIGIBLE'
        : w.startsAt > sh('2020-06-20 00:00')
          ? 'SCHEDULED'
          : w.endsBefore <= endOfDayCutoff(sh('2020-06-20 23:59'))
            ? 'EXPIRED'
            : 'ACTIVE';
      expect([r.merchantId, await status(r.merchantId)]).toEqual([r.merchantId, expected]);
    }
    const before = stripRuns(await db.scanAll());
    const again = [
      ...(await run('activate', { from: '2020-05-01', to: '2020-06-20' })),
      ...(await run('expire', { from: '2020-05-01', to: '2020-06-20' })),
    ];
    expect(again.every((r) => r.changed === 0 && r.failed === 0)).toBe(true);
    expect(stripRuns(await db.scanAll())).toEqual(before);
  });

  it('a dry run reports exactly what the real run then changes, and writes nothing', async () => {
    await record([...cohort(7, '2020-05-06'), ...cohort(3, '2020-04-01')]);
    const before = await db.scanAll();
    const [dry] = await run('activate', { asOf: sh('2020-06-10 00:00'), dryRun: true });
    expect(await db.scanAll()).toEqual(before);
    const [real] = await run('activate', { asOf: sh('2020-06-10 00:00') });
    expect(dry).toMatchObject({ dryRun: true, examined: 7, changed: 7 });
    expect({ ...dry, dryRun: false, startedAt: 0, finishedAt: 0, durationMs: 0 }).toEqual({
      ...real,
      startedAt: 0,
      finishedAt: 0,
      durationMs: 0,
    });
  });

  it('records each non-dry run on its job-run item', async () => {
    await record(cohort(2, '2020-05-06'));
    await run('activate', { asOf: sh('2020-05-08 00:00') });
    await run('activate', { asOf: sh('2020-05-08 00:00') });
    await run('activate', { asOf: sh('2020-05-09 00:00'), dryRun: true });
    const { Items = [] } = await db.clients.doc.send(
      new QueryCommand({
        TableName: TEST_TABLE,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': 'JOB#activate' },
      }),
    );
    expect(Items.map((i) => [i.sk, i.attempts, i.report.changed])).toEqual([
      [`RUN#${sh('2020-05-08 00:00')}`, 2, 0],
    ]);
  });
});

describe('corrections and revocations', () => {
  it('recording the same T again changes nothing; a corrected T recomputes the window and the next run reconciles', async () => {
    expect(await record([{ merchantId: 'c', onboardedAt: '2020-05-06', categories: ['apparel'] }])).toEqual([
      'created',
    ]);
    expect(await record([{ merchantId: 'c', onboardedAt: '2020-05-06T10:00:00+08:00' }])).toEqual([
      'unchanged',
    ]);
    await run('activate', { asOf: sh('2020-05-08 00:00') });
    expect(await status('c')).toBe('ACTIVE');
    // The platform record says T was 2020-05-15: the window moves to 05-17 … 06-15.
    expect(await record([{ merchantId: 'c', onboardedAt: '2020-05-15' }])).toEqual(['updated']);
    const corrected = await getMerchant(db.deps(), 'c');
    expect(corrected?.profile).toMatchObject({ onboardedOn: '2020-05-15', categories: ['apparel'] });
    expect(corrected?.promotion).toMatchObject({
      status: 'SCHEDULED',
      startsAt: sh('2020-05-17 00:00'),
      lastDay: '2020-06-15',
    });
    await run('activate', { asOf: sh('2020-05-16 00:00') });
    expect(await status('c')).toBe('SCHEDULED');
    await run('activate', { asOf: sh('2020-05-17 00:00') });
    expect(await status('c')).toBe('ACTIVE');
    await run('expire', { asOf: sh('2020-06-14 23:59') });
    expect(await status('c')).toBe('ACTIVE');
    await run('expire', { asOf: sh('2020-06-15 23:59') });
    const p = (await getPromotion(db.deps(), 'c')) as Promotion;
    expect(p.history.map((h) => [h.status, h.by])).toEqual([
      ['SCHEDULED', 'record'],
      ['ACTIVE', 'activate'],
      ['SCHEDULED', 'correct'],
      ['ACTIVE', 'activate'],
      ['EXPIRED', 'expire'],
    ]);
  });

  it('changing only categories or live-cart sources updates the profile and leaves the promotion alone', async () => {
    await record([{ merchantId: 'k', onboardedAt: '2020-05-06' }]);
    const before = await getPromotion(db.deps(), 'k');
    expect(
      await record([
        { merchantId: 'k', onboardedAt: '2020-05-06', liveCartSources: ['taobao', 'shop', 'shop'] },
      ]),
    ).toEqual(['updated']);
    expect((await getMerchant(db.deps(), 'k'))?.profile.liveCartSources).toEqual(['shop', 'taobao']);
    expect(await getPromotion(db.deps(), 'k')).toEqual(before);
  });

  it('a revocation before the window means the jobs never activate it; during the window, they never expire it', async () => {
    await record([
      { merchantId: 'early', onboardedAt: '2020-05-06' },
      { merchantId: 'during', onboardedAt: '2020-05-06' },
    ]);
    await revokePromotion(db.deps(), 'early', sh('2020-05-07 09:00'), 'counterfeit goods');
    await run('activate', { asOf: sh('2020-05-08 00:00') });
    await revokePromotion(db.deps(), 'during', sh('2020-05-20 09:00'), 'fake orders');
    await run('activate', { from: '2020-05-09', to: '2020-06-30' });
    await run('expire', { from: '2020-05-09', to: '2020-06-30' });
    const early = (await getPromotion(db.deps(), 'early')) as Promotion;
    const during = (await getPromotion(db.deps(), 'during')) as Promotion;
    expect(early.history.map((h) => h.status)).toEqual(['SCHEDULED', 'REVOKED']);
    expect(during.history.map((h) => h.status)).toEqual(['SCHEDULED', 'ACTIVE', 'REVOKED']);
    expect(during).toMatchObject({
      status: 'REVOKED',
      revokedAt: sh('2020-05-20 09:00'),
      revokeReason: 'fake orders',
    });
    // The same revocation again changes nothing; a different one is refused.
    expect(await revokePromotion(db.deps(), 'during', sh('2020-05-20 09:00'), 'fake orders')).toMatchObject({
      changed: false,
    });
    await expect(revokePromotion(db.deps(), 'during', sh('2020-05-21 09:00'), 'x')).rejects.toThrow(
      /already revoked/,
    );
    await expect(revokePromotion(db.deps(), 'nobody', sh('2020-05-21 09:00'), 'x')).rejects.toThrow(
      /no merchant nobody/,
    );
  });

  it('bad job input is refused by the handler before anything is read or written', async () => {
    // Something a run would change: b is due for activation at 2020-05-08 00:00.
    await record([{ merchantId: 'b', onboardedAt: '2020-05-06' }]);
    const before = await db.scanAll();
    const handler = createJobHandler('activate', {
      ...createObservability(),
      config: loadConfig({ TABLE_NAME: TEST_TABLE }),
      deps: db.deps(),
    });
    // Acted on in any part (a lease taken, a run recorded, b activated), each would change the table.
    for (const [event, field] of [
      [{ from: '2020-05-01', to: '2020-06-01', force: true }, /^force: /],
      [{ asOf: '2020-05-08T00:00:00' }, /^asOf: /],
      [{ asOf: '2020-05-09T00:00:00+08:00', dryRun: 'no' }, /^dryRun: /],
      [{ from: '2020-06-01', to: '2020-05-01' }, /^to: /],
    ] as const) {
      const refused = handler(event as never, fakeContext('activate'));
      await expect(refused).rejects.toThrow(InputError);
      await expect(refused).rejects.toThrow(field);
    }
    expect(await db.scanAll()).toEqual(before);
    // The same handler given a good event does change the table: the comparison above could fail.
    await handler({ asOf: '2020-05-08T00:00:00+08:00' } as never, fakeContext('activate'));
    expect(await status('b')).toBe('ACTIVE');
    expect(stripRuns(await db.scanAll())).not.toEqual(stripRuns(before));
  });
});

describe('the due index', () => {
  it('holds a promotion only while it waits, under the action it waits for', async () => {
    await record([
      { merchantId: 'd', onboardedAt: '2020-05-06' },
      { merchantId: 'old', onboardedAt: '2020-04-06' },
    ]);
    const dueOf = async (id: string) => {
      const item = (await db.scanAll()).find((i) => i.merchantId === id && i.type === 'PROMOTION');
      return [String(item?.due_pk ?? '').split('#')[0], item?.due_sk];
    };
    expect(await dueOf('old')).toEqual(['', undefined]);
    expect(await dueOf('d')).toEqual(['ACTIVATE', sh('2020-05-08 00:00')]);
    await run('activate', { asOf: sh('2020-05-08 00:00') });
    expect(await dueOf('d')).toEqual(['EXPIRE', sh('2020-06-04 00:00')]); // first the reminder
    await run('expire', { asOf: sh('2020-06-03 23:59') });
    expect(await dueOf('d')).toEqual(['EXPIRE', sh('2020-06-07 00:00')]);
    await run('expire', { asOf: sh(`${addDays('2020-06-06', 0)} 23:59`) });
    expect(await dueOf('d')).toEqual(['', undefined]);
  });
});

/** Job-run items carry wall-clock timings; compare the rest of the table. */
function stripRuns(items: Record<string, unknown>[]) {
  return items.filter((i) => i.type !== 'JOB_RUN');
}
