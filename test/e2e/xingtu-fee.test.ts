// `xingtu-fee` through the CLI (rules §5): the fee of a live-selling task from the stored calendar,
// its JSON, and exit 2 naming the option whose amount the policy's base needs.
import { beforeAll, describe, expect, it } from 'vitest';
import { cliOn } from '../support/cli';
import { TEST_TABLE, useLocalDynamo } from '../support/dynamo';

const db = useLocalDynamo();
const { cli, file } = cliOn(db, TEST_TABLE);
beforeAll(async () => {
  await db.reset();
  expect((await cli('policies', 'load-default')).status).toBe(0);
});

const fee = (at: string, category: string, linkSource: string, ...amounts: string[]) =>
  cli('xingtu-fee', '--at', at, '--category', category, '--link-source', linkSource, ...amounts);

describe('xingtu-fee', () => {
  it('before the first fee policy: no rule (policyId null, fee null), no amount needed', async () => {
    const result = await fee('2020-07-30T23:59:59.999+08:00', 'cosmetics', 'shop');
    expect([result.status, result.json]).toEqual([
      0,
      [
        {
          at: '2020-07-30T23:59:59.999+08:00',
          category: 'cosmetics',
          linkSource: 'shop',
          allowed: true,
          fee: null,
          feeFen: null,
          rate: null,
          base: null,
          policyId: null,
        },
      ],
    ]);
  });

  it('from 2020-07-31 00:00 a cosmetics shop link pays 1% of GMV, rounded half up to the fen', async () => {
    const result = await fee('2020-07-31T00:00:00+08:00', 'cosmetics', 'shop', '--gmv', '100.50');
    expect([result.status, result.json[0]]).toEqual([
      0,
      expect.objectContaining({
        allowed: true,
        fee: 1.01,
        feeFen: 101,
        rate: 0.01,
        base: 'GMV',
        policyId: 'XINGTU_FEE_2020_07_COSMETICS',
      }),
    ]);
  });

  it('from 2020-08-20 a third-party link pays 20% of the task amount; blocked from 2020-10-09', async () => {
    expect(
      (await fee('2020-08-20T00:00:00+08:00', 'apparel', 'jd', '--task-amount', '0.70')).json[0],
    ).toMatchObject({
      allowed: true,
      fee: 0.14,
      rate: 0.2,
      base: 'TASK_AMOUNT',
      policyId: 'XINGTU_FEE_2020_08_20',
    });
    const blocked = await fee('2020-10-09T00:00:00+08:00', 'apparel', 'taobao', '--task-amount', '10');
    expect([blocked.status, blocked.json[0]]).toEqual([
      0,
      expect.objectContaining({
        allowed: false,
        fee: null,
        rate: null,
        base: null,
        blockedBy: 'live-third-party-blocked-2020-10-09',
      }),
    ]);
  });

  it('the amount the base needs, missing: exit 2 naming the option, nothing on stdout', async () => {
    const gmv = await fee('2020-07-31T00:00:00+08:00', 'cosmetics', 'shop', '--task-amount', '10');
    expect([gmv.status, gmv.stdout, gmv.stderr]).toEqual([
      2,
      '',
      expect.stringMatching(/--gmv: required: XINGTU_FEE_2020_07_COSMETICS prices shop links at 1% of GMV/),
    ]);
    const streamer = await fee('2020-07-31T00:00:00+08:00', 'cosmetics', 'taobao', '--gmv', '10');
    expect([streamer.status, streamer.stderr]).toEqual([
      2,
      expect.stringMatching(/--streamer-fee: required/),
    ]);
    const task = await fee('2020-08-20T00:00:00+08:00', 'cosmetics', 'shop', '--gmv', '10');
    expect([task.status, task.stderr]).toEqual([2, expect.stringMatching(/--task-amount: required/)]);
  });

  it('bad values: exit 2 naming the option and the value', async () => {
    const amount = await fee('2020-08-20T00:00:00+08:00', 'apparel', 'shop', '--task-amount', '1.234');
    expect([amount.status, amount.stderr]).toEqual([
      2,
      expect.stringMatching(
        /--task-amount: must be an amount in yuan with at most 2 decimals.*\(got 1\.234\)/,
      ),
    ]);
    const at = await fee('2020-08-20', 'apparel', 'shop', '--task-amount', '1');
    expect([at.status, at.stderr]).toEqual([2, expect.stringMatching(/--at: /)]);
    const source = await fee('2020-08-20T00:00:00+08:00', 'apparel', 'Tao Bao', '--task-amount', '1');
    expect([source.status, source.stderr]).toEqual([
      2,
      expect.stringMatching(/--link-source: must be lower-case/),
    ]);
    const none = await cli('xingtu-fee', '--at', '2020-08-20T00:00:00+08:00', '--category', 'apparel');
    expect([none.status, none.stderr]).toEqual([2, expect.stringMatching(/--link-source/)]);
  });

  it('the cart-policies run tells a shop-only cart of both fee policies; merchant <id> shows them as feePolicies', async () => {
    const recorded = await cli(
      ...['merchants', 'record', 'shop-cosmetics', '--onboarded-at', '2020-06-01'],
      ...['--categories', 'cosmetics', '--live-cart-sources', 'shop'],
    );
    expect(recorded.status).toBe(0);
    expect((await cli('run', 'cart-policies', '--from', '2020-07-30', '--to', '2020-08-20')).status).toBe(0);
    const types = ((await cli('notices', '--merchant', 'shop-cosmetics')).json as { type: string }[]).map(
      (n) => n.type,
    );
    expect(types).toEqual([
      'XINGTU_FEE_ANNOUNCED',
      'XINGTU_FEE_IN_FORCE',
      'XINGTU_FEE_ANNOUNCED',
      'XINGTU_FEE_IN_FORCE',
    ]);
    const merchant = (await cli('merchant', 'shop-cosmetics')).json[0] as {
      cartPolicies: unknown[];
      feePolicies: { policyId: string; status: string }[];
    };
    expect(merchant.cartPolicies).toEqual([]);
    expect(merchant.feePolicies.map((s) => [s.policyId, s.status])).toEqual([
      ['XINGTU_FEE_2020_07_COSMETICS', 'IN_FORCE'],
      ['XINGTU_FEE_2020_08_20', 'IN_FORCE'],
    ]);
  });

  it('policies announce takes a fee policy file; a bad one exits 2 naming the field; policies list says its kind', async () => {
    const policy = {
      kind: 'XINGTU_FEE',
      policyId: 'XINGTU_FEE_2020_09_01_APPAREL',
      title: '服饰类目星图服务费调整',
      announcedOn: '2020-08-25',
      effectiveAt: '2020-09-01',
      scope: { channel: 'live', categories: ['apparel'] },
      rates: { shop: { rate: 0.02, base: 'GMV' } },
    };
    const bad = await cli(
      'policies',
      'announce',
      file('bad-fee.json', JSON.stringify({ ...policy, rates: { shop: { rate: 0.02, base: 'PROFIT' } } })),
    );
    expect([bad.status, bad.stderr]).toEqual([
      2,
      expect.stringMatching(/rates\.shop\.base: must be one of GMV, STREAMER_FIXED_FEE, TASK_AMOUNT/),
    ]);
    const good = await cli('policies', 'announce', file('fee.json', JSON.stringify(policy)));
    expect([good.status, good.json[0]]).toEqual([
      0,
      expect.objectContaining({
        created: 1,
        policies: [expect.objectContaining({ policyId: policy.policyId })],
      }),
    ]);
    const listed = (await cli('policies', 'list')).json as { kind: string; policyId: string }[];
    expect(listed.find((p) => p.policyId === policy.policyId)?.kind).toBe('XINGTU_FEE');
    expect(listed.every((p) => p.kind === 'CART' || p.kind === 'XINGTU_FEE')).toBe(true);
    // From its instant it prices apparel shop links; apparel third-party links keep the 08-20 rule.
    expect((await fee('2020-09-01T00:00:00+08:00', 'apparel', 'shop', '--gmv', '100')).json[0]).toMatchObject(
      {
        fee: 2,
        policyId: policy.policyId,
      },
    );
    expect(
      (await fee('2020-09-01T00:00:00+08:00', 'apparel', 'jd', '--task-amount', '100')).json[0],
    ).toMatchObject({
      fee: 20,
      policyId: 'XINGTU_FEE_2020_08_20',
    });
  });
});
