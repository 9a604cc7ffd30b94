// Notices end to end on real stream records from DynamoDB Local: jobs write, the stream reader feeds
// the notifier, the notifier publishes (to a file sink, or to a mocked SNS through the Lambda handler).
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PublishBatchCommand, SNSClient } from '@aws-sdk/client-sns';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { silentLog } from '../../shared/deps';
import { parseJobInput } from '../../shared/jobs/input';
import { runJob } from '../../shared/jobs/run';
import { createNotifierHandler } from '../../shared/lambda/notifier-handler';
import { createObservability } from '../../shared/lambda/runtime';
import { merchantRecordSchema, recordMerchants, revokePromotion } from '../../shared/merchants/record';
import { eventIdOf, type Notice } from '../../shared/notices/notice';
import { notifyFromStream, type StreamRecord } from '../../shared/notices/notifier';
import { fileSink, type NoticePublisher, snsPublisher } from '../../shared/notices/publisher';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../shared/store/client';
import { PROMOTION_SK } from '../../shared/store/keys';
import { getPromotion } from '../../shared/store/promotions';
import { TEST_TABLE, useLocalDynamo } from '../support/dynamo';
import { fakeContext } from '../support/lambda';
import { sh } from '../support/promotions';

const db = useLocalDynamo();
const dir = mkdtempSync(join(tmpdir(), 'notices-test-'));
const checkpointPath = join(dir, 'checkpoint.json');
let sinkPath: string;
let sinkCount = 0;

const drain = (
  handle: (records: StreamRecord[]) => Promise<{ batchItemFailures: { itemIdentifier: string }[] }>,
) => db.drainStream(checkpointPath, handle);
const deliver = (publisher: NoticePublisher = fileSink(sinkPath)) =>
  drain((records) => notifyFromStream(records, publisher, silentLog));
const delivered = (): Notice[] => {
  try {
    return readFileSync(sinkPath, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l));
  } catch {
    return [];
  }
};
const record = (records: Record<string, unknown>[]) =>
  recordMerchants(
    db.deps(),
    records.map((r) => merchantRecordSchema.parse(r)),
  );
const run = (job: 'activate' | 'expire', input: Record<string, unknown>) =>
  runJob(db.deps(), job, parseJobInput(input)).then((r) => r.reports);

/** A client whose process dies right after the first write `fatal` picks: every later call is refused. */
function clientDyingAfter(fatal: (command: string, input: unknown) => boolean) {
  const raw = new DynamoDBClient({
    endpoint: db.endpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
  });
  const dying = { raw, doc: DynamoDBDocumentClient.from(raw), dead: false, refused: 0 };
  raw.middlewareStack.add(
    (next, context) => async (args) => {
      if (dying.dead) {
        dying.refused++;
        throw new Error('the process died');
      }
      const result = await next(args);
      if (fatal(context.commandName as string, args.input)) dying.dead = true;
      return result;
    },
    { step: 'initialize', name: 'dieAfterWrite' },
  );
  return dying;
}
const isPromotion = (input: unknown) => JSON.stringify(input).includes(PROMOTION_SK);

beforeEach(async () => {
  await db.reset();
  // Start each test at the end of the stream: earlier tests' records are not this test's notices.
  await drain(async () => ({ batchItemFailures: [] }));
  sinkPath = join(dir, `sink-${++sinkCount}.jsonl`);
});

