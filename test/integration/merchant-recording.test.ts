// Recording merchants under hostile input and faults, against DynamoDB Local: no single line aborts an
// import or a batch, retries are bounded and back off, and upstream onboardings apply in the order
// they were made, not the order they arrive.
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { importMerchants } from '../../cli/import/import';
import { loadConfig } from '../../shared/config';
import { createRecorderHandler } from '../../shared/lambda/recorder-handler';
import { createObservability } from '../../shared/lambda/runtime';
import {
  merchantRecordSchema,
  recordMerchant,
  recordMerchants,
  revokePromotion,
} from '../../shared/merchants/record';
import { getMerchant } from '../../shared/store/merchants';
import { readEnrolments } from '../../shared/store/promotions';
import { cliOn } from '../support/cli';
import { interceptSend, TEST_TABLE, useLocalDynamo } from '../support/dynamo';
import { fakeContext } from '../support/lambda';
import { sh } from '../support/promotions';

const db = useLocalDynamo();
const { cli, file } = cliOn(db, TEST_TABLE);
beforeEach(() => db.reset());

const line = (merchantId: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ merchantId, onboardedAt: '2020-05-06', ...extra });
const profileIds = async () =>
  (await db.scanAll())
    .filter((item) => item.sk === 'PROFILE')
    .map((item) => String(item.merchantId))
    .sort();

/** The table client with every `send` passed through `around` first: faults at the SDK boundary. */
const intercepted = (around: Parameters<typeof interceptSend>[1]) => interceptSend(db.clients.doc, around);

/** The merchants a TransactWriteItems request writes (several, when a chunk's writes go together). */
const transactMerchants = (command: unknown): string[] =>
  command instanceof TransactWriteCommand
    ? [...new Set((command.input.TransactItems ?? []).map((item) => String(item.Put?.Item?.merchantId)))]
    : [];

describe('an import with hostile lines', () => {
  it('records every valid line, rejects each hostile one by number and field, and prints the summary (exit 1)', async () => {
    const valid = Array.from({ length: 1_010 }, (_, i) => `ok-${String(i).padStart(4, '0')}`);
    const hostile: Record<number, [string, RegExp]> = {
      1: [line('h-1', { onboardedAt: '9999-12-15' }), /^onboardedAt: must be in the years 1970–2199/],
      400: [line('h-2', { onboardedAt: '0000-01-01' }), /^onboardedAt: must be in the years 1970–2199/],
      401: [
        line('h-3', { onboardedAt: '2020-05-06T10:00:00+23:59' }),
        /^onboardedAt: must have an offset within ±14:00, not \+23:59$/,
      ],
      777: [line('h-4', { onboardedAt: '+275760-09-13' }), /^onboardedAt: must be a calendar date/],
      800: [line('h-5', { occurredAt: '2999-01-01T00:00:00Z' }), /^occurredAt: must be in the years/],
      // valid as text, refused only when recorded (after the wall clock): rejected from inside its batch
      900: [
        line('h-6', { occurredAt: '2150-01-01T00:00:00Z' }),
        /^occurredAt: must not be more than 1 hour after the current time/,
      ],
    };
    const lines: string[] = [];
    let next = 0;
    for (let n = 1; next < valid.length || hostile[n]; n++) {
      const bad = hostile[n];
      lines.push(bad ? bad[0] : line(valid[next++] as string));
    }
    const r = await cli('merchants', 'import', file('hostile.jsonl', lines.join('\n')));
    expect(r.status).toBe(1);
    const summary = r.json[0] as { created: number; rejected: { line: number; error: string }[] };
    expect(summary).toMatchObject({ created: 1_010, updated: 0, unchanged: 0, stale: 0, rejectedCount: 6 });
    expect(summary.rejected).toEqual(
      Object.entries(hostile).map(([n, [, error]]) => ({
        line: Number(n),
        error: expect.stringMatching(error),
      })),
    );
    expect(await profileIds()).toEqual(valid);
  }, 120_000); // ~1,000 transactions on two shared cores
});

