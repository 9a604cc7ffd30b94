// The demo (what `npm start` runs), end to end on a small population, checked against an
// independent calculation of what the rules say should have happened to that population.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import { generatePopulation } from '../../cli/demo/population';
import { DEMO_ONBOARDING } from '../../cli/demo/replay';
import { cliInProcess } from '../support/cli';
import { TEST_TABLE, useLocalDynamo } from '../support/dynamo';

const db = useLocalDynamo();

/** Plain date arithmetic, written apart from shared/time.ts. */
const day = (iso: string) => iso.slice(0, 10);
const plus = (date: string, n: number) =>
  DateTime.fromISO(date, { zone: 'Asia/Shanghai' }).plus({ days: n }).toISODate() as string;

function expected(merchants: number, seed: number, from: string, to: string) {
  const population = generatePopulation({
    merchants,
    seed,
    onboardFrom: DEMO_ONBOARDING.from,
    onboardTo: DEMO_ONBOARDING.to,
  });
  const statuses: Record<string, number> = {};
  const notices: Record<string, number> = {};
  const bump = (record: Record<string, number>, key: string, n = 1) => {
    if (n > 0) record[key] = (record[key] ?? 0) + n;
  };
  for (const m of population.records) {
    const t = m.onboardedAt;
    const first = plus(t, 2); // the window's first day
    const last = plus(t, 31); // its last day
    const violation = population.violations.find((v) => v.merchantId === m.merchantId);
    const revokedOn = violation && day(violation.at) <= to ? day(violation.at) : undefined;
    if (t < '2020-05-01') {
      bump(statuses, 'INELIGIBLE');
    } else {
      const revokedBeforeStart = revokedOn !== undefined && (violation?.at ?? '') < `${first}T00:00`;
      const activated = first <= to && !revokedBeforeStart;
      if (activated) bump(notices, 'PROMOTION_ACTIVATED');
      // The reminder goes out at 23:59 three days before the last day, if not revoked by then.
      if (activated && plus(last, -3) <= to && !(revokedOn && revokedOn <= plus(last, -3)))
        bump(notices, 'PROMOTION_ENDING_SOON');
      if (revokedOn) {
        bump(statuses, 'REVOKED');
        bump(notices, 'PROMOTION_REVOKED');
      } else if (first > to) bump(statuses, 'SCHEDULED');
      else if (last <= to) {
        bump(statuses, 'EXPIRED');
        bump(notices, 'PROMOTION_EXPIRED');
      } else bump(statuses, 'ACTIVE');
    }
    const liveThirdParty = (m.liveCartSources ?? []).some((s) => s !== 'shop');
    if (liveThirdParty && from <= '2020-08-26' && to >= '2020-08-26')
      bump(notices, 'CART_POLICY_ANNOUNCED', 2);
    if (liveThirdParty)
      bump(notices, 'CART_POLICY_IN_FORCE', (to >= '2020-09-06' ? 1 : 0) + (to >= '2020-10-09' ? 1 : 0));
  }
  return { statuses, notices, violations: population.violations.length };
}

describe('demo replay', () => {
  it('ends with the statuses and notices an independent calculation gives, draws the chart, and changes nothing when repeated', async () => {
    const home = mkdtempSync(join(tmpdir(), 'demo-'));
    const env = { DYNAMODB_ENDPOINT: db.endpoint, TABLE_NAME: TEST_TABLE, PROMO_JOBS_HOME: home };
    const args = ['demo', '--merchants', '160', '--seed', '11', '--from', '2020-04-25', '--to', '2020-10-20'];
    const first = await cliInProcess(args, env);
    expect(first.status).toBe(0);
    const summary = first.json[0] as Record<string, unknown>;
    const want = expected(160, 11, '2020-04-25', '2020-10-20');
    expect(want.violations).toBeGreaterThan(0); // the population exercises revocations
    expect(summary.statuses).toEqual(want.statuses);
    expect(summary.notices).toEqual(want.notices);
    expect(summary.alreadyReplayed).toBe(false);
    expect(first.stderr).toMatch(/changes by kind/);
    expect(first.stderr).toMatch(/from {2}2020-09-06T00:00 {2}XINGTU_ONLY/);
    expect(first.stderr).toMatch(/from {2}2020-10-09T00:00 {2}BLOCKED/);

    const chart = summary.chart as string;
    expect(existsSync(chart)).toBe(true);
    const html = readFileSync(chart, 'utf8');
    expect(html).toMatch(/<svg[^>]*>/);
    expect(html).toContain('09-06 live carts: XINGTU_ONLY');
    expect(html).toContain('10-09 live carts: BLOCKED');
    expect(html).toContain('08-26 policies announced');

    // The notices command lists exactly what was delivered.
    const listed = await cliInProcess(['notices'], env);
    expect(listed.json).toHaveLength(Object.values(want.notices).reduce((a, b) => a + b, 0));

    // Replaying again (here the busiest stretch, to keep the suite short) changes nothing and says so.
    const again = await cliInProcess(
      ['demo', '--merchants', '160', '--seed', '11', '--from', '2020-08-20', '--to', '2020-10-20'],
      env,
    );
    expect(again.json[0]).toMatchObject({
      alreadyReplayed: true,
      transitions: {},
      notices: {},
      statuses: want.statuses,
    });
    expect(again.stderr).toMatch(/Nothing changed/);
  });
});
