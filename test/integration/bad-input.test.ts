import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../shared/config';
import { createJobHandler } from '../../shared/lambda/job-handler';
import { createNotifierHandler } from '../../shared/lambda/notifier-handler';
import { createObservability, type LambdaRuntime } from '../../shared/lambda/runtime';
import { merchantRecordSchema, recordMerchants } from '../../shared/merchants/record';
import { fileSink } from '../../shared/notices/publisher';
import { cliOn } from '../support/cli';
import { TEST_TABLE, useLocalDynamo } from '../support/dynamo';
import { fakeContext } from '../support/lambda';

const db = useLocalDynamo();
const { cli, file, missing } = cliOn(db, TEST_TABLE);
let baseline: Record<string, unknown>[];

/** `quote` with valid arguments, some replaced (or left out, with undefined). */
function quote(changes: Record<string, string | undefined>): string[] {
  const args: Record<string, string | undefined> = {
    '--merchant': 'merchant-a',
    '--created-at': '2020-05-20T12:00:00+08:00',
    '--source': 'other',
    '--standard-rate': '0.05',
    ...changes,
  };
  return [
    'quote',
    ...Object.entries(args).flatMap(([name, value]) => (value === undefined ? [] : [name, value])),
  ];
}

/** A valid policy file's JSON, some fields replaced. */
const policyJson = (changes: Record<string, unknown>) =>
  JSON.stringify({
    policyId: 'p-1',
    title: 't',
    announcedOn: '2020-09-01',
    effectiveAt: '2020-09-07',
    scope: { channel: 'live', categories: 'ALL' },
    thirdPartyProducts: 'BLOCKED',
    ...changes,
  });

beforeAll(async () => {
  // Something to lose: a merchant, a policy calendar, a run.
  await recordMerchants(db.deps(), [
    merchantRecordSchema.parse({
      merchantId: 'merchant-a',
      onboardedAt: '2020-05-06',
      liveCartSources: ['taobao'],
    }),
  ]);
  await cli('policies', 'load-default');
  await cli('run', 'activate', '--as-of', '2020-05-08T00:00:00+08:00');
  baseline = await db.scanAll();
});

const HUGE = 'x'.repeat(200_000);
const OFFSETLESS = '2020-05-08T00:00:00';

const jobEvents: [string, unknown, RegExp][] = [
  ['wrong type', { asOf: 20200508 }, /^asOf: /],
  [
    'dryRun not a boolean',
    { asOf: '2020-05-08T00:00:00+08:00', dryRun: 'yes' },
    /^dryRun: must be true or false/,
  ],
  ['missing to', { from: '2020-05-01' }, /^to: is required/],
  ['unknown field', { scheduledTime: '2020-05-07T16:00:00Z', force: true }, /^force: unknown field/],
  ['impossible date', { from: '2020-02-30', to: '2020-03-01' }, /^from: must be a calendar date/],
  ['not a leap year', { from: '2021-02-29', to: '2021-03-01' }, /^from: must be a calendar date/],
  ['24:00', { asOf: '2020-05-08T24:00:00+08:00' }, /^asOf: must be an ISO 8601 instant/],
  ['instant without offset', { asOf: OFFSETLESS }, /^asOf: must be an ISO 8601 instant with an offset/],
  [
    'scheduled time without offset',
    { scheduledTime: OFFSETLESS },
    /^scheduledTime: must be an ISO 8601 instant/,
  ],
  ['range reversed', { from: '2020-05-10', to: '2020-05-01' }, /^to: must be on or after from/],
  ['range too long', { from: '2020-01-01', to: '2021-01-01' }, /^to: must be at most 366 days after from/],
  ['huge string', { asOf: HUGE }, /^asOf: /],
  [
    'resume for another instant',
    {
      asOf: '2020-05-08T00:00:00+08:00',
      resume: { asOf: '2020-05-09T00:00:00+08:00', token: '3f1c7a52-9d0e-4b8a-9c61-2f4e8d7b1a90' },
    },
    /^resume\.asOf: /,
  ],
  [
    'resume that carries its own checkpoint',
    { asOf: '2020-05-08T00:00:00+08:00', resume: { asOf: '2020-05-08T00:00:00+08:00', checkpoint: {} } },
    /^resume\.token: is required; resume\.checkpoint: unknown field/,
  ],
  [
    'resume with a token that is not one',
    {
      asOf: '2020-05-08T00:00:00+08:00',
      resume: { asOf: '2020-05-08T00:00:00+08:00', token: 'x'.repeat(5000) },
    },
    /^resume\.token: must be the token of the run it continues/,
  ],
  [
    'resume of a dry run',
    {
      asOf: '2020-05-08T00:00:00+08:00',
      dryRun: true,
      resume: { asOf: '2020-05-08T00:00:00+08:00', token: '3f1c7a52-9d0e-4b8a-9c61-2f4e8d7b1a90' },
    },
    /^resume: a dry run is not continued/,
  ],
  ['not an object', 'activate please', /must be an object/],
  ['null', null, /must be an object/],
  ['an array', [{ asOf: '2020-05-08T00:00:00+08:00' }], /must be an object/],
  ['empty', {}, /must have scheduledTime, asOf, or from and to/],
];

