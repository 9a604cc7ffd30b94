// Programs stored as data (rules §4) against DynamoDB Local: the built-ins are there without any load
// step, a stored program with a built-in's id overrides it, writes are conditional on the version read.
import { PutCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  announcePrograms,
  countEligible,
  countWouldEnrol,
  withdrawProgram,
} from '../../cli/programs/announcements';
import { ConflictError, NotFoundError } from '../../shared/errors';
import { merchantRecordSchema, recordMerchants } from '../../shared/merchants/record';
import {
  BUILT_IN_PROGRAMS,
  MAX_PROGRAMS,
  type Program,
  type StoredProgram,
} from '../../shared/programs/program';
import { enrolmentKey } from '../../shared/store/keys';
import { putProgram, readPrograms, readStoredPrograms } from '../../shared/store/programs';
import { promotionItem } from '../../shared/store/promotions';
import { interceptSend, TEST_NOW, TEST_TABLE, useLocalDynamo } from '../support/dynamo';
import { recorded } from '../support/promotions';

const db = useLocalDynamo();
beforeEach(() => db.reset());

const seedPlan = BUILT_IN_PROGRAMS.find((p) => p.programId === 'SEED_PLAN_2020') as Program;
const stored = (program: Program, version = 1): StoredProgram => ({
  ...program,
  status: 'ANNOUNCED',
  version,
  history: [{ status: 'ANNOUNCED', processedAt: TEST_NOW }],
});
const livestream: Program = {
  programId: 'LIVE_BOOST',
  name: '直播扶持',
  eligibility: { from: '2020-08-01', categories: ['food'] },
  window: { startOffsetDays: 0, lengthDays: 7 },
  benefits: { capabilities: ['LIVE_TRAFFIC_SUPPORT'] },
};

describe('the programs repository', () => {
  it('reads the built-ins (version 0) from an empty table, NEW_MERCHANT_FEE starting on PROGRAM_START', async () => {
    expect(await readPrograms(db.deps())).toEqual(
      BUILT_IN_PROGRAMS.map((program) => ({ program, status: 'ANNOUNCED', version: 0, source: 'built-in' })),
    );
    const [newMerchantFee] = await readPrograms(db.deps({ programStart: '2020-06-01' }));
    expect(newMerchantFee?.program.eligibility.from).toBe('2020-06-01');
  });

  it('a stored program with a built-in id overrides it in place; other stored ones follow the built-ins', async () => {
    const corrected = { ...seedPlan, eligibility: { ...seedPlan.eligibility, from: '2020-07-15' } };
    expect(await putProgram(db.deps(), stored(livestream), 0)).toBe(true);
    expect(await putProgram(db.deps(), stored(corrected), 0)).toBe(true);
    // Another kind of item in the partition (a job's progress, say) is not a program.
    await db.clients.doc.send(
      new PutCommand({ TableName: TEST_TABLE, Item: { pk: 'PROGRAM', sk: 'ENROLMENT#X', type: 'OTHER' } }),
    );
    expect(
      (await readPrograms(db.deps())).map(({ program, version, source }) => [program, version, source]),
    ).toEqual([
      [BUILT_IN_PROGRAMS[0], 0, 'built-in'],
      [corrected, 1, 'stored'],
      [livestream, 1, 'stored'],
    ]);
  });

  it('writes only over the version read: a second first write, or one from a stale version, loses', async () => {
    expect(await putProgram(db.deps(), stored(livestream), 0)).toBe(true);
    expect(await putProgram(db.deps(), stored(livestream), 0)).toBe(false);
    expect(await putProgram(db.deps(), stored(livestream, 2), 1)).toBe(true);
    expect(await putProgram(db.deps(), stored(livestream, 2), 1)).toBe(false);
    expect((await readPrograms(db.deps())).at(-1)?.version).toBe(2);
  });

  it('a malformed stored program is refused, naming its key and the field', async () => {
    await db.clients.doc.send(
      new PutCommand({
        TableName: TEST_TABLE,
        Item: {
          pk: 'PROGRAM',
          sk: 'PROGRAM#LIVE_BOOST',
          type: 'PROGRAM',
          ...stored(livestream),
          window: { lengthDays: 7 },
        },
      }),
    );
    await expect(readPrograms(db.deps())).rejects.toThrow(
      'stored item PROGRAM / PROGRAM#LIVE_BOOST is malformed: window.startOffsetDays: is required',
    );
  });
});

const withFrom = (program: Program, from: string): Program => ({
  ...program,
  eligibility: { ...program.eligibility, from },
});
const announce = (programs: Program[], dryRun = false) => announcePrograms(db.deps(), programs, { dryRun });
const outcomes = async (programs: Program[], dryRun = false) =>
  (await announce(programs, dryRun)).map(({ program, outcome }) => [program.programId, outcome]);