describe('notices from the stream', () => {
  it('import → activate: exactly one PROMOTION_ACTIVATED per eligible merchant; re-runs and backfills add none', async () => {
    await record([
      { merchantId: 'merchant-a', onboardedAt: '2020-05-06' },
      { merchantId: 'merchant-b', onboardedAt: '2020-05-06T16:30:00Z' }, // T = 05-07
      { merchantId: 'old', onboardedAt: '2020-04-20' }, // before the program
    ]);
    await run('activate', { asOf: sh('2020-05-08 00:00') });
    await deliver();
    expect(delivered().map((n) => [n.type, n.merchantId, n.effectiveAt])).toEqual([
      ['PROMOTION_ACTIVATED', 'merchant-a', sh('2020-05-08 00:00')],
    ]);
    await run('activate', { asOf: sh('2020-05-08 00:00') });
    await run('activate', { from: '2020-05-01', to: '2020-05-09' });
    await deliver();
    const all = delivered();
    expect(all.map((n) => [n.type, n.merchantId])).toEqual([
      ['PROMOTION_ACTIVATED', 'merchant-a'],
      ['PROMOTION_ACTIVATED', 'merchant-b'],
    ]);
    expect(new Set(all.map((n) => n.eventId)).size).toBe(all.length);
  });

  it('a whole lifecycle sends ACTIVATED, ENDING_SOON, EXPIRED once each; a window over before it was processed sends nothing', async () => {
    await record([
      { merchantId: 'on-time', onboardedAt: '2020-05-06' },
      { merchantId: 'revoked', onboardedAt: '2020-05-06' },
    ]);
    for (const day of ['2020-05-07', '2020-05-08', '2020-05-09']) {
      await run('activate', { asOf: sh(`${day} 00:00`) });
      await run('expire', { asOf: sh(`${day} 23:59`) });
    }
    await revokePromotion(db.deps(), 'revoked', sh('2020-05-20 10:00'), 'fake orders');
    await run('activate', { from: '2020-05-10', to: '2020-06-30' });
    await run('expire', { from: '2020-05-10', to: '2020-06-30' });
    // Recorded long after its window: the first run reaching it finds the window over.
    await record([{ merchantId: 'too-late', onboardedAt: '2020-05-10' }]);
    await run('activate', { asOf: sh('2020-07-01 00:00') });
    await deliver();
    const of = (id: string) =>
      delivered()
        .filter((n) => n.merchantId === id)
        .map((n) => [n.type, n.effectiveAt]);
    expect(of('on-time')).toEqual([
      ['PROMOTION_ACTIVATED', sh('2020-05-08 00:00')],
      ['PROMOTION_ENDING_SOON', sh('2020-06-04 00:00')],
      ['PROMOTION_EXPIRED', sh('2020-06-07 00:00')],
    ]);
    expect(of('revoked')).toEqual([
      ['PROMOTION_ACTIVATED', sh('2020-05-08 00:00')],
      ['PROMOTION_REVOKED', sh('2020-05-20 10:00')],
    ]);
    expect(of('too-late')).toEqual([]);
    expect(delivered().find((n) => n.merchantId === 'on-time')?.eventId).toBe(
      eventIdOf('PROMOTION_ACTIVATED', 'on-time', sh('2020-05-08 00:00')),
    );
  });

  it('a crash between the state change and the publish loses nothing: the next reader delivers from the checkpoint', async () => {
    await record([{ merchantId: 'c1', onboardedAt: '2020-05-06' }]);
    // The job's process dies right after its state change: nothing after that write reaches the table.
    const dying = clientDyingAfter((command, input) => command === 'UpdateItemCommand' && isPromotion(input));
    await runJob(
      db.deps({ db: dying.doc }),
      'activate',
      parseJobInput({ asOf: sh('2020-05-08 00:00') }),
    ).catch(() => undefined);
    dying.raw.destroy();
    expect(dying.refused).toBeGreaterThan(0); // it really died: later calls (lease, run record) never went out
    expect(await getPromotion(db.deps(), 'c1')).toMatchObject({ status: 'ACTIVE' });
    // The deliverer dies too, before publishing anything: its checkpoint stays where it was.
    await expect(
      drain(async () => {
        throw new Error('killed before publishing');
      }),
    ).rejects.toThrow('killed before publishing');
    expect(delivered()).toEqual([]);
    // A new one starts from the checkpoint, and the notice arrives once.
    await deliver();
    await deliver();
    expect(delivered().map((n) => [n.type, n.merchantId])).toEqual([['PROMOTION_ACTIVATED', 'c1']]);
  });

  it('a crash after publishing but before the checkpoint redelivers the same notices, with the same eventIds', async () => {
    await record([
      { merchantId: 'd1', onboardedAt: '2020-05-06' },
      { merchantId: 'd2', onboardedAt: '2020-05-06' },
    ]);
    await run('activate', { asOf: sh('2020-05-08 00:00') });
    const crashing = drain(async (records) => {
      await notifyFromStream(records, fileSink(sinkPath), silentLog);
      throw new Error('killed after publishing');
    });
    await expect(crashing).rejects.toThrow('killed after publishing');
    await deliver();
    const notices = delivered();
    expect(notices.map((n) => n.merchantId).sort()).toEqual(['d1', 'd1', 'd2', 'd2']);
    // Recognisable downstream as the same notices: two deliveries of two eventIds.
    expect(new Set(notices.map((n) => n.eventId)).size).toBe(2);
    await deliver();
    expect(delivered()).toHaveLength(4); // and the window closes once the checkpoint is saved
  });

  it('a notice SNS keeps refusing is reported as a batch-item failure; the reader resumes from that record', async () => {
    // Activated one run at a time, so the stream holds e1, e2, e3 in that order.
    await record([
      { merchantId: 'e1', onboardedAt: '2020-05-06' },
      { merchantId: 'e2', onboardedAt: '2020-05-07' },
      { merchantId: 'e3', onboardedAt: '2020-05-08' },
    ]);
    for (const day of ['2020-05-08', '2020-05-09', '2020-05-10'])
      await run('activate', { asOf: sh(`${day} 00:00`) });
    let refuse = true;
    const sink = fileSink(sinkPath);
    const flaky: NoticePublisher = {
      async publish(notices) {
        const bad = notices.filter((n) => refuse && n.merchantId === 'e2');
        const good = notices.filter((n) => !bad.includes(n));
        await sink.publish(good);
        refuse = false; // fails on the first delivery only
        return {
          published: good.length,
          failed: bad.map((notice) => ({ notice, error: 'InternalError' })),
          requests: 1,
        };
      },
    };
    const results: Awaited<ReturnType<typeof notifyFromStream>>[] = [];
    await drain(async (records) => {
      const result = await notifyFromStream(records, flaky, silentLog);
      results.push(result);
      return result;
    });
    expect(results[0]?.batchItemFailures).toHaveLength(1);
    expect(results[0]?.notices).toBe(3); // all three came in the failed batch
    // Every notice arrives; the one published after the failed record comes again on redelivery, with
    // the same eventId; the one before it does not.
    const notices = delivered();
    const count = (id: string) => notices.filter((n) => n.merchantId === id).length;
    expect([count('e1'), count('e2'), count('e3')]).toEqual([1, 1, 2]);
    expect(new Set(notices.map((n) => n.eventId)).size).toBe(3);
  });

  it('a stream image that is not a well-formed stored item is refused, naming its key and field; the records before it are delivered', async () => {
    await record([{ merchantId: 'good', onboardedAt: '2020-05-06' }]);
    await run('activate', { asOf: sh('2020-05-08 00:00') });
    // Written by hand: a promotion whose history entry has a number where an instant belongs.
    const good = (await db.scanAll()).find((i) => i.merchantId === 'good' && i.sk === PROMOTION_SK);
    const history = good?.history as Record<string, unknown>[];
    await db.clients.doc.send(
      new PutCommand({
        TableName: TEST_TABLE,
        Item: {
          ...good,
          pk: 'MERCHANT#broken',
          merchantId: 'broken',
          history: [{ ...history[0], effectiveAt: 1 }],
        },
      }),
    );
    const records: StreamRecord[] = [];
    await drain(async (batch) => {
      records.push(...batch);
      return { batchItemFailures: [] };
    });
    const errors: Record<string, unknown>[] = [];
    const log = {
      ...silentLog,
      error: (_: string, attributes?: Record<string, unknown>) => errors.push(attributes ?? {}),
    };
    const result = await notifyFromStream(records, fileSink(sinkPath), log);
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: records.at(-1)?.dynamodb.SequenceNumber }]);
    expect(errors).toEqual([
      {
        sequenceNumber: records.at(-1)?.dynamodb.SequenceNumber,
        error: expect.stringMatching(
          /^stored item MERCHANT#broken \/ PROMO#NEW_MERCHANT_FEE is malformed: history\.0\.effectiveAt: /,
        ),
      },
    ]);
    expect(delivered().map((n) => [n.type, n.merchantId])).toEqual([['PROMOTION_ACTIVATED', 'good']]);
  });

  it('the Lambda handler publishes real stream records to SNS in batches of 10 and reports nothing failed', async () => {
    const sns = mockClient(SNSClient);
    sns.on(PublishBatchCommand).callsFake((input) => ({
      Successful: input.PublishBatchRequestEntries.map((e: { Id: string }) => ({ Id: e.Id })),
    }));
    const handler = createNotifierHandler(
      createObservability(),
      snsPublisher(
        new SNSClient({ region: 'ap-east-1' }),
        'arn:aws:sns:ap-east-1:123456789012:notices',
        silentLog,
      ),
    );
    await record(Array.from({ length: 23 }, (_, i) => ({ merchantId: `l${i}`, onboardedAt: '2020-05-06' })));
    await run('activate', { asOf: sh('2020-05-08 00:00') });
    const responses: unknown[] = [];
    await drain(async (records) => {
      const response = await handler({ Records: records }, fakeContext('notifier'));
      responses.push(response);
      return response;
    });
    expect(responses.every((r) => JSON.stringify(r) === '{"batchItemFailures":[]}')).toBe(true);
    const calls = sns.commandCalls(PublishBatchCommand);
    expect(calls.map((c) => c.args[0].input.PublishBatchRequestEntries?.length).sort()).toEqual([10, 10, 3]);
    const messages = calls
      .flatMap((c) => c.args[0].input.PublishBatchRequestEntries ?? [])
      .map((e) => JSON.parse(e.Message ?? ''));
    expect(new Set(messages.map((m) => m.merchantId)).size).toBe(23);
    expect(messages.every((m) => m.type === 'PROMOTION_ACTIVATED')).toBe(true);
    sns.restore();
  });
});

