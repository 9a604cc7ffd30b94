// Time-limited runs: a job given a tiny remaining-time budget stops before it, saves a checkpoint,
// and follow-up invocations finish the run without redoing or skipping work.
import { randomUUID } from 'node:crypto';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { announcePolicy } from '../../cli/policies/announcements';
import { DEFAULT_CART_POLICIES } from '../../cli/policies/calendar';
import { loadConfig } from '../../shared/config';
import type { Deps } from '../../shared/deps';
import { acquireLease, LeaseHeldError, readLease } from '../../shared/jobs/lease';
import { createJobHandler, type JobResult } from '../../shared/lambda/job-handler';
import { createObservability, type LambdaRuntime } from '../../shared/lambda/runtime';
import { merchantRecordSchema, recordMerchants } from '../../shared/merchants/record';
import { cartPolicyInputSchema } from '../../shared/policies/policy';
import type { StoredProgram } from '../../shared/programs/program';
import type { Promotion } from '../../shared/promotion/lifecycle';
import { putProgram } from '../../shared/store/programs';
import { getPromotion } from '../../shared/store/promotions';
import { formatInstant, parseInstant } from '../../shared/time';
import { interceptSend, TEST_NOW, TEST_TABLE, useLocalDynamo } from '../support/dynamo';
import { fakeContext } from '../support/lambda';
import { eventually } from '../support/processes';
import { sh } from '../support/promotions';

const db = useLocalDynamo();
beforeEach(() => db.reset());

const COHORT = 360;

function runtime(overrides: Partial<Deps> = {}): LambdaRuntime {
  const observability = createObservability();
  return {
    ...observability,
    config: loadConfig({ TABLE_NAME: TEST_TABLE }),
    deps: db.deps({ pageSize: 10, writeConcurrency: 8, log: observability.log, ...overrides }),
  };
}

/**
 * Invokes the handler, then every follow-up it asks for, each with a tiny time budget: its remaining
 * time is ample for its first `readings` looks at the clock (one by middy, then one per page), then
 * below the stop margin — counted, not timed, so the runs are cut short however fast the machine is.
 */
async function invokeUntilDone(
  job: 'activate' | 'cart-policies',
  event: Record<string, unknown>,
  readings: number,
) {
  const margin = 3000;
  const budget = () => {
    let left = readings;
    return () => (left-- > 0 ? 600_000 : margin - 1);
  };
  const follow: Record<string, unknown>[] = [];
  const handler = createJobHandler(job, runtime(), {
    stopMarginMs: margin,
    invokeContinuation: async (next) => {
      follow.push(next);
    },
  });
  const results: JobResult[] = [];
  let next: Record<string, unknown> | undefined = event;
  while (next) {
    results.push(await handler(next as never, fakeContext(job, budget())));
    next = follow.shift();
    expect(results.length).toBeLessThan(200); // a run that never finishes would loop here
  }
  return results;
}