describe('an unexpected error while recording one merchant', () => {
  it('rejects only that line (with its number); the rest of its batch and the import are recorded', async () => {
    const ids = Array.from({ length: 120 }, (_, i) => `m-${String(i).padStart(3, '0')}`);
    const db2 = intercepted(async (command, send) => {
      if (transactMerchants(command).includes('m-042')) throw new Error('the disk is on fire');
      return send();
    });
    const path = file('faulty.jsonl', ids.map((id) => line(id)).join('\n'));
    const summary = await importMerchants(db.deps({ db: db2 }), path, 'jsonl');
    expect(summary).toMatchObject({ created: 119, rejectedCount: 1 });
    expect(summary.rejected).toEqual([
      { line: 43, error: '(line): could not be recorded: Error: the disk is on fire' },
    ]);
    expect(await profileIds()).toEqual(ids.filter((id) => id !== 'm-042'));
  });

  it('recordMerchants records the others, then throws the one failure', async () => {
    const db2 = intercepted(async (command, send) => {
      if (transactMerchants(command).includes('m-2')) throw new Error('boom');
      return send();
    });
    const records = ['m-1', 'm-2', 'm-3'].map((id) =>
      merchantRecordSchema.parse({ merchantId: id, onboardedAt: '2020-05-06' }),
    );
    await expect(recordMerchants(db.deps({ db: db2 }), records)).rejects.toThrow('boom');
    expect(await profileIds()).toEqual(['m-1', 'm-3']);
  });
});

describe("a chunk's first writes, several merchants to a transaction", () => {
  /** The table client, noting the size of every TransactWriteItems it sends. */
  const countingTransactions = () => {
    const sizes: number[] = [];
    const db2 = intercepted(async (command, send) => {
      if (command instanceof TransactWriteCommand) sizes.push(command.input.TransactItems?.length ?? 0);
      return send();
    });
    return { db2, sizes };
  };

  it('records 60 new merchants in 2 transactions (a chunk of 50, then 10), not 60', async () => {
    const { db2, sizes } = countingTransactions();
    const ids = Array.from({ length: 60 }, (_, i) => `g-${String(i).padStart(2, '0')}`);
    const summary = await importMerchants(
      db.deps({ db: db2 }),
      file('grouped.jsonl', ids.map((id) => line(id)).join('\n')),
      'jsonl',
    );
    expect(summary).toMatchObject({ created: 60, rejectedCount: 0 });
    // A profile and its NEW_MERCHANT_FEE enrolment a merchant (onboarded before the seed plan's start).
    expect(sizes).toEqual([100, 20]);
    expect(await profileIds()).toEqual(ids);
    expect((await readEnrolments(db.deps(), 'g-17')).map((e) => e.programId)).toEqual(['NEW_MERCHANT_FEE']);
  });

  it('packs whole merchants, at most 100 actions a transaction: 50 merchants in both programs take 2', async () => {
    const { db2, sizes } = countingTransactions();
    const ids = Array.from({ length: 50 }, (_, i) => `s-${String(i).padStart(2, '0')}`);
    const records = ids.map((id) =>
      merchantRecordSchema.parse({ merchantId: id, onboardedAt: '2020-07-06', categories: ['apparel'] }),
    );
    expect(await recordMerchants(db.deps({ db: db2 }), records)).toEqual(Array(50).fill('created'));
    // A profile and two enrolments a merchant: 33 merchants (99 actions), then the other 17.
    expect(sizes).toEqual([99, 51]);
    expect((await readEnrolments(db.deps(), 's-40')).map((e) => e.programId).sort()).toEqual([
      'NEW_MERCHANT_FEE',
      'SEED_PLAN_2020',
    ]);
  });

  it('a merchant recorded by someone else meanwhile cancels its transaction: it alone is re-planned, the others are created', async () => {
    let raced = false;
    const db2 = intercepted(async (command, send) => {
      if (command instanceof TransactWriteCommand && !raced && transactMerchants(command).includes('r-3')) {
        raced = true; // the recorder records r-3 (with a category) between the import's read and its write
        await recordMerchant(
          db.deps(),
          merchantRecordSchema.parse({
            merchantId: 'r-3',
            onboardedAt: '2020-05-06',
            categories: ['apparel'],
          }),
        );
      }
      return send();
    });
    const ids = ['r-1', 'r-2', 'r-3', 'r-4'];
    const outcomes = await recordMerchants(
      db.deps({ db: db2 }),
      ids.map((id) => merchantRecordSchema.parse({ merchantId: id, onboardedAt: '2020-05-06' })),
    );
    expect(raced).toBe(true);
    // r-3 was there when re-planned: the import's record (no categories given) changes nothing of it.
    expect(outcomes).toEqual(['created', 'created', 'unchanged', 'created']);
    expect(await profileIds()).toEqual(ids);
    expect((await getMerchant(db.deps(), 'r-3'))?.profile.categories).toEqual(['apparel']);
  });
});

