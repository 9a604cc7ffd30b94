// `notices resend` on DynamoDB Local: the notices a merchant's stored state implies are exactly those
// the notifier delivered to the sink in a real run through the CLI (same eventId, type, text, data),
// and resending publishes those same messages again; --aws publishes them to the topic (SNS mocked).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PublishBatchCommand, SNSClient } from '@aws-sdk/client-sns';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { storedNotices } from '../../cli/notices/stored-notices';
import type { Notice } from '../../shared/notices/notice';
import { getMerchant } from '../../shared/store/merchants';
import { cliInProcess, cliOn } from '../support/cli';
import { TEST_TABLE, useLocalDynamo } from '../support/dynamo';

const db = useLocalDynamo();
const { cli, file, home } = cliOn(db, TEST_TABLE);
const sink = () => join(home, 'notices.jsonl');
const sunk = (): Notice[] =>
  existsSync(sink())
    ? readFileSync(sink(), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Notice)
    : [];

const MERCHANTS = [
  // Its whole window: activated, reminded, expired.
  { merchantId: 'a-full', onboardedAt: '2020-06-25', categories: ['food'], liveCartSources: ['shop'] },
  // Both programs, and the cart and fee policies (third-party products in its live cart).
  {
    merchantId: 'b-seed',
    onboardedAt: '2020-07-03',
    categories: ['cosmetics'],
    liveCartSources: ['shop', 'taobao'],
  },
  // Revoked while active.
  {
    merchantId: 'c-revoked',
    onboardedAt: '2020-07-10',
    categories: ['apparel'],
    liveCartSources: ['taobao'],
  },
  // Revoked after its start, before activate reached it: ACTIVE and REVOKED in one write, one notice.
  { merchantId: 'd-early', onboardedAt: '2020-07-15', categories: ['food'], liveCartSources: ['shop'] },
  // Its window was over when the first run reached it: ACTIVE and EXPIRED in one write, told nothing.
  { merchantId: 'e-late', onboardedAt: '2020-05-10', categories: ['food'], liveCartSources: ['shop'] },
];
const IDS = MERCHANTS.map((m) => m.merchantId);

const ok = async (...args: string[]) => {
  const result = await cli(...args);
  expect([args, result.status, result.stderr]).toEqual([args, 0, expect.any(String)]);
  return result;
};

beforeAll(async () => {
  await db.reset();
  await ok('merchants', 'import', file('m.jsonl', MERCHANTS.map((m) => JSON.stringify(m)).join('\n')));
  await ok('merchants', 'revoke', 'd-early', '--at', '2020-07-18T12:00:00+08:00', '--reason', 'fake orders');
  await ok('run', 'activate', '--as-of', '2020-06-20T00:00:00+08:00');
  await ok('run', 'activate', '--from', '2020-06-20', '--to', '2020-07-20');
  await ok(
    'merchants',
    'revoke',
    'c-revoked',
    '--at',
    '2020-07-20T10:00:00+08:00',
    '--reason',
    'counterfeit',
  );
  await ok('run', 'expire', '--from', '2020-06-20', '--to', '2020-08-20');
  await ok('policies', 'load-default');
  await ok('run', 'cart-policies', '--from', '2020-07-29', '--to', '2020-09-07');
}, 600_000);

const isPolicyNotice = (n: Notice) => 'policyId' in n.data;

describe('the notices a stored state implies', () => {
  it('are the very notices the notifier delivered: same eventId, type, text and data (a policy state: its latest)', async () => {
    const delivered = sunk();
    const types = new Set(delivered.map((n) => n.type));
    for (const type of [
      'PROMOTION_ACTIVATED',
      'PROMOTION_ENDING_SOON',
      'PROMOTION_EXPIRED',
      'PROMOTION_REVOKED',
      'CART_POLICY_ANNOUNCED',
      'CART_POLICY_IN_FORCE',
      'XINGTU_FEE_ANNOUNCED',
      'XINGTU_FEE_IN_FORCE',
    ])
      expect(types).toContain(type);
    for (const merchantId of IDS) {
      const view = await getMerchant(db.deps(), merchantId);
      if (!view) throw new Error(`no ${merchantId}`);
      const implied = storedNotices(view);
      const sent = delivered.filter((n) => n.merchantId === merchantId);
      const byId = (notices: Notice[]) => [...notices].sort((a, b) => a.eventId.localeCompare(b.eventId));
      // Promotion notices: all of them, exactly.
      expect([merchantId, byId(implied.filter((n) => !isPolicyNotice(n)))]).toEqual([
        merchantId,
        byId(sent.filter((n) => !isPolicyNotice(n))),
      ]);
      // Policy notices: the last one delivered for each policy.
      const latest = new Map<string, Notice>();
      for (const n of sent.filter(isPolicyNotice)) latest.set((n.data as { policyId: string }).policyId, n);
      expect([merchantId, byId(implied.filter(isPolicyNotice))]).toEqual([
        merchantId,
        byId([...latest.values()]),
      ]);
    }
    const of = (id: string) =>
      delivered.filter((n) => n.merchantId === id && !isPolicyNotice(n)).map((n) => n.type);
    expect(of('d-early')).toEqual(['PROMOTION_REVOKED']);
    expect(of('e-late')).toEqual([]);
  });
});

