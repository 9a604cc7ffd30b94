// The Lambda handlers of activate and expire, as modules, against DynamoDB Local.
import { DateTime } from 'luxon';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { announcePolicy } from '../../cli/policies/announcements';
import { DEFAULT_CART_POLICIES } from '../../cli/policies/calendar';
import type { JobResult } from '../../shared/lambda/job-handler';
import { merchantRecordSchema, recordMerchants } from '../../shared/merchants/record';
import { cartPolicyInputSchema } from '../../shared/policies/policy';
import { listPolicies } from '../../shared/store/policies';
import { getPromotion } from '../../shared/store/promotions';
import { dateOf, formatInstant } from '../../shared/time';
import { TEST_TABLE, useLocalDynamo } from '../support/dynamo';
import { fakeContext } from '../support/lambda';
import { sh } from '../support/promotions';

const db = useLocalDynamo();
type Handler = (event: unknown, context: unknown) => Promise<JobResult>;
let activate: Handler;
let expire: Handler;
let cartPolicies: Handler;
let stdout: string[];

beforeAll(async () => {
  // Configuration is read at cold start, i.e. when the module is first imported.
  vi.stubEnv('TABLE_NAME', TEST_TABLE);
  vi.stubEnv('DYNAMODB_ENDPOINT', db.endpoint);
  vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'ERROR');
  activate = (await import('../../functions/activate/handler')).handler as unknown as Handler;
  expire = (await import('../../functions/expire/handler')).handler as unknown as Handler;
  cartPolicies = (await import('../../functions/cart-policies/handler')).handler as unknown as Handler;
});
beforeEach(async () => {
  await db.reset();
  await recordMerchants(db.deps(), [
    merchantRecordSchema.parse({ merchantId: 'merchant-a', onboardedAt: '2020-05-06' }),
  ]);
  stdout = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    stdout.push(String(chunk));
    return true;
  });
});
afterEach(() => vi.restoreAllMocks());

describe('activate and expire handlers', () => {
  it('run as of the scheduled time of a scheduled event (00:00 Shanghai = 16:00Z the day before)', async () => {
    const result = await activate({ scheduledTime: '2020-05-07T16:00:00Z' }, fakeContext('activate'));
    expect(result.job).toBe('activate');
    expect(result.reports).toMatchObject([{ asOf: sh('2020-05-08 00:00'), changed: 1, failed: 0 }]);
    expect((await getPromotion(db.deps(), 'merchant-a'))?.status).toBe('ACTIVE');
    // One EMF document with the run's metrics, dimensioned by job.
    const emf = stdout.map((line) => JSON.parse(line)).find((doc) => doc._aws);
    expect(emf).toMatchObject({ job: 'activate', Runs: 1, Transitions: 1, Failed: 0 });
    expect(emf.LagSeconds).toBeGreaterThan(0);
  });

  it('take a manual backfill { from, to } and a dry run', async () => {
    const dry = await expire({ from: '2020-06-01', to: '2020-06-10', dryRun: true }, fakeContext('expire'));
    expect(dry.reports).toHaveLength(10);
    expect(dry.reports.every((r) => r.dryRun && r.changed === 0)).toBe(true);
    await activate({ asOf: '2020-05-08T00:00:00+08:00' }, fakeContext('activate'));
    const real = await expire({ from: '2020-06-01', to: '2020-06-10' }, fakeContext('expire'));
    expect(real.reports.map((r) => r.changed)).toEqual([0, 0, 1, 0, 0, 1, 0, 0, 0, 0]); // reminder 06-03, expiry 06-06
    expect((await getPromotion(db.deps(), 'merchant-a'))?.status).toBe('EXPIRED');
  });

  it('cart-policies puts the built-in calendar in force on its scheduled run', async () => {
    for (const policy of DEFAULT_CART_POLICIES)
      await announcePolicy(db.deps(), cartPolicyInputSchema.parse(policy));
    const result = await cartPolicies(
      { scheduledTime: '2020-09-05T16:00:00Z' },
      fakeContext('cart-policies'),
    );
    expect(result.reports).toMatchObject([{ job: 'cart-policies', asOf: sh('2020-09-06 00:00'), failed: 0 }]);
    expect(result.reports[0]?.transitions).toMatchObject({ FLAG_CHANGED: 1, POLICY_IN_FORCE: 1 });
    expect((await listPolicies(db.deps())).map((p) => p.status)).toEqual(['IN_FORCE', 'SCHEDULED']);
  });

  it('refuse a malformed event with a message naming the field, changing nothing', async () => {
    const before = await db.scanAll();
    await expect(activate({ asOf: '2020-05-08T00:00:00' }, fakeContext('activate'))).rejects.toThrow(
      /^asOf: must be an ISO 8601 instant/,
    );
    await expect(
      activate({ scheduledTime: '2020-05-07T16:00:00Z', force: true }, fakeContext('activate')),
    ).rejects.toThrow(/force: unknown field/);
    await expect(activate('run it', fakeContext('activate'))).rejects.toThrow(/must be an object/);
    expect(await db.scanAll()).toEqual(before);
  });
});

describe('runs ahead of the wall clock', () => {
  const ahead = (hours: number) => formatInstant(DateTime.now().plus({ hours }));

  it('a real run more than 1 hour past the wall clock is refused, naming the field; nothing written, no lease', async () => {
    const before = await db.scanAll();
    await expect(activate({ asOf: '2199-01-01T00:00:00+08:00' }, fakeContext('activate'))).rejects.toThrow(
      /^asOf: a real run as of 2199-01-01T00:00:00.000\+08:00 is more than 1 hour past the wall clock/,
    );
    await expect(activate({ scheduledTime: ahead(2) }, fakeContext('activate'))).rejects.toThrow(
      /^scheduledTime: a real run as of .* is more than 1 hour past the wall clock/,
    );
    // A range whose last occurrence is ahead (expire runs at 23:59: today's is not, the day after next's is).
    await expect(
      expire(
        { from: dateOf(DateTime.now().minus({ days: 3 })), to: dateOf(DateTime.now().plus({ days: 2 })) },
        fakeContext('expire'),
      ),
    ).rejects.toThrow(/^to: a real run as of .* is more than 1 hour past the wall clock/);
    expect(await db.scanAll()).toEqual(before); // nothing recorded, no lease item left or taken
  });

  it('a dry run may look ahead, and a real run within the hour of skew runs', async () => {
    const dry = await activate({ asOf: '2199-01-01T00:00:00+08:00', dryRun: true }, fakeContext('activate'));
    expect(dry.reports).toMatchObject([{ dryRun: true, changed: 1 }]);
    expect((await getPromotion(db.deps(), 'merchant-a'))?.status).toBe('SCHEDULED');
    const soon = await activate({ asOf: ahead(0.5) }, fakeContext('activate'));
    expect(soon.reports).toMatchObject([{ dryRun: false, complete: true }]);
  });
});