describe('time-limited runs', () => {
  it('activate stopped in the middle of a late enrolment continues where it stopped: each merchant enrolled once', async () => {
    const n = 120;
    await recordMerchants(
      db.deps(),
      Array.from({ length: n }, (_, i) =>
        merchantRecordSchema.parse({
          merchantId: `late-${String(i).padStart(4, '0')}`,
          onboardedAt: '2020-06-20',
          categories: ['food'],
        }),
      ),
    );
    const program: StoredProgram = {
      programId: 'FOOD_BOOST',
      name: '美食扶持',
      eligibility: { from: '2020-06-01', categories: ['food'] },
      window: { startOffsetDays: 0, lengthDays: 10 },
      benefits: { capabilities: ['LIVE_TRAFFIC_SUPPORT'] },
      status: 'ANNOUNCED',
      version: 1,
      history: [
        { status: 'ANNOUNCED', processedAt: formatInstant(parseInstant(TEST_NOW).minus({ hours: 1 })) },
      ],
    };
    await putProgram(db.deps(), program, 0);
    const results = await invokeUntilDone('activate', { scheduledTime: '2020-06-24T16:00:00Z' }, 6);
    const reports = results.flatMap((r) => r.reports);
    expect(results.length).toBeGreaterThan(1); // it really was cut short, in the enrolment phase too
    expect(reports.slice(0, -1).every((r) => !r.complete && (r.transitions.ENROLLED ?? 0) < n)).toBe(true);
    expect(reports.reduce((sum, r) => sum + (r.transitions.ENROLLED ?? 0), 0)).toBe(n);
    const enrolments = (await db.scanAll()).filter(
      (i) => i.sk === 'PROMO#FOOD_BOOST',
    ) as unknown as Promotion[];
    expect(enrolments).toHaveLength(n);
    for (const e of enrolments) {
      expect([e.status, e.version, e.history.filter((h) => h.by === 'enrol').length]).toEqual([
        'ACTIVE',
        1,
        1,
      ]);
    }
  });

  it('activate over a large cohort stops before its deadline and the continuations finish it: each promotion changed once', async () => {
    const records = Array.from({ length: COHORT }, (_, i) =>
      merchantRecordSchema.parse({
        merchantId: `big-${String(i).padStart(5, '0')}`,
        onboardedAt: '2020-05-06',
      }),
    );
    await recordMerchants(db.deps(), records);
    const results = await invokeUntilDone('activate', { scheduledTime: '2020-05-07T16:00:00Z' }, 8);
    const reports = results.flatMap((r) => r.reports);
    expect(results.length).toBeGreaterThan(1); // it really was cut short
    // Each continuation names its checkpoint, which stays in the table: a small event, one token throughout.
    const continuations = results.slice(0, -1).map((r) => r.continuation as Record<string, unknown>);
    for (const event of continuations) {
      expect(event).toEqual({
        asOf: sh('2020-05-08 00:00'),
        dryRun: false,
        resume: { asOf: sh('2020-05-08 00:00'), token: expect.stringMatching(/^[0-9a-f-]{36}$/) },
      });
      expect(JSON.stringify(event).length).toBeLessThan(200);
    }
    expect(new Set(continuations.map((e) => (e.resume as { token: string }).token)).size).toBe(1);
    expect(reports.slice(0, -1).every((r) => !r.complete)).toBe(true);
    expect(reports.at(-1)?.complete).toBe(true);
    expect(reports.every((r) => r.asOf === sh('2020-05-08 00:00') && r.failed === 0)).toBe(true);
    expect(reports.reduce((sum, r) => sum + r.changed, 0)).toBe(COHORT); // nothing redone, nothing skipped
    const promotions = (await db.scanAll()).filter((i) => i.type === 'PROMOTION') as unknown as Promotion[];
    expect(promotions).toHaveLength(COHORT);
    for (const p of promotions) {
      expect([
        p.merchantId,
        p.status,
        p.version,
        p.history.filter((h) => h.status === 'ACTIVE').length,
      ]).toEqual([p.merchantId, 'ACTIVE', 2, 1]);
    }
    // The job-run item keeps a checkpoint only while the run is unfinished.
    const { Items = [] } = await db.clients.doc.send(
      new QueryCommand({
        TableName: TEST_TABLE,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': 'JOB#activate' },
      }),
    );
    const run = Items.find((i) => i.sk === `RUN#${sh('2020-05-08 00:00')}`);
    expect(run?.attempts).toBe(results.length);
    expect(run?.checkpoint).toBeUndefined();
    expect(run?.resumeToken).toBeUndefined(); // a finished run can no longer be continued
    expect(Items.some((i) => i.sk === 'LEASE')).toBe(false); // released by every invocation
  });

  it('a backfill range continues at the occurrence it stopped in and then does the rest, in order', async () => {
    const records = Array.from({ length: 240 }, (_, i) =>
      merchantRecordSchema.parse({
        merchantId: `r-${i}`,
        onboardedAt: i % 2 === 0 ? '2020-05-06' : '2020-05-08',
      }),
    );
    await recordMerchants(db.deps(), records);
    const results = await invokeUntilDone('activate', { from: '2020-05-07', to: '2020-05-11' }, 4);
    const reports = results.flatMap((r) => r.reports);
    const completed = reports.filter((r) => r.complete).map((r) => r.asOf);
    expect(completed).toEqual(['07', '08', '09', '10', '11'].map((d) => sh(`2020-05-${d} 00:00`)));
    expect(reports.reduce((sum, r) => sum + r.changed, 0)).toBe(240);
    expect(results.length).toBeGreaterThan(1);
  });

  it('cart-policies over a large audience stops and continues without telling anyone twice', async () => {
    const records = Array.from({ length: 300 }, (_, i) =>
      merchantRecordSchema.parse({
        merchantId: `a-${i}`,
        onboardedAt: '2020-06-01',
        liveCartSources: ['taobao'],
      }),
    );
    await recordMerchants(db.deps(), records);
    for (const policy of DEFAULT_CART_POLICIES)
      await announcePolicy(db.deps(), cartPolicyInputSchema.parse(policy));
    const results = await invokeUntilDone('cart-policies', { asOf: '2020-08-26T00:00:00+08:00' }, 6);
    const reports = results.flatMap((r) => r.reports);
    expect(results.length).toBeGreaterThan(1);
    expect(reports.reduce((sum, r) => sum + (r.transitions.CART_POLICY_ANNOUNCED ?? 0), 0)).toBe(600); // 300 × 2 policies
    const states = (await db.scanAll()).filter((i) => i.type === 'MERCHANT_CART_POLICY');
    expect(states).toHaveLength(600);
    expect(states.every((s) => s.status === 'ANNOUNCED')).toBe(true);
  });

  it('a forged resume is refused: no checkpoint from the event, no run reported complete, nothing written', async () => {
    await recordMerchants(db.deps(), [
      merchantRecordSchema.parse({ merchantId: 'due-1', onboardedAt: '2020-05-06' }),
      merchantRecordSchema.parse({ merchantId: 'due-2', onboardedAt: '2020-05-06' }),
    ]);
    const handler = createJobHandler('activate', runtime());
    const asOf = sh('2020-05-08 00:00');
    const before = await db.scanAll();
    // The old shape, a checkpoint claiming every shard done: refused by the schema.
    const allDone = Object.fromEntries(
      Array.from({ length: 16 }, (_, i) => [`ACTIVATE#${String(i).padStart(2, '0')}`, 'done']),
    );
    await expect(
      handler({ asOf, resume: { asOf, checkpoint: allDone } } as never, fakeContext('activate')),
    ).rejects.toThrow(/^resume\.token: is required; resume\.checkpoint: unknown field/);
    // A well-formed token that no job-run item holds: refused under the lease, before any work.
    await expect(
      handler({ asOf, resume: { asOf, token: randomUUID() } } as never, fakeContext('activate')),
    ).rejects.toThrow(/^resume\.token: no unfinished run of activate as of .* has this token/);
    expect(await db.scanAll()).toEqual(before); // nothing written, the lease released
    expect((await getPromotion(db.deps(), 'due-1'))?.status).toBe('SCHEDULED');
  });

  it('a continuation replayed after its run finished is refused, and the finished run stays as it was', async () => {
    const records = Array.from({ length: 60 }, (_, i) =>
      merchantRecordSchema.parse({ merchantId: `re-${i}`, onboardedAt: '2020-05-06' }),
    );
    await recordMerchants(db.deps(), records);
    const results = await invokeUntilDone('activate', { asOf: sh('2020-05-08 00:00') }, 3);
    expect(results.length).toBeGreaterThan(1);
    const stale = results[0]?.continuation;
    const after = await db.scanAll();
    const handler = createJobHandler('activate', runtime());
    await expect(handler(stale as never, fakeContext('activate'))).rejects.toThrow(/^resume\.token: /);
    expect(await db.scanAll()).toEqual(after);
  });

  it('a Lambda run that outlasts its lease’s TTL keeps it through its heartbeat, and finishes', async () => {
    await recordMerchants(db.deps(), [
      merchantRecordSchema.parse({ merchantId: 'slow-1', onboardedAt: '2020-05-06' }),
    ]);
    let now = parseInstant(TEST_NOW);
    const clock = () => now;
    // The run's first promotion write waits until the test lets it go: the invocation is "long".
    let letGo: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      letGo = resolve;
    });
    let writing = false;
    const base = db.deps();
    const slowDb = interceptSend(base.db, async (command, send) => {
      if ((command as { input: { Key?: { sk?: string } } }).input.Key?.sk?.startsWith('PROMO#')) {
        writing = true;
        await gate;
      }
      return send();
    });
    const handler = createJobHandler('activate', runtime({ db: slowDb, clock }), { leaseTtlMs: 900 });
    const invocation = handler({ asOf: sh('2020-05-08 00:00') } as never, fakeContext('activate'));
    await eventually(() => writing, 'the run writing');
    const takenAt = now;
    for (let step = 1; step <= 3; step++) {
      now = takenAt.plus({ milliseconds: 800 * step }); // past each expiry the lease had before
      await eventually(
        async () => (await readLease(db.deps(), 'activate'))?.heartbeatAt === formatInstant(now),
        `heartbeat ${step}`,
      );
      await expect(acquireLease(db.deps({ clock }), 'activate')).rejects.toThrow(LeaseHeldError);
    }
    letGo();
    const result = await invocation;
    expect(result.reports).toMatchObject([{ complete: true, changed: 1, failed: 0 }]);
    expect(await readLease(db.deps(), 'activate')).toBeUndefined();
  });
});
