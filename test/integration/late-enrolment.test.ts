// A program announced after merchants were recorded (rules §4), against DynamoDB Local: the next
// activate run enrols the eligible ones through the onboarded index (no Scan), each at once in the
// state its window gives at the run's asOf, tells only what a merchant should hear, and does it once.
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { countWouldEnrol } from '../../cli/programs/announcements';
import { silentLog } from '../../shared/deps';
import { parseJobInput } from '../../shared/jobs/input';
import { runJob } from '../../shared/jobs/run';
import { merchantRecordSchema, recordMerchants } from '../../shared/merchants/record';
import { type Notice, programIdOf } from '../../shared/notices/notice';
import { notifyFromStream } from '../../shared/notices/notifier';
import { fileSink } from '../../shared/notices/publisher';
import type { Program, StoredProgram } from '../../shared/programs/program';
import { putProgram, readEnrolmentProgress } from '../../shared/store/programs';
import { readEnrolments } from '../../shared/store/promotions';
import { formatInstant, parseInstant } from '../../shared/time';
import { interceptSend, TEST_NOW, useLocalDynamo } from '../support/dynamo';
import { sh } from '../support/promotions';

const db = useLocalDynamo();
beforeEach(() => db.reset());

/** A program for food merchants onboarded from 2020-06-01: T+0 for 10 days, traffic support. */
const BOOST: Program = {
  programId: 'FOOD_BOOST',
  name: '美食扶持',
  eligibility: { from: '2020-06-01', categories: ['food'] },
  window: { startOffsetDays: 0, lengthDays: 10 },
  benefits: { capabilities: ['LIVE_TRAFFIC_SUPPORT'] },
};
const minutesBeforeNow = (minutes: number) => formatInstant(parseInstant(TEST_NOW).minus({ minutes }));

async function announce(program: Program, options: { minutesAgo?: number; version?: number } = {}) {
  const version = options.version ?? 1;
  const stored: StoredProgram = {
    ...program,
    status: 'ANNOUNCED',
    version,
    history: [
      {
        status: version === 1 ? 'ANNOUNCED' : 'CORRECTED',
        processedAt: minutesBeforeNow(options.minutesAgo ?? 10),
      },
    ],
  };
  expect(await putProgram(db.deps(), stored, version - 1)).toBe(true);
}

const record = (merchantId: string, onboardedAt: string, categories: string[]) =>
  recordMerchants(db.deps(), [merchantRecordSchema.parse({ merchantId, onboardedAt, categories })]);

const activate = async (input: Record<string, unknown>, deps = db.deps()) =>
  (await runJob(deps, 'activate', parseJobInput(input))).reports;

const enrolmentIn = async (merchantId: string, programId = BOOST.programId) =>
  (await readEnrolments(db.deps(), merchantId)).find((e) => e.programId === programId);

/** The notices of a program the table's stream carried so far, as the notifier publishes them. */
async function noticesSince(dir: string, programId?: string): Promise<Notice[]> {
  const sink = join(dir, 'notices.jsonl');
  await db.drainStream(join(dir, 'checkpoint.json'), (records) =>
    notifyFromStream(records, fileSink(sink), silentLog),
  );
  try {
    return readFileSync(sink, 'utf8')
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Notice)
      .filter((n) => programId === undefined || programIdOf(n) === programId);
  } catch {
    return [];
  }
}

