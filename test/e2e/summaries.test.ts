// Every command that changes state ends with one stderr line saying what it changed, and says
// "nothing changed" when a repeat changes nothing (issue 15): the line an operator reads last.
import { describe, expect, it } from 'vitest';
import { cliOn } from '../support/cli';
import { TEST_TABLE, useLocalDynamo } from '../support/dynamo';

const db = useLocalDynamo();
const { cli, file } = cliOn(db, TEST_TABLE);

const lastLine = (text: string) => text.trimEnd().split('\n').at(-1);

/** Runs a command twice: the first's summary line, and the repeat's. */
async function twice(...args: string[]): Promise<[string | undefined, string | undefined]> {
  const first = await cli(...args);
  expect(first.status).toBe(0);
  const again = await cli(...args);
  expect(again.status).toBe(0);
  return [lastLine(first.stderr), lastLine(again.stderr)];
}

describe('the summary line of each state-changing command', () => {
  it('says what changed, the notices delivered, and "nothing changed" on a repeat', async () => {
    await db.reset();
    expect(await twice('merchants', 'record', 'm-1', '--onboarded-at', '2020-05-06')).toEqual([
      'merchants record: m-1 created',
      'merchants record: nothing changed; m-1 unchanged',
    ]);

    const lines = file(
      'merchants.jsonl',
      [
        { merchantId: 'm-1', onboardedAt: '2020-05-06' },
        { merchantId: 'm-2', onboardedAt: '2020-05-06', categories: ['apparel'] },
      ]
        .map((line) => JSON.stringify(line))
        .join('\n'),
    );
    expect(await twice('merchants', 'import', lines)).toEqual([
      'merchants import: created 1, updated 0, unchanged 1, stale 0, rejected 0',
      'merchants import: nothing changed; created 0, updated 0, unchanged 2, stale 0, rejected 0',
    ]);

    expect(await twice('run', 'activate', '--as-of', '2020-05-08T00:00:00+08:00')).toEqual([
      'run activate as of 2020-05-08T00:00:00.000+08:00: changed 2 (ACTIVE 2); 2 notices delivered',
      'run activate as of 2020-05-08T00:00:00.000+08:00: nothing changed',
    ]);
    const [dryRun] = await twice('run', 'expire', '--as-of', '2020-06-07T00:00:00+08:00', '--dry-run');
    expect(dryRun).toBe(
      'run expire as of 2020-06-07T00:00:00.000+08:00 (dry run): nothing changed; would change 2 (EXPIRED 2)',
    );

    expect(
      await twice(
        'merchants',
        'revoke',
        'm-1',
        '--at',
        '2020-05-20T12:00:00+08:00',
        '--reason',
        'fake orders',
      ),
    ).toEqual([
      'merchants revoke: m-1 revoked at 2020-05-20T12:00:00.000+08:00 in NEW_MERCHANT_FEE; 1 notice delivered',
      'merchants revoke: nothing changed; m-1 already revoked at 2020-05-20T12:00:00.000+08:00',
    ]);

    const [loaded, reloaded] = await twice('policies', 'load-default');
    expect(loaded).toMatch(
      /^policies load-default: created 4, updated 0, unchanged 0(; \d+ notices? delivered)?$/,
    );
    expect(reloaded).toBe('policies load-default: nothing changed; created 0, updated 0, unchanged 4');

    expect(await twice('programs', 'withdraw', 'SEED_PLAN_2020', '--reason', 'ended')).toEqual([
      'programs withdraw: SEED_PLAN_2020 withdrawn (version 1)',
      'programs withdraw: nothing changed; SEED_PLAN_2020 was already withdrawn',
    ]);

    const [released] = await twice('leases', 'release', 'activate');
    expect(released).toBe('leases release: nothing changed; activate has no lease');

    const [reindexed] = await twice('merchants', 'reindex');
    expect(reindexed).toBe(
      'merchants reindex: nothing changed; examined 0, reindexed 0, already done 0, failed 0',
    );
  });
});
