// Xingtu fee policies (rules §5) on the cart-policy calendar, against DynamoDB Local: the cart-policies
// job tells each fee notice once (announced, in force, withdrawn) to the merchants whose live carts
// hold a link source the policy prices, in its category scope; re-runs and overlapping runs send
// nothing more; shop-priced policies reach shop-only carts through the onboarded index (no Scan).
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutCommand, QueryCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { announcePolicy, countAffected, withdrawPolicy } from '../../cli/policies/announcements';
import { DEFAULT_CART_POLICIES, DEFAULT_FEE_POLICIES } from '../../cli/policies/calendar';
import { silentLog } from '../../shared/deps';
import { runCartPolicies } from '../../shared/jobs/cart-policies';
import { createRunCursors } from '../../shared/jobs/checkpoint';
import { parseJobInput } from '../../shared/jobs/input';
import { runJob } from '../../shared/jobs/run';
import { emptyCounts } from '../../shared/jobs/run-context';
import { merchantRecordSchema, recordMerchants } from '../../shared/merchants/record';
import type { Notice } from '../../shared/notices/notice';
import { notifyFromStream } from '../../shared/notices/notifier';
import { fileSink } from '../../shared/notices/publisher';
import { policyInputSchema } from '../../shared/policies/policy';
import { listStoredFlags } from '../../shared/store/flags';
import { policyKey } from '../../shared/store/keys';
import { getMerchant } from '../../shared/store/merchants';
import { listPolicies } from '../../shared/store/policies';
import { daysBetween } from '../../shared/time';
import { interceptSend, steppingClock, useLocalDynamo } from '../support/dynamo';
import { sh } from '../support/promotions';

const db = useLocalDynamo();
const dir = mkdtempSync(join(tmpdir(), 'fee-policies-'));
const checkpointPath = join(dir, 'checkpoint.json');
let sinkPath: string;
let sinks = 0;

const drain = (path: string | undefined) =>
  db.drainStream(checkpointPath, async (records) =>
    path ? notifyFromStream(records, fileSink(path), silentLog) : { batchItemFailures: [] },
  );
const notices = async (): Promise<Notice[]> => {
  await drain(sinkPath);
  try {
    return readFileSync(sinkPath, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line));
  } catch {
    return [];
  }
};
/** The fee notices sent so far: merchant, type, policy (sorted). */
const feeNotices = async () =>
  (await notices())
    .filter((n) => n.type.startsWith('XINGTU_FEE_'))
    .map((n) => [n.merchantId, n.type, 'policyId' in n.data ? n.data.policyId : undefined])
    .sort();
const run = async (input: Record<string, unknown>) =>
  (await runJob(db.deps(), 'cart-policies', parseJobInput(input))).reports;
const runDays = async (from: string, to: string) => {
  for (const day of daysBetween(from, to)) {
    const [report] = await run({ asOf: sh(`${day} 00:00`) });
    expect(report?.failed).toBe(0);
  }
};
const announce = (input: unknown) => announcePolicy(db.deps(), policyInputSchema.parse(input));
const loadFeeDefaults = async () => {
  for (const policy of DEFAULT_FEE_POLICIES) await announce(policy);
};

const merchants = [
  {
    merchantId: 'shop-cosmetics',
    onboardedAt: '2020-06-01',
    categories: ['cosmetics'],
    liveCartSources: ['shop'],
  },
  {
    merchantId: 'jd-cosmetics',
    onboardedAt: '2020-06-01',
    categories: ['cosmetics'],
    liveCartSources: ['jd'],
  },
  {
    merchantId: 'taobao-apparel',
    onboardedAt: '2020-05-01',
    categories: ['apparel'],
    liveCartSources: ['shop', 'taobao'],
  },
  {
    merchantId: 'shop-apparel',
    onboardedAt: '2019-12-31',
    categories: ['apparel'],
    liveCartSources: ['shop'],
  },
  { merchantId: 'no-live-cart', onboardedAt: '2020-06-01', categories: ['cosmetics'] },
];

