// The SNS adapter at the SDK boundary (aws-sdk-client-mock).
import { PublishBatchCommand, SNSClient, ThrottledException } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { silentLog } from '../../shared/deps';
import { eventIdOf, type Notice } from '../../shared/notices/notice';
import { batchesOf, snsEntry, snsPublisher } from '../../shared/notices/publisher';

const TOPIC = 'arn:aws:sns:ap-east-1:123456789012:merchant-notices';
const sns = mockClient(SNSClient);
beforeEach(() => sns.reset());

const notice = (i: number, text = '优惠已生效'): Notice => ({
  eventId: eventIdOf('PROMOTION_ACTIVATED', `m-${i}`, '2020-05-08T00:00:00.000+08:00'),
  type: 'PROMOTION_ACTIVATED',
  merchantId: `m-${i}`,
  effectiveAt: '2020-05-08T00:00:00.000+08:00',
  data: {
    programId: 'NEW_MERCHANT_FEE',
    startsAt: '2020-05-08T00:00:00.000+08:00',
    endsBefore: '2020-06-07T00:00:00.000+08:00',
    lastDay: '2020-06-06',
    days: 30,
    rate: 0.01,
    benefits: { feeRate: 0.01 },
  },
  text,
});
const notices = (n: number) => Array.from({ length: n }, (_, i) => notice(i));
const publisher = () =>
  snsPublisher(new SNSClient({ region: 'ap-east-1' }), TOPIC, silentLog, { baseDelayMs: 1 });
const entriesOf = (call: number) =>
  sns.commandCalls(PublishBatchCommand)[call]?.args[0].input.PublishBatchRequestEntries ?? [];
const succeedAll = () =>
  sns.on(PublishBatchCommand).callsFake((input) => ({
    Successful: input.PublishBatchRequestEntries.map((e: { Id: string }) => ({ Id: e.Id })),
  }));

