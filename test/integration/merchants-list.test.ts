// `merchants list` on DynamoDB Local: every filter gives exactly the enrolments the table holds for it
// (checked against a Scan the test makes), read through the onboarded or due index and never a Scan;
// a small --limit stops the paged reading as soon as it has its lines.
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { listMerchants, type MerchantLine } from '../../cli/merchants-list';
import type { Deps } from '../../shared/deps';
import { parseJobInput } from '../../shared/jobs/input';
import { runJob } from '../../shared/jobs/run';
import { merchantRecordSchema, recordMerchants, revokePromotion } from '../../shared/merchants/record';
import { PROMOTION_TYPE } from '../../shared/store/keys';
import { cliOn } from '../support/cli';
import { TEST_TABLE, useLocalDynamo } from '../support/dynamo';
import { sh } from '../support/promotions';

const db = useLocalDynamo();
const { cli } = cliOn(db, TEST_TABLE);

const ONBOARDED = Array.from({ length: 20 }, (_, i) => {
  const day = new Date(Date.UTC(2020, 5, 24 + i)).toISOString().slice(0, 10); // 2020-06-24 … 2020-07-13
  return {
    merchantId: `m-${String(i).padStart(2, '0')}`,
    onboardedAt: day,
    categories: i % 2 ? ['cosmetics'] : ['food'],
  };
});

beforeAll(async () => {
  await db.reset();
  const deps = db.deps();
  await recordMerchants(
    deps,
    ONBOARDED.map((r) => merchantRecordSchema.parse(r)),
  );
  await runJob(deps, 'activate', parseJobInput({ asOf: sh('2020-07-10 00:00') }));
  await revokePromotion(deps, 'm-03', sh('2020-07-05 12:00'), 'counterfeit goods');
});

/** Every enrolment as a line, from a Scan (tests may Scan; the command never does). */
async function allLines(): Promise<MerchantLine[]> {
  return (await db.scanAll())
    .filter((item) => item.type === PROMOTION_TYPE)
    .map((item) => ({
      merchantId: String(item.merchantId),
      onboardedOn: String(item.onboardedOn),
      programId: String(item.programId),
      status: item.status as MerchantLine['status'],
      startsAt: String(item.startsAt),
      endsBefore: String(item.endsBefore),
      nextDueAt: typeof item.due_sk === 'string' ? item.due_sk : null,
    }));
}

const byKey = (lines: MerchantLine[]) =>
  [...lines].sort((a, b) => `${a.merchantId}|${a.programId}`.localeCompare(`${b.merchantId}|${b.programId}`));

/** The deps with every command sent recorded: its name, its Limit and how many items it returned. */
function recording(overrides: Partial<Deps> = {}) {
  const sent: { name: string; index?: string; limit?: number; items: number }[] = [];
  const deps = db.deps(overrides);
  const send = deps.db.send.bind(deps.db) as (command: unknown) => Promise<Record<string, unknown>>;
  const db2 = Object.create(deps.db) as DynamoDBDocumentClient;
  db2.send = (async (command: {
    constructor: { name: string };
    input: { Limit?: number; IndexName?: string };
  }) => {
    const out = await send(command);
    const items = Array.isArray(out.Items)
      ? out.Items.length
      : Object.values((out.Responses ?? {}) as Record<string, unknown[]>).flat().length;
    sent.push({
      name: command.constructor.name,
      index: command.input.IndexName,
      limit: command.input.Limit,
      items,
    });
    return out;
  }) as DynamoDBDocumentClient['send'];
  return { deps: { ...deps, db: db2 }, sent };
}

