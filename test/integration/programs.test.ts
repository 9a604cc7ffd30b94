// Programs stored as data (rules §4) against DynamoDB Local: the built-ins are there without any load
// step, a stored program with a built-in's id overrides it, writes are conditional on the version read.
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { BUILT_IN_PROGRAMS, type Program, type StoredProgram } from '../../shared/programs/program';
import { putProgram, readPrograms } from '../../shared/store/programs';
import { TEST_NOW, TEST_TABLE, useLocalDynamo } from '../support/dynamo';

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