describe('readers that keep their place, over one checkpoint', () => {
  it('a reader does not deliver again what another process delivered since its last drain', async () => {
    const handle = (records: StreamRecord[]) => notifyFromStream(records, fileSink(sinkPath), silentLog);
    const kept = db.streamReader(checkpointPath, handle);
    const other = db.streamReader(checkpointPath, handle);
    expect((await kept.drain()).records).toBe(0); // caught up: it keeps its shard iterators for next time
    await record([
      { merchantId: 'r1', onboardedAt: '2020-05-06' },
      { merchantId: 'r2', onboardedAt: '2020-05-06' },
    ]);
    await run('activate', { asOf: sh('2020-05-08 00:00') });
    expect((await other.drain()).records).toBeGreaterThan(0); // another process delivers, moving the checkpoint on
    expect((await kept.drain()).records).toBe(0); // its kept iterators are stale: it starts from the checkpoint
    const notices = delivered();
    expect(notices.map((n) => [n.type, n.merchantId]).sort()).toEqual([
      ['PROMOTION_ACTIVATED', 'r1'],
      ['PROMOTION_ACTIVATED', 'r2'],
    ]);
    // And a kept iterator still serves when nobody else moved the checkpoint.
    await revokePromotion(db.deps(), 'r1', sh('2020-05-20 10:00'), 'fake orders');
    expect((await kept.drain()).records).toBeGreaterThan(0);
    expect(delivered().map((n) => n.type)).toContain('PROMOTION_REVOKED');
    expect(delivered()).toHaveLength(3);
  });
});