describe('merchants list', () => {
  it('lists every enrolment of every merchant (both programs) through the onboarded index and BatchGet, no Scan', async () => {
    // One profile a page: 20 merchants in 16 shards, so some shard takes more than one page.
    const { deps, sent } = recording({ pageSize: 1 });
    const lines = await listMerchants(deps, {});
    const expected = await allLines();
    expect(expected.length).toBeGreaterThan(20); // the cosmetics merchants from 07-01 are in SEED_PLAN_2020 too
    expect(byKey(lines)).toEqual(byKey(expected));
    expect(lines.length).toBe(new Set(lines.map((l) => `${l.merchantId}|${l.programId}`)).size);
    expect(sent.map((s) => s.name)).not.toContain('ScanCommand');
    expect(new Set(sent.map((s) => s.name))).toEqual(new Set(['QueryCommand', 'BatchGetCommand']));
    // Paged: every query of the index asked for one page (the other Query reads the programs).
    const pages = sent.filter((s) => s.index === 'onboarded');
    expect(pages.length).toBeGreaterThan(20);
    expect(pages.every((s) => s.limit === 1)).toBe(true);
    expect(sent.filter((s) => s.name === 'QueryCommand' && s.index === undefined)).toHaveLength(1);
  });

  it('--status and --program select exactly the matching enrolments', async () => {
    const expected = await allLines();
    for (const filter of [
      { status: 'ACTIVE' as const },
      { status: 'SCHEDULED' as const },
      { status: 'REVOKED' as const },
      { programId: 'SEED_PLAN_2020' },
      { programId: 'NEW_MERCHANT_FEE', status: 'ACTIVE' as const },
    ]) {
      const { deps, sent } = recording({ pageSize: 10 });
      const lines = await listMerchants(deps, filter);
      const want = expected.filter(
        (l) =>
          (filter.status === undefined || l.status === filter.status) &&
          (!('programId' in filter) || l.programId === filter.programId),
      );
      expect([filter, byKey(lines)]).toEqual([filter, byKey(want)]);
      expect(want.length).toBeGreaterThan(0);
      expect(sent.map((s) => s.name)).not.toContain('ScanCommand');
    }
  });

  it('--due-before reads the due index (whole enrolments, no BatchGet): exactly those waiting for a step due by then', async () => {
    const expected = await allLines();
    for (const dueBefore of [sh('2020-07-12 00:00'), sh('2020-07-28 00:00')]) {
      for (const status of [undefined, 'SCHEDULED', 'ACTIVE', 'EXPIRED'] as const) {
        const { deps, sent } = recording({ pageSize: 10 });
        const lines = await listMerchants(deps, { dueBefore, status });
        const want = expected.filter(
          (l) =>
            l.nextDueAt !== null && l.nextDueAt <= dueBefore && (status === undefined || l.status === status),
        );
        expect([dueBefore, status, byKey(lines)]).toEqual([dueBefore, status, byKey(want)]);
        expect(new Set(sent.map((s) => s.name))).toEqual(
          status === 'EXPIRED' ? new Set() : new Set(['QueryCommand']),
        );
      }
    }
    // The later range holds some of each and leaves some out, so the filters were exercised.
    const soon = expected.filter((l) => l.nextDueAt !== null && l.nextDueAt <= sh('2020-07-28 00:00'));
    expect(soon.length).toBeLessThan(expected.filter((l) => l.nextDueAt !== null).length);
    expect(new Set(soon.map((l) => l.status))).toEqual(new Set(['SCHEDULED', 'ACTIVE']));
  });

  it('--limit stops the reading: each page asks only for what is missing, and the index gives no more items than lines', async () => {
    const everything = await listMerchants(db.deps(), { programId: 'NEW_MERCHANT_FEE' });
    for (const limit of [1, 3, 7]) {
      const { deps, sent } = recording({ pageSize: 2 });
      const lines = await listMerchants(deps, { programId: 'NEW_MERCHANT_FEE', limit });
      expect(lines).toEqual(everything.slice(0, limit)); // the first lines of the unlimited listing, in order
      const queries = sent.filter((s) => s.name === 'QueryCommand');
      // One enrolment a merchant in one program: the onboarded index gave exactly `limit` profiles.
      expect(queries.reduce((n, s) => n + s.items, 0)).toBe(limit);
      expect(queries.every((s) => (s.limit ?? 0) <= Math.min(2, limit))).toBe(true);
      expect(sent.map((s) => s.name)).not.toContain('ScanCommand');
    }
    const due = recording({ pageSize: 2 });
    const dueLines = await listMerchants(due.deps, { dueBefore: sh('2020-09-30 00:00'), limit: 3 });
    expect(dueLines).toHaveLength(3);
    expect(due.sent.filter((s) => s.name === 'QueryCommand').reduce((n, s) => n + s.items, 0)).toBe(3);
  });

  it('through the CLI: JSON Lines, --output table, and every option validated by name (exit 2)', async () => {
    const listed = await cli('merchants', 'list', '--status', 'REVOKED');
    expect([listed.status, listed.json]).toEqual([
      0,
      (await allLines()).filter((l) => l.status === 'REVOKED'),
    ]);
    expect(listed.json).toHaveLength(1);
    const table = await cli(
      'merchants',
      'list',
      '--program',
      'SEED_PLAN_2020',
      '--limit',
      '2',
      '--output',
      'table',
    );
    expect(table.status).toBe(0);
    expect(table.stdout.split('\n')[0]).toMatch(
      /^merchantId\s+onboardedOn\s+programId\s+status\s+startsAt\s+endsBefore\s+nextDueAt/,
    );
    expect(table.stdout.trim().split('\n')).toHaveLength(3);
    for (const [args, message] of [
      [['--status', 'DONE'], /--status: must be one of INELIGIBLE, SCHEDULED/],
      [['--limit', '0'], /--limit: must be at least 1 \(got 0\)/],
      [['--limit', 'many'], /--limit: .*\(got many\)/],
      [['--due-before', '2020-07-01'], /--due-before: /],
      [['--program', 'seed plan'], /--program: /],
    ] as const) {
      const refused = await cli('merchants', 'list', ...args);
      expect([args, refused.status, refused.stdout]).toEqual([args, 2, '']);
      expect(refused.stderr).toMatch(message);
    }
  });
});