describe('notices resend', () => {
  it('--merchant publishes the stored notices again to the local sink, the same messages, one stderr summary', async () => {
    const before = sunk();
    const resent = await cli('notices', 'resend', '--merchant', 'b-seed');
    expect(resent.status).toBe(0);
    const after = sunk();
    const added = after.slice(before.length);
    expect(resent.json).toEqual(
      added.map((n) => ({ eventId: n.eventId, type: n.type, merchantId: 'b-seed', publishedTo: sink() })),
    );
    expect(added.length).toBeGreaterThan(4);
    // Each resent message is the one first delivered with its eventId.
    for (const n of added) expect(before.find((first) => first.eventId === n.eventId)).toEqual(n);
    expect(resent.stderr).toBe(
      `resent ${added.length} notices to ${sink()} (same eventIds: subscribers drop what they had)\n`,
    );
    // The listing still works beside its subcommand, and shows the copies.
    const listed = await cli('notices', '--merchant', 'b-seed', '--type', 'PROMOTION_ACTIVATED');
    expect([listed.status, listed.json.length]).toEqual([0, 4]);
  });

  it('--type resends only that type; none of it: "nothing to resend", exit 0', async () => {
    const one = await cli('notices', 'resend', '--merchant', 'a-full', '--type', 'PROMOTION_EXPIRED');
    expect([one.status, one.json.map((l) => (l as Notice).type)]).toEqual([0, ['PROMOTION_EXPIRED']]);
    const none = await cli('notices', 'resend', '--merchant', 'e-late', '--type', 'PROMOTION_ACTIVATED');
    expect([none.status, none.stdout, none.stderr]).toEqual([0, '', 'nothing to resend\n']);
  });

  it('--event-id finds its merchant in the sink and resends that one notice; an unknown one exits 1 naming it', async () => {
    const target = sunk().find(
      (n) => n.merchantId === 'c-revoked' && n.type === 'PROMOTION_REVOKED',
    ) as Notice;
    const before = sunk().length;
    const resent = await cli('notices', 'resend', '--event-id', target.eventId);
    expect([resent.status, resent.json]).toEqual([
      0,
      [{ eventId: target.eventId, type: 'PROMOTION_REVOKED', merchantId: 'c-revoked', publishedTo: sink() }],
    ]);
    expect(sunk().slice(before)).toEqual([target]);
    expect(resent.stderr).toBe(
      `resent 1 notice to ${sink()} (same eventIds: subscribers drop what they had)\n`,
    );

    const unknown = '00000000-0000-0000-0000-000000000000';
    const notInSink = await cli('notices', 'resend', '--event-id', unknown);
    expect([notInSink.status, notInSink.stdout]).toEqual([1, '']);
    expect(notInSink.stderr).toMatch(`no notice ${unknown} in the local sink`);
    const notInState = await cli('notices', 'resend', '--event-id', unknown, '--merchant', 'a-full');
    expect(notInState.status).toBe(1);
    expect(notInState.stderr).toMatch(`no notice ${unknown} in the stored state of merchant a-full`);
    const noMerchant = await cli('notices', 'resend', '--merchant', 'nobody');
    expect([noMerchant.status, noMerchant.stderr]).toEqual([1, 'error: no merchant nobody\n']);
    expect(sunk().length).toBe(before + 1);
  });

  it('refuses bad options by name (exit 2), writing nothing', async () => {
    const before = sunk().length;
    for (const [args, message] of [
      [[], /--event-id or --merchant: required/],
      [['--event-id', 'abc'], /--event-id: must be an eventId .*\(got abc\)/],
      [['--merchant', 'a-full', '--type', 'HELLO'], /--type: must be one of PROMOTION_ACTIVATED/],
      [
        ['--event-id', '00000000-0000-0000-0000-000000000000', '--type', 'PROMOTION_EXPIRED'],
        /--type: not with --event-id/,
      ],
    ] as const) {
      const refused = await cli('notices', 'resend', ...args);
      expect([args, refused.status, refused.stdout]).toEqual([args, 2, '']);
      expect(refused.stderr).toMatch(message);
    }
    expect(sunk().length).toBe(before);
  });

  it('--aws publishes to the topic from --topic-arn (the same messages and attributes); without one it says what is needed', async () => {
    const partition = (await db.scanAll()).filter((item) => item.pk === 'MERCHANT#a-full');
    // What its stored state implies, each notice as first delivered (the first test shows they agree).
    const firsts = new Map<string, Notice>();
    for (const n of sunk()) if (!firsts.has(n.eventId)) firsts.set(n.eventId, n);
    const view = await getMerchant(db.deps(), 'a-full');
    const original = storedNotices(view as NonNullable<typeof view>).map((n) => firsts.get(n.eventId));
    expect(original.map((n) => n?.type)).toEqual([
      'PROMOTION_ACTIVATED',
      'PROMOTION_ENDING_SOON',
      'PROMOTION_EXPIRED',
      'XINGTU_FEE_IN_FORCE',
    ]);
    const aws = (...args: string[]) =>
      cliInProcess(args, {
        PROMO_JOBS_HOME: home,
        TABLE_NAME: 'promo-jobs-prod',
        AWS_REGION: 'ap-east-1',
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
        DYNAMODB_ENDPOINT: '',
        SNS_TOPIC_ARN: '',
      });
    const topic = 'arn:aws:sns:ap-east-1:123456789012:promo-jobs-prod-notices';
    const missing = await aws('--aws', 'notices', 'resend', '--merchant', 'a-full');
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(
      /--topic-arn: required with --aws: the deployed notices topic \(the stack output NoticesTopicArn\)/,
    );

    // The SDK finds its Region and credentials in the process's environment, as on a workstation.
    vi.stubEnv('AWS_REGION', 'ap-east-1');
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'test');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'test');
    const dynamo = mockClient(DynamoDBDocumentClient);
    const sns = mockClient(SNSClient);
    try {
      dynamo.on(QueryCommand).resolves({ Items: partition });
      sns.on(PublishBatchCommand).callsFake((input: { PublishBatchRequestEntries: { Id: string }[] }) => ({
        Successful: input.PublishBatchRequestEntries.map((e) => ({ Id: e.Id, MessageId: `m-${e.Id}` })),
        Failed: [],
      }));
      const resent = await aws('--aws', '--topic-arn', topic, 'notices', 'resend', '--merchant', 'a-full');
      expect(resent.status).toBe(0);
      expect(resent.json).toEqual(
        original.map((n) => ({
          eventId: n?.eventId,
          type: n?.type,
          merchantId: 'a-full',
          publishedTo: topic,
        })),
      );
      const calls = sns.commandCalls(PublishBatchCommand);
      expect(calls).toHaveLength(1);
      expect(calls[0]?.args[0].input.TopicArn).toBe(topic);
      const entries = calls[0]?.args[0].input.PublishBatchRequestEntries ?? [];
      expect(entries.map((e) => e.Id)).toEqual(original.map((n) => n?.eventId));
      expect(entries.map((e) => JSON.parse(e.Message ?? ''))).toEqual(original);
      expect(entries[0]?.MessageAttributes?.type?.StringValue).toBe('PROMOTION_ACTIVATED');
      expect(dynamo.commandCalls(QueryCommand)[0]?.args[0].input.TableName).toBe('promo-jobs-prod');
      expect(resent.stderr).toMatch(`resent ${original.length} notices to ${topic}`);

      // A notice SNS refuses is reported and exits 1; the others are resent.
      sns.on(PublishBatchCommand).callsFake((input: { PublishBatchRequestEntries: { Id: string }[] }) => ({
        Successful: input.PublishBatchRequestEntries.slice(1).map((e) => ({ Id: e.Id, MessageId: 'x' })),
        Failed: input.PublishBatchRequestEntries.slice(0, 1).map((e) => ({
          Id: e.Id,
          Code: 'InvalidParameter',
          SenderFault: true,
          Message: 'no',
        })),
      }));
      const partly = await aws('--aws', '--topic-arn', topic, 'notices', 'resend', '--merchant', 'a-full');
      expect(partly.status).toBe(1);
      expect(partly.json).toHaveLength(original.length - 1);
      expect(partly.stderr).toMatch(
        `not resent: ${original[0]?.eventId} PROMOTION_ACTIVATED: InvalidParameter: no`,
      );
      expect(partly.stderr).toMatch(/; 1 not taken/);
    } finally {
      dynamo.restore();
      sns.restore();
      vi.unstubAllEnvs();
    }
  });
});