describe('SNS publisher', () => {
  it('publishes in batches of at most 10, with type, merchantId and programId as message attributes', async () => {
    succeedAll();
    const outcome = await publisher().publish(notices(25));
    expect(outcome).toEqual({ published: 25, failed: [], requests: 3 });
    expect(
      sns
        .commandCalls(PublishBatchCommand)
        .map((c) => c.args[0].input.PublishBatchRequestEntries?.length)
        .sort(),
    ).toEqual([10, 10, 5]);
    const [first] = entriesOf(0);
    expect(first?.MessageAttributes).toEqual({
      type: { DataType: 'String', StringValue: 'PROMOTION_ACTIVATED' },
      merchantId: { DataType: 'String', StringValue: expect.stringMatching(/^m-\d+$/) },
      programId: { DataType: 'String', StringValue: 'NEW_MERCHANT_FEE' },
    });
    expect(JSON.parse(first?.Message ?? '')).toMatchObject({
      type: 'PROMOTION_ACTIVATED',
      eventId: first?.Id,
    });
    expect(sns.commandCalls(PublishBatchCommand)[0]?.args[0].input.TopicArn).toBe(TOPIC);
  });

  it('gives only promotion notices a programId attribute: a filter on a program never matches cart notices', () => {
    const cart: Notice = {
      eventId: eventIdOf('CART_POLICY_IN_FORCE', 'm-1', '2020-10-09T00:00:00.000+08:00', 'p'),
      type: 'CART_POLICY_IN_FORCE',
      merchantId: 'm-1',
      effectiveAt: '2020-10-09T00:00:00.000+08:00',
      data: {
        policyId: 'p',
        title: 't',
        announcedOn: '2020-09-28',
        effectiveAt: '2020-10-09T00:00:00.000+08:00',
        categories: 'ALL',
        thirdPartyProducts: 'BLOCKED',
        channel: 'live',
      },
      text: '',
    };
    expect(Object.keys(snsEntry(cart).MessageAttributes ?? {})).toEqual(['type', 'merchantId']);
  });

  it('keeps each request within 256 KiB', () => {
    const big = Array.from({ length: 10 }, (_, i) => snsEntry(notice(i, '长'.repeat(30_000)))); // ~90 KB each
    const batches = batchesOf(big);
    expect(batches.map((b) => b.length)).toEqual([2, 2, 2, 2, 2]);
    for (const batch of batches) {
      const bytes = batch.reduce((sum, e) => sum + Buffer.byteLength(e.Message ?? ''), 0);
      expect(bytes).toBeLessThanOrEqual(256 * 1024);
    }
  });

  it('publishes a notice listed twice in one call once', async () => {
    succeedAll();
    const outcome = await publisher().publish([notice(1), notice(1), notice(2)]);
    expect(outcome.published).toBe(2);
    expect(entriesOf(0)).toHaveLength(2);
  });

  it('retries only the entries listed in Failed that were not the sender’s fault', async () => {
    let call = 0;
    sns.on(PublishBatchCommand).callsFake((input) => {
      const entries = input.PublishBatchRequestEntries as { Id: string }[];
      call++;
      if (call === 1) {
        return {
          Successful: entries.slice(2).map((e) => ({ Id: e.Id })),
          Failed: [
            { Id: entries[0]?.Id, Code: 'InternalError', SenderFault: false, Message: 'try again' },
            { Id: entries[1]?.Id, Code: 'InvalidParameter', SenderFault: true, Message: 'bad' },
          ],
        };
      }
      return { Successful: entries.map((e) => ({ Id: e.Id })) };
    });
    const outcome = await publisher().publish(notices(5));
    expect(outcome.published).toBe(4);
    expect(outcome.failed).toEqual([{ notice: notice(1), error: 'InvalidParameter: bad' }]);
    expect(entriesOf(1).map((e) => e.Id)).toEqual([notice(0).eventId]);
  });

  it('retries a throttled request, and reports what is still failing after the last attempt', async () => {
    sns
      .on(PublishBatchCommand)
      .rejectsOnce(new ThrottledException({ message: 'Rate exceeded', $metadata: {} }))
      .callsFake((input) => ({
        Successful: input.PublishBatchRequestEntries.map((e: { Id: string }) => ({ Id: e.Id })),
      }));
    expect(await publisher().publish(notices(3))).toMatchObject({ published: 3, failed: [] });

    sns.reset();
    sns.on(PublishBatchCommand).rejects(new ThrottledException({ message: 'Rate exceeded', $metadata: {} }));
    const outcome = await publisher().publish(notices(3));
    expect(outcome.published).toBe(0);
    expect(outcome.failed.map((f) => f.error)).toEqual(Array(3).fill('ThrottledException: Rate exceeded'));
    expect(sns.commandCalls(PublishBatchCommand)).toHaveLength(4); // the default 4 attempts
  });

  it('counts an entry the response leaves out of both Successful and Failed as failed, after retrying it', async () => {
    const left = notice(2).eventId;
    sns.on(PublishBatchCommand).callsFake((input) => ({
      Successful: (input.PublishBatchRequestEntries as { Id: string }[])
        .filter((e) => e.Id !== left)
        .map((e) => ({ Id: e.Id })),
    }));
    const outcome = await publisher().publish(notices(5));
    expect(outcome.published).toBe(4);
    expect(outcome.failed).toEqual([{ notice: notice(2), error: expect.stringMatching(/^Unaccounted: /) }]);
    // retried alone until the attempts ran out
    expect(
      sns.commandCalls(PublishBatchCommand).map((c) => c.args[0].input.PublishBatchRequestEntries?.length),
    ).toEqual([5, 1, 1, 1]);
  });

  it('publishes an entry left out once when the retry accounts for it; an unknown Id in Successful counts nothing', async () => {
    let call = 0;
    sns.on(PublishBatchCommand).callsFake((input) => {
      const entries = input.PublishBatchRequestEntries as { Id: string }[];
      call++;
      return call === 1
        ? { Successful: [...entries.slice(1).map((e) => ({ Id: e.Id })), { Id: 'not-sent' }] }
        : { Successful: entries.map((e) => ({ Id: e.Id })) };
    });
    expect(await publisher().publish(notices(3))).toEqual({ published: 3, failed: [], requests: 2 });
  });

  it('backs off between attempts with the shared helper (injected sleep and jitter)', async () => {
    sns.on(PublishBatchCommand).rejects(new ThrottledException({ message: 'Rate exceeded', $metadata: {} }));
    const slept: number[] = [];
    const outcome = await snsPublisher(new SNSClient({ region: 'ap-east-1' }), TOPIC, silentLog, {
      baseDelayMs: 100,
      sleep: async (ms) => {
        slept.push(ms);
      },
      random: () => 0.5,
    }).publish(notices(1));
    expect(outcome.failed).toHaveLength(1);
    expect(slept).toEqual([50, 100, 200]); // 4 attempts, 3 waits: half of a cap that doubles each time
  });
});