describe('Lambda events', () => {
  const runtime = (): LambdaRuntime => ({
    ...createObservability(),
    config: loadConfig({ TABLE_NAME: TEST_TABLE }),
    deps: db.deps(),
  });

  for (const job of ['activate', 'expire', 'cart-policies'] as const) {
    it.each(jobEvents)(`${job}: %s is refused, naming the field`, async (_name, event, message) => {
      const handler = createJobHandler(job, runtime());
      await expect(handler(event as never, fakeContext(job))).rejects.toThrow(message);
      expect(await db.scanAll()).toEqual(baseline);
    });
  }

  it.each([
    ['no Records', {}, /^Records: is required/],
    ['Records not a list', { Records: 'x' }, /^Records: /],
    [
      'unknown eventName',
      { Records: [{ eventName: 'TRUNCATE', dynamodb: { SequenceNumber: '1' } }] },
      /^Records\.0\.eventName: /,
    ],
    [
      'missing sequence number',
      { Records: [{ eventName: 'INSERT', dynamodb: {} }] },
      /^Records\.0\.dynamodb\.SequenceNumber: is required/,
    ],
  ])('notifier: %s is refused, naming the field', async (_name, event, message) => {
    const handler = createNotifierHandler(createObservability(), fileSink(missing('never.jsonl')));
    await expect(handler(event as never, fakeContext('notifier'))).rejects.toThrow(message);
  });
});

