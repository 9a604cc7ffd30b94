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

/** The built-in programs as rules §4 states them (every one: T+2 for 30 days). */
const PROGRAMS: { programId: string; from: string; categories: 'ALL' | string[] }[] = [
  { programId: 'NEW_MERCHANT_FEE', from: '2020-05-01', categories: 'ALL' },
  {
    programId: 'SEED_PLAN_2020',
    from: '2020-07-01',
    categories: ['apparel', 'beauty', 'cosmetics', 'home', 'baby', 'pets'],
  },
];

function expected(merchants: number, seed: number, from: string, to: string) {
  const population = generatePopulation({
    merchants,
    seed,
    onboardFrom: DEMO_ONBOARDING.from,
    onboardTo: DEMO_ONBOARDING.to,
  });
  const statusesByProgram: Record<string, Record<string, number>> = {};
  const noticesByProgram: Record<string, Record<string, number>> = {};
  const notices: Record<string, number> = {};
  const bump = (record: Record<string, number>, key: string, n = 1) => {
    if (n > 0) record[key] = (record[key] ?? 0) + n;
  };
  let inBoth = 0;
  for (const m of population.records) {
    const t = m.onboardedAt;
    const first = plus(t, 2); // the window's first day
    const last = plus(t, 31); // its last day
    const violation = population.violations.find((v) => v.merchantId === m.merchantId);
    const revokedOn = violation && day(violation.at) <= to ? day(violation.at) : undefined;
    const eligibleFor = PROGRAMS.filter(
      (p) =>
        t >= p.from && (p.categories === 'ALL' || (m.categories ?? []).some((c) => p.categories.includes(c))),
    );
    if (eligibleFor.length === 2) inBoth++;
    for (const { programId } of PROGRAMS) {
      statusesByProgram[programId] ??= {};
      noticesByProgram[programId] ??= {};
      const statuses = statusesByProgram[programId];
      const told = noticesByProgram[programId];
      const tell = (type: string) => {
        bump(told, type);
        bump(notices, type);
      };
      // Today's promotion has an INELIGIBLE item for everyone else; other programs have none.
      if (!eligibleFor.some((p) => p.programId === programId)) {
        if (programId === 'NEW_MERCHANT_FEE') bump(statuses, 'INELIGIBLE');
        continue;
      }
      // A violation revokes every enrolment not over: each program's window is the same here.
      const revokedBeforeStart = revokedOn !== undefined && (violation?.at ?? '') < `${first}T00:00`;
      const activated = first <= to && !revokedBeforeStart;
      if (activated) tell('PROMOTION_ACTIVATED');
      // The reminder goes out at 23:59 three days before the last day, if not revoked by then.
      if (activated && plus(last, -3) <= to && !(revokedOn && revokedOn <= plus(last, -3)))
        tell('PROMOTION_ENDING_SOON');
      if (revokedOn) {
        bump(statuses, 'REVOKED');
        tell('PROMOTION_REVOKED');
      } else if (first > to) bump(statuses, 'SCHEDULED');
      else if (last <= to) {
        bump(statuses, 'EXPIRED');
        tell('PROMOTION_EXPIRED');
      } else bump(statuses, 'ACTIVE');
    }
    const liveThirdParty = (m.liveCartSources ?? []).some((s) => s !== 'shop');
    if (liveThirdParty && from <= '2020-08-26' && to >= '2020-08-26')
      bump(notices, 'CART_POLICY_ANNOUNCED', 2);
    if (liveThirdParty)
      bump(notices, 'CART_POLICY_IN_FORCE', (to >= '2020-09-06' ? 1 : 0) + (to >= '2020-10-09' ? 1 : 0));
    // Xingtu fees (rules §5), each announced the day before it takes effect: cosmetics from 07-31,
    // every category from 08-20, both pricing shop and third-party links. Told to every merchant with
    // a live cart in its scope; announced only if the replay saw the announcement day.
    const liveCart = (m.liveCartSources ?? []).length > 0;
    for (const fee of [
      {
        announcedOn: '2020-07-30',
        effective: '2020-07-31',
        inScope: (m.categories ?? []).includes('cosmetics'),
      },
      { announcedOn: '2020-08-19', effective: '2020-08-20', inScope: true },
    ]) {
      if (!liveCart || !fee.inScope) continue;
      if (from <= fee.announcedOn && to >= fee.announcedOn) bump(notices, 'XINGTU_FEE_ANNOUNCED');
      if (to >= fee.effective) bump(notices, 'XINGTU_FEE_IN_FORCE');
    }
  }
  return {
    statuses: statusesByProgram.NEW_MERCHANT_FEE,
    statusesByProgram,
    noticesByProgram,
    notices,
    inBoth,
    violations: population.violations.length,
  };
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
    expect(want.inBoth).toBeGreaterThan(0); // some merchants are in both programs
    expect(summary.statuses).toEqual(want.statuses);
    expect(summary.statusesByProgram).toEqual(want.statusesByProgram);
    expect(summary.noticesByProgram).toEqual(want.noticesByProgram);
    expect(summary.notices).toEqual(want.notices);
    // The chart's lines (active enrolments per day, from the histories) end at the statuses' ACTIVE.
    expect(summary.activeAtEnd).toEqual({
      NEW_MERCHANT_FEE: want.statusesByProgram.NEW_MERCHANT_FEE?.ACTIVE ?? 0,
      SEED_PLAN_2020: want.statusesByProgram.SEED_PLAN_2020?.ACTIVE ?? 0,
    });
    expect(summary.programs).toEqual([
      expect.objectContaining({ programId: 'NEW_MERCHANT_FEE', from: '2020-05-01', dateAssumed: false }),
      expect.objectContaining({ programId: 'SEED_PLAN_2020', from: '2020-07-01', dateAssumed: true }),
    ]);
    expect(summary.alreadyReplayed).toBe(false);
    // Where the time went: each stage's time and its DynamoDB requests (the import's: a BatchGetItem
    // and one or two transactions per chunk of 50 merchants, and the programs read once).
    const stages = summary.stages as Record<string, { ms: number; requests: number; writes: number }>;
    expect(Object.keys(stages)).toEqual(
      expect.arrayContaining([
        'import',
        'job activate',
        'job cart-policies',
        'job expire',
        'notice delivery',
        'chart',
      ]),
    );
    expect(stages.import?.requests).toBeLessThanOrEqual(20); // 4 chunks; it was 160 transactions and more
    expect(stages['job expire']?.requests).toBeGreaterThan(0);
    // Items written: the import writes each merchant's profile and its enrolments, nothing else; each
    // job writes at least one item per transition it makes (its lease and run record besides).
    const enrolments = Object.values(want.statusesByProgram).flatMap((counts) => Object.values(counts));
    expect(stages.import?.writes).toBe(160 + enrolments.reduce((a, b) => a + b, 0));
    const transitions = summary.transitions as Record<string, number>;
    expect(stages['job activate']?.writes).toBeGreaterThan(transitions.ACTIVE ?? 0);
    expect(stages['job expire']?.writes).toBeGreaterThan(
      (transitions.EXPIRED ?? 0) + (transitions.ENDING_SOON ?? 0),
    );
    expect(first.stderr).toMatch(/where the time went +time +share +requests +writes\n/);
    expect(first.stderr).toMatch(/\n {2}total +\d+\.\d s +100 % +\d+ +\d+\n/);
    expect(first.stderr).toMatch(/changes by kind/);
    expect(first.stderr).toMatch(/from {2}2020-09-06T00:00 {2}XINGTU_ONLY/);
    expect(first.stderr).toMatch(/from {2}2020-10-09T00:00 {2}BLOCKED/);
    // The per-program tables: a row per program, its counts under the columns that occur.
    const seedStatuses = want.statusesByProgram.SEED_PLAN_2020 ?? {};
    const statusColumns = ['INELIGIBLE', 'SCHEDULED', 'ACTIVE', 'EXPIRED', 'REVOKED'].filter(
      (s) => want.statusesByProgram.NEW_MERCHANT_FEE?.[s] || seedStatuses[s],
    );
    expect(first.stderr).toMatch(
      new RegExp(`SEED_PLAN_2020 +${statusColumns.map((s) => String(seedStatuses[s] ?? 0)).join(' +')}\\n`),
    );
    expect(first.stderr).toMatch(/SEED_PLAN_2020 +from 2020-07-01 \(date assumed\) +种子计划/);

    const chart = summary.chart as string;
    expect(existsSync(chart)).toBe(true);
    const html = readFileSync(chart, 'utf8');
    expect(html).toMatch(/<svg[^>]*>/);
    expect(html).toContain('>09-06 live carts: XINGTU_ONLY<');
    expect(html).toContain('>10-09 live carts: BLOCKED<');
    expect(html).toContain('>08-26 2 cart policies announced<');
    expect(html).toContain('07-01 SEED_PLAN_2020 from (date assumed)');
    expect(html).toContain('05-01 NEW_MERCHANT_FEE from');
    expect(summary.feePolicies).toEqual([
      expect.objectContaining({ policyId: 'XINGTU_FEE_2020_07_COSMETICS', dateAssumed: true }),
      expect.objectContaining({ policyId: 'XINGTU_FEE_2020_08_20', dateAssumed: false }),
    ]);
    expect(html).toContain('XINGTU_FEE_2020_08_20');
    expect(html).toContain('SEED_PLAN_2020: active enrolments');
    expect(html).toContain('data-panel="notices-PROMOTION_ACTIVATED"');
    expect(html).toMatch(/<title>2020-\d\d-\d\d PROMOTION_ACTIVATED SEED_PLAN_2020: \d+<\/title>/);

    // The notices command lists exactly what was delivered.
    const listed = await cliInProcess(['notices'], env);
    expect(listed.json).toHaveLength(Object.values(want.notices).reduce((a, b) => a + b, 0));

    // Replaying again (here the last month: both programs' notices and the 10-09 cart policy, to keep
    // the suite short) changes nothing and says so.
    const again = await cliInProcess(
      ['demo', '--merchants', '160', '--seed', '11', '--from', '2020-09-20', '--to', '2020-10-20'],
      env,
    );
    expect(again.json[0]).toMatchObject({
      alreadyReplayed: true,
      transitions: {},
      notices: {},
      noticesByProgram: {},
      statuses: want.statuses,
      statusesByProgram: want.statusesByProgram,
    });
    expect(again.stderr).toMatch(/Nothing changed/);
    // Its chart is drawn from the stored state: the range's notices are all there, not an empty chart.
    const htmlAgain = readFileSync((again.json[0] as { chart: string }).chart, 'utf8');
    expect(htmlAgain).toContain('promo-jobs demo: 2020-09-20 … 2020-10-20');
    for (const type of ['PROMOTION_ACTIVATED', 'PROMOTION_EXPIRED', 'CART_POLICY_IN_FORCE'])
      expect(htmlAgain).toContain(`data-panel="notices-${type}"`);
    expect(htmlAgain).toContain('>10-09 live carts: BLOCKED<');
    expect(htmlAgain.split('class="notice-bar"').length).toBeGreaterThan(30);
  }, 300_000);
});
