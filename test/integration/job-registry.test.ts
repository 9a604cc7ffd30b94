// The job registry as its consumers see it: status asks every registry job for its scheduled
// occurrences and its own overdue rule, the demo replays them in the order they fire, and the job's
// own items (job runs, leases) are checked when read back. The stack's side (schedules, grants) is
// asserted in test/infra/stack.test.ts.
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { announcePolicy } from '../../cli/policies/announcements';
import { DEFAULT_CART_POLICIES } from '../../cli/policies/calendar';
import { systemStatus } from '../../cli/status/status';
import { occurrenceOn } from '../../shared/jobs/input';
import { readLease } from '../../shared/jobs/lease';
import { JOB_NAMES, JOB_NAMES_BY_TIME_OF_DAY, JOBS } from '../../shared/jobs/registry';
import { runJob } from '../../shared/jobs/run';
import { merchantRecordSchema, recordMerchants } from '../../shared/merchants/record';
import { cartPolicyInputSchema } from '../../shared/policies/policy';
import { JOB_LEASE_TYPE, JOB_RUN_TYPE, jobPk, jobRunSk, LEASE_SK } from '../../shared/store/keys';
import { useLocalDynamo } from '../support/dynamo';
import { sh } from '../support/promotions';

const db = useLocalDynamo();

describe('the registry', () => {
  it('gives each job a cron expression that is its time of day, and the order the jobs fire in a day', () => {
    for (const job of JOB_NAMES) {
      const { hour, minute, cron, timeZone } = JOBS[job].schedule;
      expect([job, cron, timeZone]).toEqual([job, `cron(${minute} ${hour} * * ? *)`, 'Asia/Shanghai']);
    }
    // 00:00 activate and cart-policies (in the registry's order), then 23:59 expire.
    expect(JOB_NAMES_BY_TIME_OF_DAY).toEqual(['activate', 'cart-policies', 'expire']);
  });
});

describe('status', () => {
  const asOf = sh('2020-09-06 23:59');
  const day = '2020-09-06';

  it('reports every registry job: its occurrences from its schedule, and what its own rule finds overdue; once each job has run, it is ok', async () => {
    const deps = db.deps();
    // b is ACTIVE since 05-08 (its end long past); a, recorded later, was never activated.
    await recordMerchants(deps, [merchantRecordSchema.parse({ merchantId: 'b', onboardedAt: '2020-05-06' })]);
    await runJob(deps, 'activate', { kind: 'asOf', asOf: sh('2020-05-08 00:00'), dryRun: false });
    await recordMerchants(deps, [merchantRecordSchema.parse({ merchantId: 'a', onboardedAt: '2020-05-20' })]);
    // Both policies are announced (by the operator) for 08-26, the first in force since 09-06.
    for (const policy of DEFAULT_CART_POLICIES)
      await announcePolicy(deps, cartPolicyInputSchema.parse(policy));

    const before = await systemStatus(deps, asOf, 1);
    expect(Object.keys(before.jobs)).toEqual(JOB_NAMES);
    expect(before).toMatchObject({
      ok: false,
      jobs: {
        activate: { missing: [sh('2020-09-06 00:00')], incomplete: [], overdue: 1 }, // a
        expire: { missing: [sh('2020-09-06 23:59')], incomplete: [], overdue: 1 }, // b
        'cart-policies': { missing: [sh('2020-09-06 00:00')], incomplete: [], overdue: 2 }, // neither told
      },
    });
    for (const job of JOB_NAMES) {
      expect(before.jobs[job].missing).toEqual([occurrenceOn(job, day)]);
    }

    for (const job of JOB_NAMES_BY_TIME_OF_DAY) {
      await runJob(deps, job, { kind: 'asOf', asOf: occurrenceOn(job, day), dryRun: false });
    }
    const after = await systemStatus(deps, asOf, 1);
    expect(after).toMatchObject({ ok: true });
    for (const job of JOB_NAMES) expect(after.jobs[job]).toEqual({ missing: [], incomplete: [], overdue: 0 });
  });

  it('refuses a malformed job-run item, naming its key and the field', async () => {
    const deps = db.deps();
    await deps.db.send(
      new PutCommand({
        TableName: deps.tableName,
        Item: {
          pk: jobPk('expire'),
          sk: jobRunSk(sh('2020-09-06 23:59')),
          type: JOB_RUN_TYPE,
          job: 'expire',
          asOf: sh('2020-09-06 23:59'),
          report: { complete: 'yes', failed: 0 },
          attempts: 1,
        },
      }),
    );
    await expect(systemStatus(deps, asOf, 1)).rejects.toThrow(
      `stored item JOB#expire / RUN#${sh('2020-09-06 23:59')} is malformed: report.complete:`,
    );
  });
});

describe('a lease item read back', () => {
  it('is checked: one without its expiry is an error naming its key', async () => {
    const deps = db.deps();
    await deps.db.send(
      new PutCommand({
        TableName: deps.tableName,
        Item: {
          pk: jobPk('activate'),
          sk: LEASE_SK,
          type: JOB_LEASE_TYPE,
          job: 'activate',
          owner: 'someone',
          acquiredAt: sh('2020-09-06 00:00'),
        },
      }),
    );
    await expect(readLease(deps, 'activate')).rejects.toThrow(
      'stored item JOB#activate / LEASE is malformed: expiresAtMs:',
    );
  });
});