describe('CLI commands and options', () => {
  it.each([
    [['window', '2020-02-30'], /<date\|instant>: must be a calendar date/],
    [['window', OFFSETLESS], /<date\|instant>: /],
    [['window', '2020-05-06', '--program-start', '2020-13-01'], /--program-start: must be a calendar date/],
    [['merchants', 'record', 'a#b', '--onboarded-at', '2020-05-06'], /<merchantId>: may contain only/],
    [['merchants', 'record', 'MERCHANT#x', '--onboarded-at', '2020-05-06'], /<merchantId>: may contain only/],
    [['merchants', 'record', '', '--onboarded-at', '2020-05-06'], /<merchantId>: must not be empty/],
    [['merchants', 'record', 'a\u0000b', '--onboarded-at', '2020-05-06'], /<merchantId>: may contain only/],
    [
      ['merchants', 'record', 'line\nbreak', '--onboarded-at', '2020-05-06'],
      /<merchantId>: may contain only/,
    ],
    [
      ['merchants', 'record', HUGE.slice(0, 5000), '--onboarded-at', '2020-05-06'],
      /<merchantId>: must be at most 128/,
    ],
    [['merchants', 'record', 'ok-1'], /required option '--onboarded-at <date\|instant>' not specified/],
    [
      ['merchants', 'record', 'ok-1', '--onboarded-at', OFFSETLESS],
      /--onboarded-at: must be a calendar date/,
    ],
    [
      ['merchants', 'record', 'ok-1', '--onboarded-at', '2020-05-06', '--categories', 'Cosmetics!'],
      /--categories\.0: must be lower-case/,
    ],
    [
      ['merchants', 'record', 'ok-1', '--onboarded-at', '2020-05-06', '--tier', 'gold'],
      /unknown option '--tier'/,
    ],
    [
      ['merchants', 'revoke', 'merchant-a', '--at', '2020-05-20', '--reason', 'x'],
      /--at: must be an ISO 8601 instant/,
    ],
    [
      ['merchants', 'revoke', 'merchant-a', '--at', '2020-05-20T12:00:00+08:00', '--reason', HUGE],
      /--reason: must be at most 500/,
    ],
    [
      ['merchants', 'revoke', 'merchant-a', '--at', '2020-05-20T12:00:00+08:00', '--reason', '  '],
      /--reason: must not be empty/,
    ],
    [['merchants', 'import'], /missing required argument 'file'/],
    [['merchants', 'import', missing('nope.jsonl')], /<file>: no such file/],
    [['merchant', 'a#1'], /<merchantId>: may contain only/],
    [['run', 'activate', '--as-of', '2020-05-08T24:00:00+08:00'], /--as-of: must be an ISO 8601 instant/],
    [
      ['run', 'activate', '--from', '2020-01-01', '--to', '2020-02-30'],
      /--to: must be a calendar date: 2020-02-30 is not a date/,
    ],
    [['run', 'expire', '--from', '2020-06-01', '--to', '2020-05-01'], /--to: must be on or after from/],
    [['run', 'everything', '--as-of', '2020-05-08T00:00:00+08:00'], /<job>: must be one of/],
    [['run', 'activate', 'extra', '--as-of', '2020-05-08T00:00:00+08:00'], /unexpected argument "extra"/],
    [quote({ '--created-at': OFFSETLESS }), /--created-at: /],
    [quote({ '--source': 'tv' }), /--source: must be one of/],
    [quote({ '--standard-rate': '5' }), /--standard-rate: must be at most 1/],
    [quote({ '--standard-rate': 'abc' }), /--standard-rate: must be a number/],
    [quote({ '--standard-rate': undefined }), /required option '--standard-rate <r>' not specified/],
    [['policies', 'announce', missing('nope.json')], /<file.json>: no such file/],
    [
      ['policies', 'withdraw', 'live-third-party-blocked-2020-10-09'],
      /required option '--reason <text>' not specified/,
    ],
    [['flags', '--at', '2020-09-06'], /--at: must be an ISO 8601 instant/],
    [['notices', '--type', 'PROMOTION_STARTED'], /--type: must be one of/],
    [['notices', '--merchant', 'a#b'], /--merchant: may contain only/],
    [['demo', '--merchants', '0'], /--merchants: /],
    [['demo', '--seed=-1'], /--seed: /],
    [['demo', '--from', '2020-06-01', '--to', '2020-05-01'], /--to: must be on or after --from/],
  ])('%j exits 2 naming the field; the table is unchanged', async (args, message) => {
    const r = await cli(...args);
    expect([r.status, r.stdout]).toEqual([2, '']);
    expect(r.stderr).toMatch(message);
    expect(await db.scanAll()).toEqual(baseline);
  });

  it.each([
    ['not JSON', '{ nope', /<file.json>: not valid JSON/],
    [
      'short-video channel',
      policyJson({ scope: { channel: 'short-video', categories: 'ALL' } }),
      /scope\.channel: must be "live"/,
    ],
    ['no categories', policyJson({ scope: { channel: 'live', categories: [] } }), /scope\.categories: /],
    [
      'unknown value',
      policyJson({ thirdPartyProducts: 'MAYBE' }),
      /thirdPartyProducts: must be one of XINGTU_ONLY, BLOCKED/,
    ],
    [
      'in force before announced',
      policyJson({ announcedOn: '2020-09-10' }),
      /effectiveAt: must not be before the day it is announced/,
    ],
    [
      'id colliding with the key layout',
      policyJson({ policyId: 'POLICY#x' }),
      /policyId: must be lower-case/,
    ],
    ['unknown field', policyJson({ priority: 1 }), /priority: unknown field/],
    [
      'one bad policy among good ones',
      `[${policyJson({ policyId: 'p-ok' })},${policyJson({ policyId: 'p-bad', title: '' })}]`,
      /\[1\]\.title: must not be empty/,
    ],
  ])('policies announce: %s is refused and nothing is recorded', async (_name, text, message) => {
    const r = await cli('policies', 'announce', file('policy.json', text));
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(await db.scanAll()).toEqual(baseline);
  });
});