/** What the two built-in fee policies tell, each merchant once per policy and status. */
const BUILT_IN_NOTICES = [
  ['jd-cosmetics', 'XINGTU_FEE_ANNOUNCED', 'XINGTU_FEE_2020_07_COSMETICS'],
  ['jd-cosmetics', 'XINGTU_FEE_ANNOUNCED', 'XINGTU_FEE_2020_08_20'],
  ['jd-cosmetics', 'XINGTU_FEE_IN_FORCE', 'XINGTU_FEE_2020_07_COSMETICS'],
  ['jd-cosmetics', 'XINGTU_FEE_IN_FORCE', 'XINGTU_FEE_2020_08_20'],
  ['shop-apparel', 'XINGTU_FEE_ANNOUNCED', 'XINGTU_FEE_2020_08_20'],
  ['shop-apparel', 'XINGTU_FEE_IN_FORCE', 'XINGTU_FEE_2020_08_20'],
  ['shop-cosmetics', 'XINGTU_FEE_ANNOUNCED', 'XINGTU_FEE_2020_07_COSMETICS'],
  ['shop-cosmetics', 'XINGTU_FEE_ANNOUNCED', 'XINGTU_FEE_2020_08_20'],
  ['shop-cosmetics', 'XINGTU_FEE_IN_FORCE', 'XINGTU_FEE_2020_07_COSMETICS'],
  ['shop-cosmetics', 'XINGTU_FEE_IN_FORCE', 'XINGTU_FEE_2020_08_20'],
  ['taobao-apparel', 'XINGTU_FEE_ANNOUNCED', 'XINGTU_FEE_2020_08_20'],
  ['taobao-apparel', 'XINGTU_FEE_IN_FORCE', 'XINGTU_FEE_2020_08_20'],
];

beforeEach(async () => {
  await db.reset();
  await drain(undefined); // earlier tests' stream records are not this test's notices
  sinkPath = join(dir, `sink-${++sinks}.jsonl`);
  await recordMerchants(
    db.deps(),
    merchants.map((m) => merchantRecordSchema.parse(m)),
  );
});