describe('announcing, correcting and withdrawing programs', () => {
  it('a correction of a built-in is stored as version 1, keeping the built-in as previous; the next, version 2', async () => {
    expect(await outcomes([withFrom(seedPlan, '2020-07-06')])).toEqual([['SEED_PLAN_2020', 'corrected']]);
    expect(await outcomes([withFrom(seedPlan, '2020-07-10')])).toEqual([['SEED_PLAN_2020', 'corrected']]);
    const [stored] = await readStoredPrograms(db.deps());
    expect(stored).toEqual({
      ...withFrom(seedPlan, '2020-07-10'),
      status: 'ANNOUNCED',
      version: 2,
      history: [
        { status: 'CORRECTED', processedAt: TEST_NOW, previous: seedPlan },
        { status: 'CORRECTED', processedAt: TEST_NOW, previous: withFrom(seedPlan, '2020-07-06') },
      ],
    });
    // The built-in's own content again is a correction too (back to July 1st), not "unchanged".
    expect(await outcomes([seedPlan])).toEqual([['SEED_PLAN_2020', 'corrected']]);
    expect((await readPrograms(db.deps()))[1]).toEqual({
      program: seedPlan,
      status: 'ANNOUNCED',
      version: 3,
      source: 'stored',
      changedAt: TEST_NOW,
    });
  });

  it('the same content is unchanged whatever the order of its fields; a dry run writes nothing', async () => {
    expect(await outcomes([livestream, seedPlan], true)).toEqual([
      ['LIVE_BOOST', 'created'],
      ['SEED_PLAN_2020', 'unchanged'],
    ]);
    expect(await db.scanAll()).toEqual([]);
    await announce([livestream]);
    const before = await db.scanAll();
    const reordered: Program = {
      benefits: livestream.benefits,
      window: { lengthDays: 7, startOffsetDays: 0 },
      eligibility: { categories: ['food'], from: '2020-08-01' },
      name: livestream.name,
      programId: livestream.programId,
    };
    expect(Object.keys(reordered)).not.toEqual(Object.keys(livestream));
    expect(await outcomes([reordered])).toEqual([['LIVE_BOOST', 'unchanged']]);
    expect(await db.scanAll()).toEqual(before);
  });

  it('withdraw marks it WITHDRAWN with its reason; again changes nothing; an unknown id is not found', async () => {
    expect(await withdrawProgram(db.deps(), 'NEW_MERCHANT_FEE', 'ended')).toEqual({
      programId: 'NEW_MERCHANT_FEE',
      changed: true,
      status: 'WITHDRAWN',
      version: 1,
    });
    const after = await db.scanAll();
    expect(after).toEqual([
      expect.objectContaining({
        sk: 'PROGRAM#NEW_MERCHANT_FEE',
        status: 'WITHDRAWN',
        withdrawReason: 'ended',
        history: [{ status: 'WITHDRAWN', processedAt: TEST_NOW, reason: 'ended' }],
      }),
    ]);
    expect(await withdrawProgram(db.deps(), 'NEW_MERCHANT_FEE', 'another reason')).toMatchObject({
      changed: false,
    });
    expect(await db.scanAll()).toEqual(after);
    await expect(withdrawProgram(db.deps(), 'NO_SUCH', 'x')).rejects.toThrow(NotFoundError);
  });

  it('a file naming a withdrawn program is refused whole: nothing of it is written', async () => {
    await announce([livestream]);
    await withdrawProgram(db.deps(), 'LIVE_BOOST', 'ended');
    const before = await db.scanAll();
    const other = { ...livestream, programId: 'OTHER' };
    await expect(announce([other, withFrom(seedPlan, '2020-07-06'), livestream])).rejects.toThrow(
      /program LIVE_BOOST is withdrawn/,
    );
    expect(await db.scanAll()).toEqual(before);
  });

  it(`refuses a program that would make more than ${MAX_PROGRAMS} not withdrawn; a withdrawal makes room`, async () => {
    const many = (from: number, n: number) =>
      Array.from({ length: n }, (_, i) => ({ ...livestream, programId: `P${from + i}` }));
    await announce(many(0, MAX_PROGRAMS - BUILT_IN_PROGRAMS.length));
    const before = await db.scanAll();
    await expect(announce(many(100, 1))).rejects.toThrow(ConflictError);
    await expect(announce(many(100, 1))).rejects.toThrow(/would make 51 programs not withdrawn; at most 50/);
    expect(await db.scanAll()).toEqual(before);
    // A correction of one already there adds none.
    expect(await outcomes([{ ...livestream, programId: 'P0', name: '改名' }])).toEqual([['P0', 'corrected']]);
    await withdrawProgram(db.deps(), 'SEED_PLAN_2020', 'room');
    expect(await outcomes(many(100, 1))).toEqual([['P100', 'created']]);
  });

  it('concurrent announcements and withdrawals of the same program end in one state, each change once', async () => {
    const results = await Promise.all(
      Array.from({ length: 4 }, () => announce([livestream, withFrom(seedPlan, '2020-07-06')])),
    );
    const all = results
      .flat()
      .map(({ program, outcome }) => `${program.programId} ${outcome}`)
      .sort();
    expect(all).toEqual([
      'LIVE_BOOST created',
      'LIVE_BOOST unchanged',
      'LIVE_BOOST unchanged',
      'LIVE_BOOST unchanged',
      'SEED_PLAN_2020 corrected',
      'SEED_PLAN_2020 unchanged',
      'SEED_PLAN_2020 unchanged',
      'SEED_PLAN_2020 unchanged',
    ]);
    const withdrawals = await Promise.all(
      Array.from({ length: 4 }, () => withdrawProgram(db.deps(), 'LIVE_BOOST', 'ended')),
    );
    expect(withdrawals.filter((w) => w.changed)).toHaveLength(1);
    const stored = await readStoredPrograms(db.deps());
    expect(stored.map((p) => [p.programId, p.version, p.history.length])).toEqual([
      ['LIVE_BOOST', 2, 2],
      ['SEED_PLAN_2020', 1, 1],
    ]);
  });
});