describe('bounded retries with backoff', () => {
  const conflict = () =>
    new TransactionCanceledException({
      message:
        'Transaction cancelled, please refer cancellation reasons for specific reasons [TransactionConflict, None]',
      $metadata: {},
      CancellationReasons: [{ Code: 'TransactionConflict' }, { Code: 'None' }],
    });

  it('retries a TransactionConflict: an import whose writes first conflict twice each still records every line', async () => {
    const conflicts = new Map<string, number>();
    const db2 = intercepted(async (command, send) => {
      const unlucky = transactMerchants(command).filter((id) => (conflicts.get(id) ?? 0) < 2);
      if (unlucky.length > 0) {
        for (const id of unlucky) conflicts.set(id, (conflicts.get(id) ?? 0) + 1);
        throw conflict();
      }
      return send();
    });
    const ids = Array.from({ length: 60 }, (_, i) => `c-${String(i).padStart(2, '0')}`);
    const summary = await importMerchants(
      db.deps({ db: db2 }),
      file('conflicts.jsonl', ids.map((id) => line(id)).join('\n')),
      'jsonl',
    );
    expect(summary).toMatchObject({ created: 60, rejectedCount: 0, rejected: [] });
    expect([...conflicts.values()]).toEqual(Array(60).fill(2)); // every merchant met both conflicts
    expect(await profileIds()).toEqual(ids);
  });

  it('gives up on a TransactionConflict that never clears, after a bounded number of attempts', async () => {
    let calls = 0;
    const db2 = intercepted(async (command, send) => {
      if (transactMerchants(command).length > 0) {
        calls++;
        throw conflict();
      }
      return send();
    });
    const record = merchantRecordSchema.parse({ merchantId: 'stuck', onboardedAt: '2020-05-06' });
    await expect(recordMerchant(db.deps({ db: db2 }), record)).rejects.toThrow(
      /^merchant stuck: still conflicting with concurrent changes after 6 attempts$/,
    );
    expect(calls).toBe(6);
  });

  it('asks again for BatchGetItem keys left unprocessed, a bounded number of times, then fails clearly', async () => {
    let calls = 0;
    let unprocessedAnswers = Number.POSITIVE_INFINITY;
    const db2 = intercepted(async (command, send) => {
      if (!(command instanceof BatchGetCommand)) return send();
      calls++;
      if (calls > unprocessedAnswers) return send();
      return { Responses: { [TEST_TABLE]: [] }, UnprocessedKeys: command.input.RequestItems, $metadata: {} };
    });
    const records = ['u-1', 'u-2', 'u-3'].map((id) =>
      merchantRecordSchema.parse({ merchantId: id, onboardedAt: '2020-05-06' }),
    );
    // Three keys a merchant: the profile and its enrolment in each of the two built-in programs.
    await expect(recordMerchants(db.deps({ db: db2 }), records)).rejects.toThrow(
      /^BatchGetItem of 9 key\(s\): 9 still unprocessed: gave up after 8 attempts$/,
    );
    expect(calls).toBe(8); // not 27,914 in a second
    expect(await profileIds()).toEqual([]);

    // Throttling that clears: the same records go through.
    calls = 0;
    unprocessedAnswers = 3;
    expect(await recordMerchants(db.deps({ db: db2 }), records)).toEqual(['created', 'created', 'created']);
    expect(calls).toBe(4);
  });
});