describe('the built-in fee policies, replayed day by day', () => {
  it('each fee notice once, to the merchants whose live carts the policy prices in its scope; the cosmetics scope excludes apparel', async () => {
    await loadFeeDefaults();
    await runDays('2020-07-29', '2020-07-30');
    // Announced on 07-30 (assumed: the day before): cosmetics carts only, shop and third-party alike.
    expect(await feeNotices()).toEqual([
      ['jd-cosmetics', 'XINGTU_FEE_ANNOUNCED', 'XINGTU_FEE_2020_07_COSMETICS'],
      ['shop-cosmetics', 'XINGTU_FEE_ANNOUNCED', 'XINGTU_FEE_2020_07_COSMETICS'],
    ]);
    await runDays('2020-07-31', '2020-08-21');
    expect(await feeNotices()).toEqual(BUILT_IN_NOTICES);
    const policies = await listPolicies(db.deps());
    expect(policies.map((p) => [p.kind, p.policyId, p.status])).toEqual([
      ['XINGTU_FEE', 'XINGTU_FEE_2020_07_COSMETICS', 'IN_FORCE'],
      ['XINGTU_FEE', 'XINGTU_FEE_2020_08_20', 'IN_FORCE'],
    ]);
  });

  it('a notice carries the policy and its rates, and a text in the style of the cart ones', async () => {
    await loadFeeDefaults();
    await runDays('2020-07-30', '2020-07-31');
    const sent = (await notices()).filter((n) => n.merchantId === 'shop-cosmetics');
    expect(sent.map((n) => [n.type, n.effectiveAt])).toEqual([
      ['XINGTU_FEE_ANNOUNCED', sh('2020-07-31 00:00')],
      ['XINGTU_FEE_IN_FORCE', sh('2020-07-31 00:00')],
    ]);
    expect(sent[0]?.data).toEqual({
      policyId: 'XINGTU_FEE_2020_07_COSMETICS',
      title: '化妆品类目星图直播任务服务费调整',
      announcedOn: '2020-07-30',
      effectiveAt: sh('2020-07-31 00:00'),
      categories: ['cosmetics'],
      rates: { shop: { rate: 0.01, base: 'GMV' }, 'third-party': { rate: 0.05, base: 'STREAMER_FIXED_FEE' } },
    });
    expect(sent[0]?.text).toBe(
      '平台公告（2020年7月30日）：自2020年7月31日 00:00起，星图直播任务服务费：抖音小店商品链接按直播间商品成交额（GMV）的1%收取，第三方平台商品链接按达人一口价服务费（坑位费）的5%收取（适用类目：化妆品）。',
    );
    expect(sent[1]?.text).toMatch(/^自2020年7月31日 00:00起已生效：星图直播任务服务费：/);
    expect(new Set(sent.map((n) => n.eventId)).size).toBe(2);
  });

  it('a re-run, a late run and a backfill over the same days send nothing more', async () => {
    await loadFeeDefaults();
    await runDays('2020-07-29', '2020-08-21');
    const first = await feeNotices();
    expect(first).toEqual(BUILT_IN_NOTICES);
    await run({ asOf: sh('2020-08-20 00:00') });
    await run({ from: '2020-07-25', to: '2020-08-25' });
    expect(await feeNotices()).toEqual(first);
  });

  it('a dry run over the range reports, day by day, what the real run then does, and writes nothing', async () => {
    await loadFeeDefaults();
    const range = { from: '2020-07-29', to: '2020-08-21' };
    const before = await db.scanAll();
    const dry = await run({ ...range, dryRun: true });
    expect(await db.scanAll()).toEqual(before);
    const real = await run(range);
    const summary = (reports: typeof real) => reports.map((r) => [r.asOf, r.changed, r.transitions]);
    expect(summary(dry)).toEqual(summary(real));
    expect(real.reduce((sum, r) => sum + (r.transitions.XINGTU_FEE_ANNOUNCED ?? 0), 0)).toBe(6);
  });

  it('overlapping runs (no lease) tell each merchant once', async () => {
    await loadFeeDefaults();
    const runAt = async (asOf: string) => {
      const ctx = {
        deps: db.deps({ clock: steppingClock() }),
        asOf: sh(asOf),
        dryRun: false,
        counts: emptyCounts(),
        cursors: createRunCursors({}),
      };
      await runCartPolicies(ctx);
      return ctx.counts;
    };
    await runAt('2020-07-30 00:00');
    const counts = await Promise.all([
      runAt('2020-07-31 00:00'),
      runAt('2020-07-31 00:00'),
      runAt('2020-07-31 00:00'),
    ]);
    expect(counts.every((c) => c.failed === 0)).toBe(true);
    expect(counts.reduce((sum, c) => sum + (c.transitions.XINGTU_FEE_IN_FORCE ?? 0), 0)).toBe(2);
    expect(await feeNotices()).toEqual([
      ['jd-cosmetics', 'XINGTU_FEE_ANNOUNCED', 'XINGTU_FEE_2020_07_COSMETICS'],
      ['jd-cosmetics', 'XINGTU_FEE_IN_FORCE', 'XINGTU_FEE_2020_07_COSMETICS'],
      ['shop-cosmetics', 'XINGTU_FEE_ANNOUNCED', 'XINGTU_FEE_2020_07_COSMETICS'],
      ['shop-cosmetics', 'XINGTU_FEE_IN_FORCE', 'XINGTU_FEE_2020_07_COSMETICS'],
    ]);
  });

  it('cart and fee policies together: each kind tells with its own types, and fee policies set no flag', async () => {
    for (const policy of [...DEFAULT_CART_POLICIES, ...DEFAULT_FEE_POLICIES]) await announce(policy);
    await runDays('2020-08-19', '2020-08-26');
    const sent = await notices();
    expect(sent.filter((n) => n.merchantId === 'shop-apparel').map((n) => n.type)).toEqual([
      'XINGTU_FEE_ANNOUNCED',
      'XINGTU_FEE_IN_FORCE',
    ]);
    expect(
      sent
        .filter((n) => n.merchantId === 'taobao-apparel')
        .map((n) => n.type)
        .sort(),
    ).toEqual([
      'CART_POLICY_ANNOUNCED',
      'CART_POLICY_ANNOUNCED',
      'XINGTU_FEE_ANNOUNCED',
      'XINGTU_FEE_IN_FORCE',
    ]);
    expect(await listStoredFlags(db.deps())).toEqual([]); // the 08-20 fee policy in force moved no flag
    const view = await getMerchant(db.deps(), 'taobao-apparel');
    expect(view?.cartPolicies.map((s) => [s.policyId, s.status])).toEqual([
      ['live-third-party-blocked-2020-10-09', 'ANNOUNCED'],
      ['live-third-party-xingtu-only-2020-09-06', 'ANNOUNCED'],
    ]);
    expect(view?.feePolicies.map((s) => [s.policyId, s.status, s.rates.shop?.rate])).toEqual([
      ['XINGTU_FEE_2020_08_20', 'IN_FORCE', 0.05],
    ]);
  });
});

