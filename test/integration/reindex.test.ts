// `merchants reindex` on DynamoDB Local: profiles written before the onboarded index existed (no
// `onb_pk`, put here by hand as the older code wrote them) enter the index; nothing else changes; a dry
// run counts exactly and writes nothing; a repeat finds nothing; a profile recorded again meanwhile
// is left as its writer left it.
import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { reindexMerchants } from '../../cli/import/reindex';
import { merchantRecordSchema, recordMerchant, recordMerchants } from '../../shared/merchants/record';
import { onboardedKey } from '../../shared/store/keys';
import { addOnboardedKey, forEachOnboarded } from '../../shared/store/merchants';
import { cliOn } from '../support/cli';
import { interceptSend, TEST_TABLE, useLocalDynamo } from '../support/dynamo';

const db = useLocalDynamo();
const { cli } = cliOn(db, TEST_TABLE);
beforeEach(() => db.reset());

const OLD = Array.from({ length: 40 }, (_, i) => `old-${String(i).padStart(2, '0')}`);
const NEW = ['new-a', 'new-b', 'new-c'];

/** Records merchants, then puts the old ones' profiles back as the code before the index wrote them. */
async function tableFromBeforeTheIndex(): Promise<void> {
  await recordMerchants(
    db.deps(),
    [...OLD, ...NEW].map((merchantId, i) =>
      merchantRecordSchema.parse({ merchantId, onboardedAt: `2020-0${5 + (i % 4)}-1${i % 10}` }),
    ),
  );
  for (const item of await db.scanAll()) {
    if (item.sk !== 'PROFILE' || !OLD.includes(String(item.merchantId))) continue;
    const { onb_pk: _, ...older } = item;
    await db.clients.doc.send(new PutCommand({ TableName: TEST_TABLE, Item: older }));
  }
}

async function indexedIds(): Promise<string[]> {
  const ids: string[] = [];
  await forEachOnboarded(db.deps(), { from: '1970-01-01' }, (entry) => ids.push(entry.merchantId));
  return ids.sort();
}

const profiles = async () => (await db.scanAll()).filter((item) => item.sk === 'PROFILE');

describe('merchants reindex', () => {
  it('a dry run counts exactly the profiles without the key and writes nothing; the run puts them in the index; a repeat finds none', async () => {
    await tableFromBeforeTheIndex();
    expect(await indexedIds()).toEqual(NEW);
    const before = await db.scanAll();

    const dry = await cli('merchants', 'reindex', '--dry-run');
    expect(dry.status).toBe(0);
    expect(dry.json).toEqual([
      { examined: 40, reindexed: 40, alreadyDone: 0, failed: 0, failures: [], dryRun: true },
    ]);
    expect(dry.stderr).toContain(
      'merchants reindex (dry run): nothing changed; examined 40, would reindex 40, already done 0\n',
    );
    expect(await db.scanAll()).toEqual(before);

    const run = await cli('merchants', 'reindex');
    expect(run.status).toBe(0);
    expect(run.json).toEqual([
      { examined: 40, reindexed: 40, alreadyDone: 0, failed: 0, failures: [], dryRun: false },
    ]);
    expect(run.stderr).toContain('merchants reindex: examined 40, reindexed 40, already done 0, failed 0\n');
    expect(await indexedIds()).toEqual([...NEW, ...OLD].sort());

    // Each old profile gained its key and nothing else; no other item changed.
    const after = await db.scanAll();
    expect(after).toEqual(
      before.map((item) =>
        item.sk === 'PROFILE' && OLD.includes(String(item.merchantId))
          ? { ...item, ...onboardedKey(String(item.merchantId)) }
          : item,
      ),
    );

    const again = await cli('merchants', 'reindex');
    expect(again.json).toEqual([
      { examined: 0, reindexed: 0, alreadyDone: 0, failed: 0, failures: [], dryRun: false },
    ]);
    expect(await db.scanAll()).toEqual(after);
  });

  it('reads every segment page by page (small pages, several segments)', async () => {
    await tableFromBeforeTheIndex();
    const summary = await reindexMerchants(db.deps({ pageSize: 3 }), { dryRun: false, segments: 5 });
    expect(summary).toMatchObject({ examined: 40, reindexed: 40, alreadyDone: 0, failed: 0 });
    expect(await indexedIds()).toEqual([...NEW, ...OLD].sort());
  });

  it('leaves a profile recorded again between the Scan and its write as the recorder wrote it (already done)', async () => {
    await tableFromBeforeTheIndex();
    let raced = false;
    const racing = interceptSend(db.clients.doc, async (command, send) => {
      if (!raced && command instanceof UpdateCommand && command.input.Key?.pk === 'MERCHANT#old-07') {
        raced = true; // the recorder corrects old-07's T first, writing the whole profile with its key
        await recordMerchant(
          db.deps(),
          merchantRecordSchema.parse({ merchantId: 'old-07', onboardedAt: '2020-09-01' }),
        );
      }
      return send();
    });
    const summary = await reindexMerchants(db.deps({ db: racing }), { dryRun: false });
    expect(raced).toBe(true);
    expect(summary).toMatchObject({ examined: 40, reindexed: 39, alreadyDone: 1, failed: 0 });
    const moved = (await profiles()).find((item) => item.merchantId === 'old-07');
    expect(moved).toMatchObject({ onboardedOn: '2020-09-01', version: 2, ...onboardedKey('old-07') });
  });

  it('never creates a profile, and never rewrites a key that is there', async () => {
    await tableFromBeforeTheIndex();
    expect(await addOnboardedKey(db.deps(), 'nobody')).toBe(false);
    expect((await db.scanAll()).some((item) => item.pk === 'MERCHANT#nobody')).toBe(false);
    await db.clients.doc.send(
      new UpdateCommand({
        TableName: TEST_TABLE,
        Key: { pk: 'MERCHANT#new-a', sk: 'PROFILE' },
        UpdateExpression: 'SET onb_pk = :odd',
        ExpressionAttributeValues: { ':odd': 'ONBOARDED#odd' },
      }),
    );
    expect(await addOnboardedKey(db.deps(), 'new-a')).toBe(false);
    expect((await profiles()).find((item) => item.merchantId === 'new-a')?.onb_pk).toBe('ONBOARDED#odd');
  });

  it('a profile whose id does not match its key fails alone, named, with exit 1; the others are reindexed', async () => {
    await tableFromBeforeTheIndex();
    const broken = (await profiles()).find((item) => item.merchantId === 'old-03');
    await db.clients.doc.send(
      new PutCommand({ TableName: TEST_TABLE, Item: { ...broken, merchantId: 'someone-else' } }),
    );
    const run = await cli('merchants', 'reindex');
    expect(run.status).toBe(1);
    expect(run.json).toEqual([
      {
        examined: 40,
        reindexed: 39,
        alreadyDone: 0,
        failed: 1,
        failures: [
          { pk: 'MERCHANT#old-03', error: `profile's merchantId "someone-else" does not match its key` },
        ],
        dryRun: false,
      },
    ]);
    expect((await profiles()).find((item) => item.pk === 'MERCHANT#old-03')?.onb_pk).toBeUndefined();
  });
});