describe('the recorder orders onboardings by their own time', () => {
  const runtime = () => ({
    ...createObservability(),
    config: loadConfig({ TABLE_NAME: TEST_TABLE }),
    deps: db.deps(),
  });
  let n = 0;
  const onboarded = (detail: Record<string, unknown>, time: string) => ({
    version: '0',
    id: `event-${++n}`,
    'detail-type': 'MerchantOnboarded',
    source: 'marketplace.merchants',
    account: '123456789012',
    time,
    region: 'ap-east-1',
    resources: [],
    detail: { merchantId: 'merchant-a', ...detail },
  });
  let stdout: string[]; // and stderr: log lines and EMF documents
  beforeEach(() => {
    n = 0; // event ids restart for each test
    stdout = [];
    for (const stream of [process.stdout, process.stderr]) {
      vi.spyOn(stream, 'write').mockImplementation((chunk) => {
        stdout.push(String(chunk));
        return true;
      });
    }
  });
  afterEach(() => vi.restoreAllMocks());
  const send = async (events: unknown[]) => {
    const handler = createRecorderHandler(runtime());
    const results = [];
    for (const event of events) results.push(await handler(event as never, fakeContext('recorder')));
    return results;
  };
  const logs = () =>
    stdout
      .flatMap((chunk) => chunk.split('\n'))
      .filter(Boolean)
      .map((text) => JSON.parse(text) as Record<string, unknown>);

  it('keeps a correction when the original it corrects arrives after it: the late original is stale', async () => {
    const results = await send([
      onboarded({ onboardedAt: '2020-05-07' }, '2020-05-07T02:00:00Z'), // the correction, first
      onboarded({ onboardedAt: '2020-05-06' }, '2020-05-06T02:00:00Z'), // the original, late
    ]);
    expect(results.map((r) => r.outcome)).toEqual(['created', 'stale']);
    expect(results[1]).toMatchObject({ merchantId: 'merchant-a', occurredAt: sh('2020-05-06 10:00') });
    const merchant = await getMerchant(db.deps(), 'merchant-a');
    expect(merchant?.profile).toMatchObject({
      onboardedOn: '2020-05-07',
      occurredAt: sh('2020-05-07 10:00'),
    });
    expect(merchant?.promotion).toMatchObject({ status: 'SCHEDULED', startsAt: sh('2020-05-09 00:00') });
    // reported: a warning with the event id, and a count
    expect(logs().find((l) => l.message === 'stale onboarding ignored')).toMatchObject({
      level: 'WARN',
      eventId: 'event-2',
      outcome: 'stale',
    });
    expect(logs().filter((l) => l._aws && 'EventsStale' in l)).toHaveLength(1);
  });

  it('applies them in order when they arrive in order; a redelivered event is unchanged, not stale', async () => {
    const original = onboarded({ onboardedAt: '2020-05-06' }, '2020-05-06T02:00:00Z');
    const results = await send([
      original,
      original,
      onboarded({ onboardedAt: '2020-05-07' }, '2020-05-07T02:00:00Z'),
    ]);
    expect(results.map((r) => r.outcome)).toEqual(['created', 'unchanged', 'updated']);
    expect((await getMerchant(db.deps(), 'merchant-a'))?.profile.onboardedOn).toBe('2020-05-07');
  });

  it('takes the detail’s occurredAt over the event’s time', async () => {
    const results = await send([
      onboarded({ onboardedAt: '2020-05-07' }, '2020-05-07T02:00:00Z'),
      // put on the bus late (time 05-08), but made before the correction
      onboarded({ onboardedAt: '2020-05-06', occurredAt: '2020-05-06T02:00:00Z' }, '2020-05-08T02:00:00Z'),
    ]);
    expect(results.map((r) => r.outcome)).toEqual(['created', 'stale']);
    expect((await getMerchant(db.deps(), 'merchant-a'))?.profile.onboardedOn).toBe('2020-05-07');
  });

  it('moves the recorded time forward on a newer event that changes nothing, so one made between is stale', async () => {
    const results = await send([
      onboarded({ onboardedAt: '2020-05-06' }, '2020-05-06T02:00:00Z'),
      onboarded({ onboardedAt: '2020-05-07' }, '2020-05-08T02:00:00Z'),
      onboarded({ onboardedAt: '2020-05-07' }, '2020-05-10T02:00:00Z'), // the same again, newer
      onboarded({ onboardedAt: '2020-05-06' }, '2020-05-09T02:00:00Z'), // older than the last
    ]);
    expect(results.map((r) => r.outcome)).toEqual(['created', 'updated', 'unchanged', 'stale']);
    expect((await getMerchant(db.deps(), 'merchant-a'))?.profile).toMatchObject({
      onboardedOn: '2020-05-07',
      occurredAt: sh('2020-05-10 10:00'),
    });
  });

  it('lets an operator’s correction (made now) beat older upstream events; an import line may carry occurredAt', async () => {
    await send([onboarded({ onboardedAt: '2020-05-06' }, '2020-05-06T02:00:00Z')]);
    const now = merchantRecordSchema.parse({ merchantId: 'merchant-a', onboardedAt: '2020-05-08' });
    expect(await recordMerchant(db.deps(), now)).toBe('updated');
    const [late] = await send([onboarded({ onboardedAt: '2020-05-07' }, '2020-05-07T02:00:00Z')]);
    expect(late?.outcome).toBe('stale');

    const path = file(
      'timed.jsonl',
      [
        line('merchant-a', { onboardedAt: '2020-05-09', occurredAt: '2020-05-09T00:00:00+08:00' }), // older than "now"
        line('merchant-b', { occurredAt: '2020-05-06T00:00:00+08:00' }),
      ].join('\n'),
    );
    expect(await importMerchants(db.deps(), path, 'jsonl')).toMatchObject({
      created: 1,
      stale: 1,
      rejected: [],
    });
    const b = await getMerchant(db.deps(), 'merchant-b');
    expect(b?.profile.occurredAt).toBe(sh('2020-05-06 00:00'));
    expect((await getMerchant(db.deps(), 'merchant-a'))?.profile.onboardedOn).toBe('2020-05-08');
    const csv = file(
      'timed.csv',
      'merchantId,onboardedAt,occurredAt\nmerchant-b,2020-05-07,2020-05-05T00:00:00+08:00\n',
    );
    expect(await importMerchants(db.deps(), csv, 'csv')).toMatchObject({ updated: 0, stale: 1 });
  });

  it('does not order violations by time: one dated before the recorded onboarding still revokes at its instant', async () => {
    await send([onboarded({ onboardedAt: '2020-05-06' }, '2020-05-20T02:00:00Z')]);
    const handler = createRecorderHandler(runtime());
    const result = await handler(
      {
        ...onboarded({}, '2020-05-10T02:00:00Z'),
        'detail-type': 'MerchantViolation',
        detail: { merchantId: 'merchant-a', at: '2020-05-12T10:00:00+08:00', reason: 'fake goods' },
      } as never,
      fakeContext('recorder'),
    );
    expect(result).toMatchObject({ outcome: 'revoked' });
    expect((await getMerchant(db.deps(), 'merchant-a'))?.promotion).toMatchObject({
      status: 'REVOKED',
      revokedAt: sh('2020-05-12 10:00'),
    });
  });
});