describe('whom a fee policy reaches', () => {
  const custom = (policyId: string, rates: object, categories: 'ALL' | string[] = 'ALL') => ({
    kind: 'XINGTU_FEE',
    policyId,
    title: policyId,
    announcedOn: '2020-09-01',
    effectiveAt: '2020-09-10',
    scope: { channel: 'live', categories },
    rates,
  });

  it('a policy that prices shop links reaches shop-only carts, through the onboarded index read whole, never a Scan', async () => {
    await announce(custom('SHOP_2020_09_10', { shop: { rate: 0.03, base: 'GMV' } }));
    const sent: string[] = [];
    const spying = interceptSend(db.clients.doc, (command, send) => {
      if (command instanceof ScanCommand) sent.push('Scan');
      if (command instanceof QueryCommand) sent.push(`Query ${command.input.IndexName ?? 'table'}`);
      return send();
    });
    const { reports } = await runJob(
      db.deps({ db: spying }),
      'cart-policies',
      parseJobInput({ asOf: sh('2020-09-01 00:00') }),
    );
    expect(reports[0]?.failed).toBe(0);
    expect(sent).not.toContain('Scan');
    expect(sent.filter((s) => s === 'Query onboarded')).toHaveLength(16);
    expect(sent).not.toContain('Query audience');
    expect(await feeNotices()).toEqual([
      ['shop-apparel', 'XINGTU_FEE_ANNOUNCED', 'SHOP_2020_09_10'],
      ['shop-cosmetics', 'XINGTU_FEE_ANNOUNCED', 'SHOP_2020_09_10'],
      ['taobao-apparel', 'XINGTU_FEE_ANNOUNCED', 'SHOP_2020_09_10'],
    ]);
    expect((await countAffected(db.deps(), ['SHOP_2020_09_10'])).get('SHOP_2020_09_10')).toBe(3);
  });

  it('a policy that prices only third-party links reads the audience index and tells no shop-only cart; a named source only its carts', async () => {
    await announce(custom('THIRD_PARTY_2020_09_10', { 'third-party': { rate: 0.1, base: 'TASK_AMOUNT' } }));
    await announce({
      ...custom('JD_2020_09_11', { jd: { rate: 0.1, base: 'TASK_AMOUNT' } }),
      effectiveAt: '2020-09-11',
    });
    const queried = new Set<string>();
    const spying = interceptSend(db.clients.doc, (command, send) => {
      if (command instanceof QueryCommand && command.input.IndexName) queried.add(command.input.IndexName);
      return send();
    });
    await runJob(db.deps({ db: spying }), 'cart-policies', parseJobInput({ asOf: sh('2020-09-01 00:00') }));
    expect([...queried]).toEqual(['audience']);
    expect(await feeNotices()).toEqual([
      ['jd-cosmetics', 'XINGTU_FEE_ANNOUNCED', 'JD_2020_09_11'],
      ['jd-cosmetics', 'XINGTU_FEE_ANNOUNCED', 'THIRD_PARTY_2020_09_10'],
      ['taobao-apparel', 'XINGTU_FEE_ANNOUNCED', 'THIRD_PARTY_2020_09_10'],
    ]);
  });

  it('a scoped policy reaches only its categories', async () => {
    await announce(custom('APPAREL_2020_09_10', { shop: { rate: 0.02, base: 'GMV' } }, ['apparel']));
    await run({ asOf: sh('2020-09-01 00:00') });
    expect(await feeNotices()).toEqual([
      ['shop-apparel', 'XINGTU_FEE_ANNOUNCED', 'APPAREL_2020_09_10'],
      ['taobao-apparel', 'XINGTU_FEE_ANNOUNCED', 'APPAREL_2020_09_10'],
    ]);
  });

  it('a withdrawal tells those told of the announcement, once; nobody hears it is in force', async () => {
    await announce(custom('SHOP_2020_09_10', { shop: { rate: 0.03, base: 'GMV' } }, ['cosmetics']));
    await run({ asOf: sh('2020-09-01 00:00') });
    expect(await withdrawPolicy(db.deps(), 'SHOP_2020_09_10', 'postponed')).toEqual({
      policyId: 'SHOP_2020_09_10',
      changed: true,
    });
    // The withdrawal run writes only where the policy could have been told (its scope and link
    // sources), not to every merchant of the index it reads.
    const writes: string[] = [];
    const spying = interceptSend(db.clients.doc, (command, send) => {
      if (command instanceof UpdateCommand && String(command.input.Key?.sk).startsWith('FEE_POLICY#')) {
        writes.push(String(command.input.Key?.pk));
      }
      return send();
    });
    await runJob(db.deps({ db: spying }), 'cart-policies', parseJobInput({ asOf: sh('2020-09-02 00:00') }));
    expect(writes).toEqual(['MERCHANT#shop-cosmetics']);
    await runDays('2020-09-03', '2020-09-12');
    await run({ asOf: sh('2020-09-05 00:00') });
    expect(await feeNotices()).toEqual([
      ['shop-cosmetics', 'XINGTU_FEE_ANNOUNCED', 'SHOP_2020_09_10'],
      ['shop-cosmetics', 'XINGTU_FEE_WITHDRAWN', 'SHOP_2020_09_10'],
    ]);
    const withdrawn = (await notices()).find((n) => n.type === 'XINGTU_FEE_WITHDRAWN');
    expect(withdrawn?.text).toBe(
      '平台已撤回原定于2020年9月10日 00:00生效的星图服务费政策「SHOP_2020_09_10」，现行收费规则不变。',
    );
    const view = await getMerchant(db.deps(), 'shop-cosmetics');
    expect(view?.feePolicies.map((s) => s.status)).toEqual(['WITHDRAWN']);
    expect(view?.cartPolicies).toEqual([]);
  });

  it('a corrected date re-announces it to those already told', async () => {
    const input = custom('SHOP_2020_09_10', { shop: { rate: 0.03, base: 'GMV' } }, ['cosmetics']);
    await announce(input);
    await run({ asOf: sh('2020-09-01 00:00') });
    expect(await announce({ ...input, effectiveAt: '2020-09-15' })).toBe('updated');
    await run({ asOf: sh('2020-09-02 00:00') });
    const announced = (await notices()).filter((n) => n.type === 'XINGTU_FEE_ANNOUNCED');
    expect(announced.map((n) => [n.merchantId, n.effectiveAt])).toEqual([
      ['shop-cosmetics', sh('2020-09-10 00:00')],
      ['shop-cosmetics', sh('2020-09-15 00:00')],
    ]);
  });
});

describe('policies stored before fee policies existed', () => {
  it('a stored policy item without kind reads as a cart policy, and the job still handles it', async () => {
    const { kind: _kind, ...input } = policyInputSchema.parse(DEFAULT_CART_POLICIES[0]);
    await db.clients.doc.send(
      new PutCommand({
        TableName: db.deps().tableName,
        Item: {
          ...policyKey(input.policyId),
          type: 'CART_POLICY',
          ...input,
          status: 'SCHEDULED',
          version: 1,
          history: [],
        },
      }),
    );
    const [stored] = await listPolicies(db.deps());
    expect([stored?.kind, stored?.policyId]).toEqual(['CART', 'live-third-party-xingtu-only-2020-09-06']);
    await runDays('2020-08-26', '2020-09-06');
    expect((await listPolicies(db.deps())).map((p) => [p.kind, p.status])).toEqual([['CART', 'IN_FORCE']]);
    expect((await notices()).filter((n) => n.merchantId === 'jd-cosmetics').map((n) => n.type)).toEqual([
      'CART_POLICY_ANNOUNCED',
      'CART_POLICY_IN_FORCE',
    ]);
  });
});
