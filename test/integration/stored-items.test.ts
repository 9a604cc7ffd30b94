// What the repositories read back is checked against the stored items' schemas, on DynamoDB Local:
// an item written by hand with a wrong field is refused with its key and the field; items written by
// older versions of the code (fields that did not exist yet) still read.
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { announcePolicy } from '../../cli/policies/announcements';
import { parseJobInput } from '../../shared/jobs/input';
import { runJob } from '../../shared/jobs/run';
import { merchantRecordSchema, recordMerchants, recordMerchantsSettled } from '../../shared/merchants/record';
import { cartPolicyInputSchema } from '../../shared/policies/policy';
import { getMerchant, readMerchants } from '../../shared/store/merchants';
import { listPolicies } from '../../shared/store/policies';
import { getPromotion } from '../../shared/store/promotions';
import { TEST_TABLE, useLocalDynamo } from '../support/dynamo';
import { sh } from '../support/promotions';

const db = useLocalDynamo();
beforeEach(() => db.reset());

const record = (...ids: string[]) =>
  recordMerchants(
    db.deps(),
    ids.map((merchantId) => merchantRecordSchema.parse({ merchantId, onboardedAt: '2020-05-06' })),
  );
const itemAt = async (pk: string, sk: string) => {
  const item = (await db.scanAll()).find((i) => i.pk === pk && i.sk === sk);
  if (!item) throw new Error(`no item ${pk} / ${sk}`);
  return item;
};
const put = (item: Record<string, unknown>) =>
  db.clients.doc.send(new PutCommand({ TableName: TEST_TABLE, Item: item }));

describe('stored items read through the repositories', () => {
  it('a promotion with a malformed field is refused, naming its key and the field', async () => {
    await record('broken');
    const stored = await itemAt('MERCHANT#broken', 'PROMO#NEW_MERCHANT_FEE');
    const history = stored.history as Record<string, unknown>[];
    await put({ ...stored, history: [{ ...history[0], effectiveAt: 20200506 }] });
    await expect(getPromotion(db.deps(), 'broken')).rejects.toThrow(
      /^stored item MERCHANT#broken \/ PROMO#NEW_MERCHANT_FEE is malformed: history\.0\.effectiveAt: /,
    );
    await put({ ...stored, status: 'PAUSED' });
    await expect(getMerchant(db.deps(), 'broken')).rejects.toThrow(
      /MERCHANT#broken \/ PROMO#NEW_MERCHANT_FEE is malformed: status: /,
    );
    await put({ ...stored, type: 'PROMOTON' });
    const read = (await readMerchants(db.deps(), ['broken'], ['NEW_MERCHANT_FEE'])).get('broken');
    expect(read?.malformed?.message).toBe(
      'stored item MERCHANT#broken / PROMO#NEW_MERCHANT_FEE is malformed: type: must be PROMOTION (found "PROMOTON")',
    );
    expect(read?.profile?.merchantId).toBe('broken'); // the merchant's other item still reads
  });

  it('a profile missing a required field is refused; one recorded before occurredAt existed still reads', async () => {
    await record('old', 'broken');
    const { occurredAt: _, ...older } = await itemAt('MERCHANT#old', 'PROFILE');
    await put(older);
    expect((await getMerchant(db.deps(), 'old'))?.profile).toMatchObject({ merchantId: 'old', version: 1 });
    expect((await getMerchant(db.deps(), 'old'))?.profile.occurredAt).toBeUndefined();
    const { categories: __, ...broken } = await itemAt('MERCHANT#broken', 'PROFILE');
    await put(broken);
    await expect(getMerchant(db.deps(), 'broken')).rejects.toThrow(
      'stored item MERCHANT#broken / PROFILE is malformed: categories: is required',
    );
  });

  it('recording over a malformed stored merchant fails that record alone, naming the item; the others are recorded', async () => {
    await record('broken');
    const { categories: _, ...broken } = await itemAt('MERCHANT#broken', 'PROFILE');
    await put({ ...broken, categories: 'apparel' });
    const results = await recordMerchantsSettled(
      db.deps(),
      ['broken', 'fine'].map((merchantId) =>
        merchantRecordSchema.parse({ merchantId, onboardedAt: '2020-05-07' }),
      ),
    );
    expect(results[1]).toEqual({ outcome: 'created' });
    expect(String((results[0] as { error: unknown }).error)).toBe(
      'MalformedItemError: stored item MERCHANT#broken / PROFILE is malformed: categories: Invalid input: expected array, received string',
    );
    expect((await itemAt('MERCHANT#broken', 'PROFILE')).categories).toBe('apparel'); // not written over
  });

  it('a policy whose instant is not a stored instant is refused, naming its key and the field', async () => {
    const input = cartPolicyInputSchema.parse({
      policyId: 'p-1',
      title: 'test',
      announcedOn: '2020-08-26',
      effectiveAt: '2020-09-06',
      scope: { channel: 'live', categories: 'ALL' },
      thirdPartyProducts: 'BLOCKED',
    });
    await announcePolicy(db.deps(), input);
    expect((await listPolicies(db.deps())).map((p) => p.policyId)).toEqual(['p-1']);
    await put({ ...(await itemAt('CART_POLICY', 'POLICY#p-1')), effectiveAt: '2020-09-06' });
    await expect(listPolicies(db.deps())).rejects.toThrow(
      /^stored item CART_POLICY \/ POLICY#p-1 is malformed: effectiveAt: must be a stored instant/,
    );
  });

  it('a job fails a malformed due item alone, naming it, and changes the others', async () => {
    await record('good', 'broken');
    const stored = await itemAt('MERCHANT#broken', 'PROMO#NEW_MERCHANT_FEE');
    await put({ ...stored, version: '1' });
    const [report] = (await runJob(db.deps(), 'activate', parseJobInput({ asOf: sh('2020-05-08 00:00') })))
      .reports;
    expect(report).toMatchObject({ examined: 2, changed: 1, failed: 1 });
    expect(report?.failures).toEqual([
      {
        merchantId: 'broken',
        error: expect.stringMatching(
          /^MalformedItemError: stored item MERCHANT#broken \/ PROMO#NEW_MERCHANT_FEE is malformed: version: /,
        ),
      },
    ]);
    expect((await getPromotion(db.deps(), 'good'))?.status).toBe('ACTIVE');
  });
});
