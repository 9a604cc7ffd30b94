// The activate and expire jobs against a real DynamoDB Local: on time, late, twice, concurrently,
// as backfills, as dry runs, after corrections and revocations.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { TransactionConflictException } from '@aws-sdk/client-dynamodb';
import { QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';
import { DateTime } from 'luxon';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type * as z from 'zod';
import { loadConfig } from '../../shared/config';
import { silentLog } from '../../shared/deps';
import { InputError } from '../../shared/errors';
import { createRunCursors } from '../../shared/jobs/checkpoint';
import { parseJobInput } from '../../shared/jobs/input';
import {
  acquireLease,
  LEASE_TTL_MS,
  LeaseHeldError,
  LeaseLostError,
  readLease,
} from '../../shared/jobs/lease';
import { createProjection } from '../../shared/jobs/projection';
import { activateJob } from '../../shared/jobs/promotion-jobs';
import type { JobName } from '../../shared/jobs/registry';
import { type RunReport, runJob } from '../../shared/jobs/run';
import { emptyCounts } from '../../shared/jobs/run-context';
import { type SweepSpec, sweep } from '../../shared/jobs/sweep';
import { createJobHandler } from '../../shared/lambda/job-handler';
import { createObservability } from '../../shared/lambda/runtime';
import {
  type MerchantRecord,
  merchantRecordSchema,
  recordMerchants,
  revokePromotion,
} from '../../shared/merchants/record';
import type { Notice } from '../../shared/notices/notice';
import { notifyFromStream } from '../../shared/notices/notifier';
import { fileSink } from '../../shared/notices/publisher';
import { endOfDayCutoff, type Promotion } from '../../shared/promotion/lifecycle';
import { onboardingDate, promotionWindow } from '../../shared/promotion/window';
import { getMerchant } from '../../shared/store/merchants';
import { getPromotion } from '../../shared/store/promotions';
import { addDays, daysBetween, formatInstant, parseInstant } from '../../shared/time';
import { interceptSend, steppingClock, TEST_NOW, TEST_TABLE, useLocalDynamo } from '../support/dynamo';
import { fakeContext } from '../support/lambda';
import { leaveLease, recordingDeps, WRITES } from '../support/leases';
import { eventually } from '../support/processes';
import { sh } from '../support/promotions';

const db = useLocalDynamo();

/** `n` merchants onboarded on `t`. */
const cohort = (n: number, t: string): MerchantRecord[] =>
  Array.from({ length: n }, (_, i) => ({
    merchantId: `m-${t}-${String(i).padStart(4, '0')}`,
    onboardedAt: t,
  }));
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

  it('even without the lease (an expired one, a stale index), overlapping sweeps apply each change exactly once', async () => {
    await record(cohort(300, '2020-05-06'));
    const sweepAt = async (asOf: string) => {
      const ctx = {
        deps: db.deps({ clock: steppingClock() }),
        asOf: sh(asOf),
        dryRun: false,
        counts: emptyCounts(),
        cursors: createRunCursors({}),
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

  it('a dry run over a range reports, day by day, exactly what the real run over the range then does, and writes nothing (random populations)', async () => {
    // Found by an outside probe: each day's dry run counted again what earlier days would have changed.
    const merchant = fc.record({
      t: fc.integer({ min: 0, max: 30 }), // onboarded 2020-04-28 + t
      revokedAfterHours: fc.option(fc.integer({ min: 0, max: 40 * 24 }), { nil: undefined }),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(merchant, { minLength: 4, maxLength: 24 }), async (population) => {
        await db.reset();
        const records = population.map(({ t }, i) => ({
          merchantId: `p-${String(i).padStart(3, '0')}`,
          onboardedAt: addDays('2020-04-28', t),
        }));
        await record(records);
        for (const [i, { revokedAfterHours }] of population.entries()) {
          if (revokedAfterHours === undefined) continue;
          const { merchantId, onboardedAt } = records[i] as MerchantRecord;
          const at = parseInstant(sh(`${onboardedAt} 00:00`)).plus({ hours: revokedAfterHours });
          await revokePromotion(db.deps(), merchantId, formatInstant(at), 'fake orders').catch(
            () => undefined,
          ); // after its window: refused
        }
        for (const job of ['activate', 'expire'] as const) {
          const range = { from: '2020-05-01', to: '2020-06-15' };
          const before = await db.scanAll();
          const dry = await run(job, { ...range, dryRun: true });
          expect(await db.scanAll()).toEqual(before);
          const real = await run(job, range);
          expect(dry.map(outcome)).toEqual(real.map(outcome));
          expect(dry.every((r) => r.dryRun)).toBe(true);
        }
      }),
      { numRuns: 2, seed: 20201201 },
    );
  });

  it('a dry run cut short by its deadline stops there: its projection cannot continue in another invocation', async () => {
    await record(cohort(3, '2020-05-06'));
    const range = parseJobInput({ from: '2020-05-07', to: '2020-05-09', dryRun: true });
    const dry = await runJob(db.deps(), 'activate', range, { shouldStop: () => true });
    expect(dry.reports.map((r) => [r.asOf, r.complete])).toEqual([[sh('2020-05-07 00:00'), false]]);
    expect(dry.continuation).toBeUndefined();
    // A real run cut short hands over to a continuation, as before.
    const real = await runJob(db.deps(), 'activate', { ...range, dryRun: false }, { shouldStop: () => true });
    expect(real.continuation?.resume.asOf).toBe(sh('2020-05-07 00:00'));
  });

  it('a dry run refuses to project a change that would move a due key back where the index would not show it', async () => {
    await record(cohort(2, '2020-05-06'));
    // A planner that breaks the rule every real one keeps: it moves the ACTIVATE key earlier.
    const backwards: SweepSpec = {
      ...activateJob,
      plan: () => ({
        status: 'SCHEDULED',
        entries: [],
        next: { action: 'ACTIVATE', at: sh('2020-05-01 00:00') },
      }),
    };
    const ctx = {
      deps: db.deps(),
      asOf: sh('2020-05-08 00:00'),
      dryRun: true,
      counts: emptyCounts(),
      cursors: createRunCursors({}),
      projection: createProjection(),
    };
    await sweep(ctx, backwards);
    expect(ctx.counts).toMatchObject({ changed: 0, failed: 2 });
    expect(ctx.counts.failures[0]?.error).toMatch(/cannot project a due key moved back/);
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

describe('a write that meets a transaction', () => {
  it('is written again once the transaction is over: the promotion activates in the same run', async () => {
    await record([{ merchantId: 'm-conflict', onboardedAt: '2020-05-06' }]);
    let conflicts = 0;
    const db2 = interceptSend(db.clients.doc, async (command, send) => {
      const promotionUpdate =
        command instanceof UpdateCommand && String(command.input.Key?.pk) === 'MERCHANT#m-conflict';
      if (promotionUpdate && conflicts++ < 2) {
        throw new TransactionConflictException({
          message: 'Transaction is ongoing for the item',
          $metadata: {},
        });
      }
      return send();
    });
    const reports = await runJob(
      db.deps({ db: db2 }),
      'activate',
      parseJobInput({ asOf: '2020-05-08T00:00:00+08:00' }),
    );
    expect(conflicts).toBe(3); // two refused, the third written
    expect(reports.reports[0]).toMatchObject({ changed: 1, failed: 0, alreadyDone: 0 });
    expect(await status('m-conflict')).toBe('ACTIVE');
  });
});

describe('the job lease', () => {
  const activateOn0508 = parseJobInput({ asOf: sh('2020-05-08 00:00') });

  it('a lease left by a dead holder lapses within the short TTL, and the next run takes it', async () => {
    expect(LEASE_TTL_MS).toBeLessThanOrEqual(60_000);
    await record(cohort(5, '2020-05-06'));
    let now = parseInstant(TEST_NOW);
    const clock = () => now;
    const killedAt = now.toMillis();
    await leaveLease(db, 'activate', {
      owner: 'cli:dead-host:4242',
      heartbeatAtMs: killedAt,
      expiresAtMs: killedAt + LEASE_TTL_MS,
    });
    now = DateTime.fromMillis(killedAt + LEASE_TTL_MS - 1000);
    await expect(runJob(db.deps({ clock }), 'activate', activateOn0508)).rejects.toThrow(
      new RegExp(
        `already running \\(lease held by cli:dead-host:4242, heartbeat ${LEASE_TTL_MS / 1000 - 1}s ago`,
      ),
    );
    expect(await status('m-2020-05-06-0000')).toBe('SCHEDULED');
    now = DateTime.fromMillis(killedAt + LEASE_TTL_MS);
    const { reports } = await runJob(db.deps({ clock }), 'activate', activateOn0508);
    expect(reports[0]?.changed).toBe(5);
    expect(await readLease(db.deps(), 'activate')).toBeUndefined(); // released at the end
  });

  it('a live run keeps its lease with a heartbeat while it reads nothing, and only while it owns it', async () => {
    let now = parseInstant(TEST_NOW);
    const deps = db.deps({ clock: () => now });
    const lease = await acquireLease(deps, 'activate', { ttlMs: 900, owner: 'live' });
    const first = await readLease(deps, 'activate');
    // Time passes with no page read at all; the heartbeat renews the lease at the new time.
    now = now.plus({ milliseconds: 800 });
    await eventually(
      async () => (await readLease(deps, 'activate'))?.heartbeatAt === formatInstant(now),
      'a heartbeat',
    );
    now = now.plus({ milliseconds: 800 }); // past the first expiry, within the renewed one
    await expect(acquireLease(deps, 'activate')).rejects.toThrow(LeaseHeldError);
    const renewed = await readLease(deps, 'activate');
    expect(renewed).toMatchObject({ owner: lease.owner, acquiredAt: first?.acquiredAt });
    expect(lease.lost).toBe(false);
    // Another run takes the lease over (as after a lapse): the next renewal finds it is not ours.
    await leaveLease(db, 'activate', {
      owner: 'intruder',
      heartbeatAtMs: now.toMillis(),
      expiresAtMs: now.toMillis() + 60_000,
    });
    await eventually(() => lease.lost, 'the loss noticed by a renewal');
    expect(() => lease.assertHeld()).toThrow(/lost \(taken over by intruder\)/);
    await lease.release();
    expect((await readLease(deps, 'activate'))?.owner).toBe('intruder'); // not ours to delete
  });

  it('a run whose lease another run took over sends nothing more once a renewal finds it, and fails', async () => {
    await record(cohort(120, '2020-05-06'));
    const base = db.deps({ writeConcurrency: 1, pageSize: 10 });
    // After the first, promotion writes wait until the run has learnt of its loss: it is still going
    // when its lease is taken over, however fast or slow the machine.
    let learnt: () => void = () => {};
    const lossLearnt = new Promise<void>((resolve) => {
      learnt = resolve;
    });
    let promotionWrites = 0;
    const slow = interceptSend(base.db, async (command, send) => {
      const key = (command as { input: { Key?: { sk?: string } } }).input.Key;
      if (key?.sk?.startsWith('PROMO#') && ++promotionWrites > 1) await lossLearnt;
      return send();
    });
    // Recorded as the run sends them (the delay comes after), so the order is the run's own.
    const recorded = recordingDeps({ ...base, db: slow });
    // The moment the run learns of the loss, in the same order.
    recorded.deps.log = {
      ...base.log,
      warn: (message) => {
        if (!message.startsWith('job lease lost')) return;
        recorded.sent.push({ name: 'lost', key: '' });
        learnt();
      },
    };
    const running = runJob(recorded.deps, 'activate', activateOn0508, { leaseTtlMs: 300 });
    const outcome = running.then(
      () => undefined,
      (error: unknown) => error,
    );
    await eventually(() => recorded.sent.some((c) => c.key.startsWith('PROMO#')), 'the first write');
    await leaveLease(db, 'activate', {
      owner: 'intruder',
      heartbeatAtMs: parseInstant(TEST_NOW).toMillis(),
      expiresAtMs: parseInstant(TEST_NOW).toMillis() + 60_000,
    });
    const error = await outcome;
    expect(error).toBeInstanceOf(LeaseLostError);
    expect((error as Error).message).toMatch(/lease of job activate lost \(taken over by intruder\)/);
    const loss = recorded.sent.findIndex((c) => c.name === 'lost');
    expect(loss).toBeGreaterThan(0);
    // The renewal that found another owner was the last lease write before the loss was known.
    expect(recorded.sent.slice(0, loss).findLast((c) => c.key === 'LEASE')).toEqual({
      name: 'PutCommand',
      key: 'LEASE',
      error: 'ConditionalCheckFailedException',
    });
    // From then on: no write, no read, only the (refused) release of the lease.
    expect(recorded.sent.slice(loss + 1).filter((c) => c.key !== 'LEASE')).toEqual([]);
    const written = recorded.sent.filter((c) => WRITES.includes(c.name) && c.key.startsWith('PROMO#'));
    expect(written.length).toBeGreaterThan(0);
    expect(written.length).toBeLessThan(120); // it stopped before the end
    expect((await readLease(db.deps(), 'activate'))?.owner).toBe('intruder');
    expect((await db.scanAll()).some((i) => String(i.sk).startsWith('RUN#'))).toBe(false); // not recorded
  });

  it('the heartbeat timer never holds a process open and is cleared on every way out of a run', async () => {
    await record(cohort(3, '2020-05-06'));
    const started = vi.spyOn(globalThis, 'setInterval');
    const cleared = vi.spyOn(globalThis, 'clearInterval');
    try {
      await runJob(db.deps(), 'activate', activateOn0508); // finishes
      const forged = parseJobInput({
        ...{ asOf: sh('2020-05-09 00:00') },
        resume: { asOf: sh('2020-05-09 00:00'), token: randomUUID() },
      });
      await expect(runJob(db.deps(), 'activate', forged)).rejects.toThrow(InputError); // fails under the lease
      const held = await acquireLease(db.deps(), 'activate', { owner: 'other' });
      await expect(runJob(db.deps(), 'activate', activateOn0508)).rejects.toThrow(LeaseHeldError); // never got it
      await held.release();
      const timers = started.mock.results.map((r) => r.value as NodeJS.Timeout);
      expect(timers).toHaveLength(3); // two runs that held the lease, and `held`
      for (const timer of timers) {
        expect(timer.hasRef()).toBe(false);
        expect(cleared.mock.calls.some(([t]) => t === timer)).toBe(true);
      }
    } finally {
      started.mockRestore();
      cleared.mockRestore();
    }
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

  it('a revocation that reaches a promotion still SCHEDULED after its start records ACTIVE (at the start), then REVOKED, and tells only the revocation', async () => {
    await record([{ merchantId: 'lagging', onboardedAt: '2020-05-06' }]);
    const checkpointPath = join(mkdtempSync(join(tmpdir(), 'revoke-lagging-')), 'checkpoint.json');
    await db.drainStream(checkpointPath, async () => ({ batchItemFailures: [] })); // earlier tests' records
    // activate never ran for 05-08: the promotion is still SCHEDULED when the violation is recorded.
    expect(await status('lagging')).toBe('SCHEDULED');
    await revokePromotion(db.deps(), 'lagging', sh('2020-05-20 09:00'), 'fake orders');
    const p = (await getPromotion(db.deps(), 'lagging')) as Promotion;
    expect(p.history.map((h) => [h.status, h.effectiveAt, h.by])).toEqual([
      ['SCHEDULED', sh('2020-05-06 00:00'), 'record'],
      ['ACTIVE', sh('2020-05-08 00:00'), 'revoke'],
      ['REVOKED', sh('2020-05-20 09:00'), 'revoke'],
    ]);
    expect(p).toMatchObject({ status: 'REVOKED', version: 2 });
    expect(p.reminder).toBeUndefined();
    const item = (await db.scanAll()).find((i) => i.merchantId === 'lagging' && i.type === 'PROMOTION');
    expect([item?.due_pk, item?.due_sk]).toEqual([undefined, undefined]); // waits for no job any more
    // The jobs leave it alone; the merchant hears of the revocation once, not of a start already cancelled.
    await run('activate', { from: '2020-05-08', to: '2020-06-10' });
    await run('expire', { from: '2020-05-08', to: '2020-06-10' });
    expect((await getPromotion(db.deps(), 'lagging'))?.version).toBe(2);
    const sinkPath = join(dirname(checkpointPath), 'notices.jsonl');
    await db.drainStream(checkpointPath, (records) =>
      notifyFromStream(records, fileSink(sinkPath), silentLog),
    );
    const sent = readFileSync(sinkPath, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Notice);
    expect(sent.map((n) => [n.merchantId, n.type, n.effectiveAt])).toEqual([
      ['lagging', 'PROMOTION_REVOKED', sh('2020-05-20 09:00')],
    ]);
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

/** What a run report says it changed, without its timings. */
const outcome = (r: RunReport) => ({
  asOf: r.asOf,
  examined: r.examined,
  changed: r.changed,
  alreadyDone: r.alreadyDone,
  failed: r.failed,
  transitions: r.transitions,
  complete: r.complete,
});

/** Job-run items carry wall-clock timings; compare the rest of the table. */
function stripRuns(items: Record<string, unknown>[]) {
  return items.filter((i) => i.type !== 'JOB_RUN');
}