describe('how many merchants an announcement concerns, through the onboarded index', () => {
  // T and categories around the seed plan's bounds: from 2020-07-01, its five categories.
  const MERCHANTS = [
    { merchantId: 'm-before', onboardedAt: '2020-06-30', categories: ['apparel'] },
    { merchantId: 'm-first-day', onboardedAt: '2020-07-01', categories: ['apparel'] },
    { merchantId: 'm-food', onboardedAt: '2020-07-05', categories: ['food'] },
    { merchantId: 'm-beauty-food', onboardedAt: '2020-07-10', categories: ['beauty', 'food'] },
    { merchantId: 'm-pets', onboardedAt: '2020-08-01', categories: ['pets'] },
    { merchantId: 'm-april', onboardedAt: '2020-04-30', categories: ['apparel'] },
  ];
  /** The requests the counts make, by command name: none may be a Scan. */
  let sent: string[];
  const counting = () => {
    sent = [];
    return db.deps({
      db: interceptSend(db.clients.doc, (command, send) => {
        sent.push((command as object).constructor.name);
        return send();
      }),
    });
  };
  const enrol = (merchantId: string, onboardedOn: string, programId: string) =>
    db.clients.doc.send(
      new PutCommand({
        TableName: TEST_TABLE,
        Item: {
          ...promotionItem(recorded(merchantId, onboardedOn), null),
          ...enrolmentKey(merchantId, programId),
        },
      }),
    );
  beforeEach(async () => {
    await recordMerchants(
      db.deps(),
      MERCHANTS.map((m) => merchantRecordSchema.parse(m)),
    );
  });

  it('wouldEnrol: eligible under the content given, without an enrolment in the program yet; exact', async () => {
    const deps = counting();
    // Every merchant has its items of the built-ins from recording: none would be enrolled again.
    expect(await countWouldEnrol(deps, [seedPlan, BUILT_IN_PROGRAMS[0] as Program])).toEqual(
      new Map([
        ['SEED_PLAN_2020', 0],
        ['NEW_MERCHANT_FEE', 0],
      ]),
    );
    // A new program with the seed plan's rules: those eligible, less those enrolled.
    const copy = { ...seedPlan, programId: 'SEED_COPY' };
    expect(await countWouldEnrol(deps, [copy])).toEqual(new Map([['SEED_COPY', 3]])); // m-first-day, m-beauty-food, m-pets
    await enrol('m-beauty-food', '2020-07-10', 'SEED_COPY');
    expect(await countWouldEnrol(deps, [copy])).toEqual(new Map([['SEED_COPY', 2]]));
    // A corrected range [07-05, 08-01): only m-beauty-food is eligible, and it is enrolled already.
    const narrowed = {
      ...copy,
      eligibility: { ...copy.eligibility, from: '2020-07-05', until: '2020-08-01' },
    };
    expect(await countWouldEnrol(deps, [narrowed])).toEqual(new Map([['SEED_COPY', 0]]));
    const food = { ...livestream, eligibility: { from: '2020-07-01', categories: ['food'] } };
    expect(await countWouldEnrol(deps, [food])).toEqual(new Map([['LIVE_BOOST', 2]]));
    expect(sent).not.toContain(ScanCommand.name);
    expect(sent).toContain('QueryCommand');
    expect(sent).toContain('BatchGetCommand');
  });

  it('eligible: under the content now stored, after the announcement, whether enrolled or not', async () => {
    await enrol('m-beauty-food', '2020-07-10', 'SEED_PLAN_2020');
    const deps = counting();
    expect(await countEligible(deps, ['SEED_PLAN_2020', 'NEW_MERCHANT_FEE', 'LIVE_BOOST'])).toEqual(
      new Map([
        ['SEED_PLAN_2020', 3],
        ['NEW_MERCHANT_FEE', 5], // all but m-april (before 2020-05-01)
        ['LIVE_BOOST', 0], // not announced
      ]),
    );
    await announce([{ ...seedPlan, eligibility: { ...seedPlan.eligibility, until: '2020-08-01' } }]);
    expect(await countEligible(deps, ['SEED_PLAN_2020'])).toEqual(new Map([['SEED_PLAN_2020', 2]]));
    expect(sent).not.toContain(ScanCommand.name);
  });
});