describe('enrolments in every program (rules §4)', () => {
  const transactions: number[] = [];
  const counting = () =>
    db.deps({
      db: intercepted(async (command, send) => {
        if (command instanceof TransactWriteCommand)
          transactions.push(command.input.TransactItems?.length ?? 0);
        return send();
      }),
    });
  beforeEach(() => {
    transactions.length = 0;
  });
  const record = (merchantId: string, categories: string[], deps = counting()) =>
    recordMerchant(deps, merchantRecordSchema.parse({ merchantId, onboardedAt: '2020-07-06', categories }));
  const statuses = async (merchantId: string) =>
    Object.fromEntries(
      (await readEnrolments(db.deps(), merchantId)).map((e) => [e.programId, [e.status, e.startsAt]]),
    );

  it('a seed-plan merchant gets both enrolments with its profile in one transaction; another category only today’s', async () => {
    expect(await record('seed', ['cosmetics'])).toBe('created');
    expect(await record('food', ['food'])).toBe('created');
    expect(transactions).toEqual([3, 2]);
    expect(await statuses('seed')).toEqual({
      NEW_MERCHANT_FEE: ['SCHEDULED', sh('2020-07-08 00:00')],
      SEED_PLAN_2020: ['SCHEDULED', sh('2020-07-08 00:00')],
    });
    expect(await statuses('food')).toEqual({ NEW_MERCHANT_FEE: ['SCHEDULED', sh('2020-07-08 00:00')] });
    const [seedPlan] = (await readEnrolments(db.deps(), 'seed')).filter(
      (e) => e.programId === 'SEED_PLAN_2020',
    );
    expect(seedPlan?.program).toMatchObject({ name: '种子计划', benefits: { training: true } });
  });

  it('changed categories re-plan each enrolment in the profile’s transaction: out of scope is INELIGIBLE, into scope enrols', async () => {
    await record('seed', ['cosmetics']);
    await record('food', ['food']);
    transactions.length = 0;
    expect(await record('seed', ['food'])).toBe('updated');
    expect(await record('food', ['beauty'])).toBe('updated');
    expect(transactions).toEqual([2, 2]); // profile + the one enrolment that changed, or was created
    expect(await statuses('seed')).toEqual({
      NEW_MERCHANT_FEE: ['SCHEDULED', sh('2020-07-08 00:00')],
      SEED_PLAN_2020: ['INELIGIBLE', sh('2020-07-08 00:00')],
    });
    expect(await statuses('food')).toMatchObject({ SEED_PLAN_2020: ['SCHEDULED', sh('2020-07-08 00:00')] });
    const history = (await readEnrolments(db.deps(), 'seed')).find(
      (e) => e.programId === 'SEED_PLAN_2020',
    )?.history;
    expect(history?.at(-1)).toMatchObject({
      status: 'INELIGIBLE',
      by: 'correct',
      reason: 'categories changed to food',
    });
  });

  it('a violation revokes every enrolment not over in one transaction; a repeat changes nothing', async () => {
    await record('seed', ['cosmetics']);
    transactions.length = 0;
    const result = await revokePromotion(counting(), 'seed', sh('2020-07-20 09:00'), 'fake orders');
    expect(result).toMatchObject({ changed: true, status: 'REVOKED', previousStatus: 'SCHEDULED' });
    expect(result.enrolments.map((e) => [e.programId, e.changed, e.status])).toEqual([
      ['NEW_MERCHANT_FEE', true, 'REVOKED'],
      ['SEED_PLAN_2020', true, 'REVOKED'],
    ]);
    expect(transactions).toEqual([2]);
    const again = await revokePromotion(db.deps(), 'seed', sh('2020-07-20 09:00'), 'fake orders');
    expect(again).toMatchObject({ changed: false, status: 'REVOKED' });
  });

  it('revokes what it can and says why the rest was refused; refuses only when nothing can be revoked', async () => {
    // Today's promotion starting after T: the merchant is eligible for the seed plan only.
    await record('late-start', ['cosmetics'], db.deps({ programStart: '2020-08-01' }));
    const result = await revokePromotion(db.deps(), 'late-start', sh('2020-07-20 09:00'), 'fake orders');
    expect(result).toMatchObject({ changed: true, status: 'INELIGIBLE', previousStatus: 'INELIGIBLE' });
    expect(result.enrolments).toEqual([
      expect.objectContaining({
        programId: 'NEW_MERCHANT_FEE',
        changed: false,
        refused: 'the merchant is not eligible',
      }),
      expect.objectContaining({ programId: 'SEED_PLAN_2020', changed: true, status: 'REVOKED' }),
    ]);
    await record('too-early', ['food'], db.deps({ programStart: '2020-08-01' }));
    await expect(revokePromotion(db.deps(), 'too-early', sh('2020-07-20 09:00'), 'x')).rejects.toThrow(
      'cannot revoke merchant too-early: the merchant is not eligible',
    );
  });
});