describe('a program announced after its merchants were recorded', () => {
  beforeEach(async () => {
    await record('over', '2020-06-01', ['food']); // window 06-01 – 06-11: over by 06-25
    await record('during', '2020-06-20', ['food']); // window 06-20 – 06-30: holds 06-25
    await record('ahead', '2020-06-28', ['food']); // window 06-28 – 07-08: ahead
    await record('before', '2020-05-20', ['food']); // onboarded before the program's from
    await record('other', '2020-06-20', ['apparel']); // not in its categories
  });

  it('is enrolled by the next activate run, through the index only, each at its asOf state; told once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'late-'));
    await noticesSince(dir); // what recording put on the stream is not this test's
    await announce(BOOST);
    const commands: string[] = [];
    const deps = db.deps({
      db: interceptSend(db.clients.doc, async (command, send) => {
        commands.push((command as object).constructor.name);
        return send();
      }),
    });
    const [report] = await activate({ asOf: sh('2020-06-25 00:00') }, deps);
    expect(commands).not.toContain(ScanCommand.name);
    expect(report).toMatchObject({ complete: true, failed: 0 });
    // (The same run also starts today's promotion for the merchants whose window holds 06-25.)
    expect(report?.transitions.ENROLLED).toBe(3);

    const over = await enrolmentIn('over');
    expect(over?.status).toBe('EXPIRED');
    expect(over?.history.map((h) => [h.status, h.by])).toEqual([
      ['SCHEDULED', 'enrol'],
      ['ACTIVE', 'activate'],
      ['EXPIRED', 'activate'],
    ]);
    // One write each, already in its asOf state: the run does not rely on the due index having caught
    // up with what it just wrote (in AWS it lags its table).
    expect(over?.version).toBe(1);
    expect(await enrolmentIn('during')).toMatchObject({ status: 'ACTIVE', version: 1 });
    expect((await enrolmentIn('ahead'))?.status).toBe('SCHEDULED');
    expect(await enrolmentIn('before')).toBeUndefined();
    expect(await enrolmentIn('other')).toBeUndefined();

    // The merchant whose window is over is never told it started; the one inside it is told once.
    const told = (await noticesSince(dir, 'FOOD_BOOST')).map((n) => [n.merchantId, n.type, n.data]);
    expect(told).toEqual([
      ['during', 'PROMOTION_ACTIVATED', expect.objectContaining({ programId: 'FOOD_BOOST', rate: null })],
    ]);

    // The progress is recorded: the next runs enrol no one again, and the one ahead starts on its day.
    expect((await readEnrolmentProgress(db.deps())).get('FOOD_BOOST')).toMatchObject({ programVersion: 1 });
    const [again] = await activate({ asOf: sh('2020-06-26 00:00') });
    expect(again?.transitions.ENROLLED).toBeUndefined();
    await activate({ asOf: sh('2020-06-28 00:00') });
    expect((await enrolmentIn('ahead'))?.status).toBe('ACTIVE');
    expect((await noticesSince(dir, 'FOOD_BOOST')).map((n) => [n.merchantId, n.type])).toEqual([
      ['during', 'PROMOTION_ACTIVATED'],
      ['ahead', 'PROMOTION_ACTIVATED'],
    ]);
  });

  it('programs announce --dry-run forecasts exactly what the next run enrols', async () => {
    const forecast = (await countWouldEnrol(db.deps(), [BOOST])).get('FOOD_BOOST');
    await announce(BOOST);
    const [report] = await activate({ asOf: sh('2020-06-25 00:00') });
    expect(forecast).toBe(report?.transitions.ENROLLED);
    expect((await countWouldEnrol(db.deps(), [BOOST])).get('FOOD_BOOST')).toBe(0);
  });

  it('concurrent and repeated runs enrol each merchant once', async () => {
    await announce(BOOST);
    const asOf = sh('2020-06-25 00:00');
    // The lease lets one run through; the other is refused or finds everything done.
    const results = await Promise.allSettled([activate({ asOf }), activate({ asOf })]);
    expect(results.some((r) => r.status === 'fulfilled')).toBe(true);
    await activate({ asOf });
    for (const id of ['over', 'during', 'ahead']) {
      const enrolment = await enrolmentIn(id);
      expect(enrolment?.history.filter((h) => h.by === 'enrol')).toHaveLength(1);
    }
  });

  it('waits until the announcement has settled: a run minutes after it enrols no one yet', async () => {
    await announce(BOOST, { minutesAgo: 1 });
    const [early] = await activate({ asOf: sh('2020-06-25 00:00') });
    expect(early?.transitions.ENROLLED).toBeUndefined();
    expect(await enrolmentIn('during')).toBeUndefined();
    const later = db.deps({ clock: () => parseInstant(TEST_NOW).plus({ minutes: 5 }) });
    const [next] = await activate({ asOf: sh('2020-06-26 00:00') }, later);
    expect(next?.transitions.ENROLLED).toBe(3);
  });

  it('a withdrawn program enrols no one', async () => {
    const withdrawn: StoredProgram = {
      ...BOOST,
      status: 'WITHDRAWN',
      version: 1,
      history: [{ status: 'WITHDRAWN', processedAt: minutesBeforeNow(10) }],
    };
    await putProgram(db.deps(), withdrawn, 0);
    const [report] = await activate({ asOf: sh('2020-06-25 00:00') });
    expect(report?.transitions.ENROLLED).toBeUndefined();
    expect(await enrolmentIn('during')).toBeUndefined();
  });

  it('a correction re-plans the enrolments it moves, and one of `from` moves merchants out', async () => {
    await announce(BOOST);
    await activate({ asOf: sh('2020-06-25 00:00') });
    await announce({ ...BOOST, eligibility: { ...BOOST.eligibility, from: '2020-06-15' } }, { version: 2 });
    const [report] = await activate({ asOf: sh('2020-06-26 00:00') });
    // One moved out; the two it still covers take the new version (their snapshot).
    expect(report?.transitions).toMatchObject({ CORRECTED: 3, INELIGIBLE: 1 });
    const over = await enrolmentIn('over');
    expect(over).toMatchObject({ status: 'INELIGIBLE', eligible: false, programVersion: 2 });
    expect(over?.history.at(-1)).toMatchObject({
      by: 'correct',
      reason: 'program FOOD_BOOST corrected (version 2)',
    });
    // Those it still covers keep their state and take the new version.
    expect(await enrolmentIn('during')).toMatchObject({ status: 'ACTIVE', programVersion: 2 });
  });

  it('a dry run over a range finds exactly what the real run then does, and writes nothing', async () => {
    await announce(BOOST);
    const range = { from: '2020-06-25', to: '2020-07-10' };
    const dry = await activate({ ...range, dryRun: true });
    expect(await enrolmentIn('during')).toBeUndefined();
    const real = await activate(range);
    const summary = (reports: typeof dry) => reports.map((r) => [r.asOf, r.changed, r.transitions]);
    expect(summary(dry)).toEqual(summary(real));
    expect(real.reduce((n, r) => n + r.changed, 0)).toBeGreaterThan(3); // the enrolments, and ahead's start
  });
});
