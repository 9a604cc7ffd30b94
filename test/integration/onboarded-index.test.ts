// The sparse onboarded index on DynamoDB Local: every recorded merchant is found by its onboarding date
// (T, Asia/Shanghai) without a Scan, with exactly the projected fields; a corrected T moves it; the
// range's bounds are `from` inclusive and `until` exclusive.
import { beforeEach, describe, expect, it } from 'vitest';
import { merchantRecordSchema, recordMerchants } from '../../shared/merchants/record';
import {
  type OnboardedRange,
  onboardedPartitions,
  onboardedQuery,
  readIndexPage,
} from '../../shared/store/index-reads';
import { shardOf } from '../../shared/store/keys';
import { forEachOnboarded, type OnboardedEntry, readOnboardedEntry } from '../../shared/store/merchants';
import { useLocalDynamo } from '../support/dynamo';
import { sh } from '../support/promotions';

const db = useLocalDynamo();
beforeEach(() => db.reset());

const record = (...records: Record<string, unknown>[]) =>
  recordMerchants(
    db.deps(),
    records.map((r) => merchantRecordSchema.parse(r)),
  );

/** Every raw index item in the range, read page by page as a job reads it (readIndexPage, one item a page). */
async function rawIndexItems(range: OnboardedRange): Promise<Record<string, unknown>[]> {
  const deps = db.deps({ pageSize: 1 });
  const items: Record<string, unknown>[] = [];
  for (const partition of onboardedPartitions()) {
    let start: Record<string, unknown> | undefined;
    do {
      const page = await readIndexPage(deps, onboardedQuery(partition, range), start);
      items.push(...page.items);
      start = page.next;
    } while (start);
  }
  return items;
}

/** The ids the index gives for a range, through forEachOnboarded (all shards in parallel). */
async function idsIn(range: OnboardedRange): Promise<string[]> {
  const ids: string[] = [];
  await forEachOnboarded(db.deps(), range, (entry) => ids.push(entry.merchantId));
  return ids.sort();
}

describe('the onboarded index', () => {
  it('holds every recorded merchant with exactly the projected fields, read and checked as an OnboardedEntry', async () => {
    await record(
      {
        merchantId: 'm-cosmetics',
        onboardedAt: '2020-07-03',
        categories: ['cosmetics'],
        liveCartSources: ['shop'],
      },
      { merchantId: 'm-instant', onboardedAt: '2020-06-30T16:30:00Z' }, // 07-01 00:30 in Shanghai
      { merchantId: 'm-plain', onboardedAt: '2020-05-06', liveCartSources: ['taobao', 'shop'] },
    );
    const items = await rawIndexItems({ from: '2020-01-01' });
    expect(items).toHaveLength(3);
    const cosmetics = items.find((item) => item.merchantId === 'm-cosmetics');
    // The table's keys, the index's keys and the INCLUDE attributes: no type, no timestamps, no aud_pk.
    expect(cosmetics).toEqual({
      pk: 'MERCHANT#m-cosmetics',
      sk: 'PROFILE',
      onb_pk: `ONBOARDED#${String(shardOf('m-cosmetics')).padStart(2, '0')}`,
      onboardedOn: '2020-07-03',
      merchantId: 'm-cosmetics',
      onboardedAt: '2020-07-03',
      categories: ['cosmetics'],
      liveCartSources: ['shop'],
      version: 1,
    });
    const entries = items.map(readOnboardedEntry).sort((a, b) => a.merchantId.localeCompare(b.merchantId));
    expect(entries).toEqual<OnboardedEntry[]>([
      {
        merchantId: 'm-cosmetics',
        onboardedOn: '2020-07-03',
        onboardedAt: '2020-07-03',
        categories: ['cosmetics'],
        liveCartSources: ['shop'],
        version: 1,
      },
      {
        merchantId: 'm-instant',
        onboardedOn: '2020-07-01',
        onboardedAt: '2020-07-01T00:30:00.000+08:00',
        categories: [],
        liveCartSources: [],
        version: 1,
      },
      {
        merchantId: 'm-plain',
        onboardedOn: '2020-05-06',
        onboardedAt: '2020-05-06',
        categories: [],
        liveCartSources: ['shop', 'taobao'],
        version: 1,
      },
    ]);
  });

  it('a corrected T moves the merchant to its new date (and a new version), leaving nothing at the old one', async () => {
    await record({ merchantId: 'moved', onboardedAt: '2020-05-06', occurredAt: sh('2020-05-06 09:00') });
    expect(await idsIn({ from: '2020-05-06', until: '2020-05-07' })).toEqual(['moved']);
    await record({ merchantId: 'moved', onboardedAt: '2020-07-02', occurredAt: sh('2020-05-07 09:00') });
    expect(await idsIn({ from: '2020-05-01', until: '2020-07-01' })).toEqual([]);
    const after: OnboardedEntry[] = [];
    await forEachOnboarded(db.deps(), { from: '2020-07-01', until: '2020-08-01' }, (e) => after.push(e));
    expect(after).toEqual([
      expect.objectContaining({ merchantId: 'moved', onboardedOn: '2020-07-02', version: 2 }),
    ]);
  });

  it('a range takes `from` and not `until`, by the Shanghai date; without `until` it has no end', async () => {
    await record(
      { merchantId: 'jun-30', onboardedAt: '2020-06-30' },
      { merchantId: 'jun-30-late-utc', onboardedAt: '2020-06-30T15:59:59.999Z' }, // 06-30 23:59:59.999 Shanghai
      { merchantId: 'jul-01', onboardedAt: '2020-06-30T16:00:00Z' }, // 07-01 00:00 Shanghai
      { merchantId: 'jul-31', onboardedAt: '2020-07-31' },
      { merchantId: 'aug-01', onboardedAt: '2020-08-01' },
      { merchantId: 'far', onboardedAt: '2199-12-31' },
    );
    expect(await idsIn({ from: '2020-07-01', until: '2020-08-01' })).toEqual(['jul-01', 'jul-31']);
    expect(await idsIn({ from: '2020-07-01', until: '2020-07-02' })).toEqual(['jul-01']);
    expect(await idsIn({ from: '2020-06-30', until: '2020-07-01' })).toEqual(['jun-30', 'jun-30-late-utc']);
    expect(await idsIn({ from: '2020-07-01' })).toEqual(['aug-01', 'far', 'jul-01', 'jul-31']);
    expect(await idsIn({ from: '2200-01-01' })).toEqual([]);
  });

  it('an empty range is refused before it reaches the table', () => {
    expect(() =>
      onboardedQuery(onboardedPartitions()[0] as string, { from: '2020-07-01', until: '2020-07-01' }),
    ).toThrow(/^onboarded range is empty: until 2020-07-01 is not after from 2020-07-01$/);
  });

  it('has one partition per shard, ONBOARDED#00 to ONBOARDED#15', () => {
    const partitions = onboardedPartitions();
    expect(partitions).toHaveLength(16);
    expect(partitions[0]).toBe('ONBOARDED#00');
    expect(partitions[15]).toBe('ONBOARDED#15');
    expect(new Set(partitions).size).toBe(16);
  });
});