describe('import files', () => {
  it.each([
    [
      'jsonl',
      'm.jsonl',
      [
        '{"merchantId":"x#1","onboardedAt":"2020-05-06"}',
        '{"merchantId":"x2","onboardedAt":"2020-02-30"}',
        `{"merchantId":"x3","onboardedAt":"${OFFSETLESS}"}`,
        '{"merchantId":"x4"}',
        '{"merchantId":"x5","onboardedAt":"2020-05-06","tier":"gold"}',
        '{"merchantId":5,"onboardedAt":"2020-05-06"}',
        '[1,2]',
        'null',
        '{broken',
        `{"merchantId":"${HUGE.slice(0, 20_000)}","onboardedAt":"2020-05-06"}`,
        '{"merchantId":"","onboardedAt":"2020-05-06"}',
        '{"merchantId":"x6","onboardedAt":"2020-05-06","liveCartSources":"taobao"}',
      ],
      [
        /merchantId: may contain only/,
        /onboardedAt: must be a calendar date/,
        /onboardedAt: must be a calendar date/,
        /onboardedAt: is required/,
        /tier: unknown field/,
        /merchantId: /,
        /\(input\): /,
        /\(input\): /,
        /not valid JSON/,
        /longer than 10000 characters/,
        /merchantId: must not be empty/,
        /liveCartSources: /,
      ],
    ],
    [
      'csv',
      'm.csv',
      [
        'merchantId,onboardedAt,categories',
        'x#1,2020-05-06,',
        'x2,2020-05-06T24:00:00+08:00,',
        'x3,2020-05-06',
        'x4,"2020-05-06,',
        ',2020-05-06,',
        'x5,2020-05-06,Bad Category',
      ],
      [
        /merchantId: may contain only/,
        /onboardedAt: must be a calendar date/,
        /has 2 cells, the header has 3/,
        /unterminated quoted field/,
        /merchantId: is required/,
        /categories\.0: must be lower-case/,
      ],
    ],
  ])(
    '%s: every malformed line is rejected by number, naming the field; nothing is written',
    async (format, name, lines, messages) => {
      const r = await cli('merchants', 'import', file(name, lines.join('\n')));
      expect(r.status).toBe(1);
      const summary = r.json[0] as { created: number; rejected: { line: number; error: string }[] };
      expect(summary.created).toBe(0);
      // Every line of the file is bad (after the CSV's header): each is reported by its line number.
      const firstLine = format === 'csv' ? 2 : 1;
      expect(summary.rejected.map((x) => x.line)).toEqual(messages.map((_, i) => i + firstLine));
      expect(summary.rejected.map((x) => x.error)).toEqual(messages.map((m) => expect.stringMatching(m)));
      expect(await db.scanAll()).toEqual(baseline);
    },
  );

  it('refuses a CSV whose header has an unknown or missing column, before reading any line', async () => {
    for (const header of ['merchantId,onboardedAt,tier', 'merchantId,categories', '']) {
      const r = await cli('merchants', 'import', file('h.csv', `${header}\nx1,2020-05-06,gold\n`));
      expect([header, r.status]).toEqual([header, 2]);
      expect(r.stderr).toMatch(/file: CSV (header|file has no header)/);
    }
    expect(await db.scanAll()).toEqual(baseline);
  });
});
