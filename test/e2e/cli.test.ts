// The CLI contract (issue #2): commands, options, JSON on stdout, exit codes 0/1/2.
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteCommand } from '@aws-sdk/lib-dynamodb';
import { DateTime } from 'luxon';
import { beforeEach, describe, expect, it } from 'vitest';
import { LEASE_TTL_MS } from '../../shared/jobs/lease';
import { JOB_NAMES, JOBS } from '../../shared/jobs/registry';
import { enrolmentKey } from '../../shared/store/keys';
import { dateOf } from '../../shared/time';
import { cliInProcess, cliOn, runCli, runNpmScript, startCli } from '../support/cli';
import { TEST_TABLE, useLocalDynamo } from '../support/dynamo';
import { onHome, useHomes } from '../support/homes';
import { leaveLease } from '../support/leases';
import { sh } from '../support/promotions';

const db = useLocalDynamo();
const { cli, file, missing, home } = cliOn(db, TEST_TABLE);
beforeEach(() => db.reset());

describe('help', () => {
  it('every command has --help, exiting 0 with its usage; no command prints the overview and exits 2', async () => {
    const overview = await cli('help');
    expect(overview.status).toBe(0);
    const names = [
      ...overview.stdout.matchAll(
        /^ {2}([a-z]\S*(?: (?:import|record|revoke|reindex|load-default|announce|withdraw|list|release|describe|pause|resume|show|resend|replay|stop|status))?) {2,}/gm,
      ),
    ].map((m) => m[1] as string);
    expect(names).toEqual([
      'window',
      'merchants import',
      'merchants record',
      'merchants revoke',
      'merchants reindex',
      'merchants list',
      'merchant',
      'run',
      'runs list',
      'runs show',
      'leases list',
      'leases release',
      'quote',
      'capabilities',
      'xingtu-fee',
      'policies load-default',
      'policies announce',
      'policies withdraw',
      'policies list',
      'flags',
      'programs list',
      'programs announce',
      'programs withdraw',
      'status',
      'schedules list',
      'schedules describe',
      'schedules pause',
      'schedules resume',
      'notices',
      'notices resend',
      'failures list',
      'failures replay',
      'demo',
      'report',
      'local stop',
      'local status',
    ]);
    for (const name of names) {
      const help = await cli(...name.split(' '), '--help');
      expect([name, help.status]).toEqual([name, 0]);
      expect(help.stdout).toMatch(new RegExp(`^usage: npm run --silent jobs -- ${name}`));
    }
    expect((await cli()).status).toBe(2);
    expect((await cli('frobnicate')).status).toBe(2);
    expect((await cli('merchants')).stderr).toMatch(
      /expected one of: merchants import, merchants record, merchants revoke/,
    );
  });
});

describe('commander: help, negative values, unknown options, errors that name the value', () => {
  it('a group of commands has --help too, listing its commands, exit 0; help <group> is the same', async () => {
    for (const [group, commands] of [
      ['merchants', ['import', 'record', 'revoke', 'reindex']],
      ['policies', ['load-default', 'announce', 'withdraw', 'list']],
      ['programs', ['list', 'announce', 'withdraw']],
      ['leases', ['list', 'release']],
      ['schedules', ['list', 'describe', 'pause', 'resume']],
      ['runs', ['list', 'show']],
    ] as const) {
      const help = await cli(group, '--help');
      expect([group, help.status, help.stderr]).toEqual([group, 0, '']);
      expect(help.stdout).toMatch(new RegExp(`^usage: npm run --silent jobs -- ${group} <command>`));
      for (const command of commands) expect(help.stdout).toMatch(new RegExp(`^ {2}${command} `, 'm'));
      expect((await cli('help', group)).stdout).toEqual(help.stdout);
    }
  });

  it('run --help lists every job of the registry with its schedule and what it does', async () => {
    const help = await cli('run', '--help');
    expect(help.status).toBe(0);
    const time = (n: number) => String(n).padStart(2, '0');
    for (const job of JOB_NAMES) {
      const { schedule, summary } = JOBS[job];
      const line = `${job} +${time(schedule.hour)}:${time(schedule.minute)} daily \\(${schedule.timeZone}\\): `;
      expect(help.stdout).toMatch(new RegExp(`^ {2}${line}`, 'm'));
      expect(help.stdout.replace(/\s+/g, ' ')).toContain(summary);
    }
  });

  it('a negative number is the value of its option, refused by its own rule', async () => {
    const quote = await cli(
      'quote',
      '--merchant',
      'r',
      '--created-at',
      '2020-05-20T12:00:00+08:00',
      '--source',
      'other',
      '--standard-rate',
      '-0.05',
    );
    expect([quote.status, quote.stdout, quote.stderr]).toEqual([
      2,
      '',
      'error: --standard-rate: must be at least 0 (got -0.05)\n',
    ]);
    const status = await cli('status', '--days', '-3');
    expect([status.status, status.stderr]).toEqual([2, 'error: --days: must be at least 1 (got -3)\n']);
  });

  it('the value is shown even when the message happens to contain it', async () => {
    const quote = await cli(
      ...['quote', '--merchant', 'r', '--created-at', '2020-05-20T12:00:00+08:00', '--source', 'other'],
      ...['--standard-rate', '5'],
    );
    expect([quote.status, quote.stderr]).toEqual([
      2,
      expect.stringMatching(/^error: --standard-rate: .*\(got 5\)\n$/),
    ]);
  });

  it('an unknown option is named in one balanced message, exit 2', async () => {
    for (const args of [
      ['window', '2020-05-06', '--frobnicate'],
      ['merchants', 'record', 'r', '--onboarded-at', '2020-05-06', '--frobnicate'],
      ['--frobnicate', 'window', '2020-05-06'],
    ]) {
      const r = await cli(...args);
      expect([args, r.status, r.stdout, r.stderr]).toEqual([
        args,
        2,
        '',
        "error: unknown option '--frobnicate'\n",
      ]);
    }
  });

  it('an impossible date says which month it is not a date of, naming the argument', async () => {
    const r = await cli('window', '2020-02-30');
    expect([r.status, r.stderr]).toEqual([
      2,
      'error: <date|instant>: must be a calendar date: 2020-02-30 is not a date of February 2020 (it has 29 days)\n',
    ]);
    const range = await cli('run', 'activate', '--from', '2021-02-29', '--to', '2021-03-01');
    expect([range.status, range.stderr]).toEqual([
      2,
      'error: --from: must be a calendar date: 2021-02-29 is not a date of February 2021 (it has 28 days)\n',
    ]);
    const format = await cli('merchants', 'revoke', 'r', '--at', '2020-05-20', '--reason', 'x');
    expect(format.stderr).toMatch(/^error: --at: must be an ISO 8601 instant .* \(got 2020-05-20\)$/m);
  });
});

describe('window', () => {
  it('prints the window of a date or an instant, and exits 2 on anything else', async () => {
    const ok = await cli('window', '2020-05-06T16:30:00Z');
    expect(ok.status).toBe(0);
    expect(ok.json[0]).toMatchObject({
      onboardedOn: '2020-05-07',
      startsAt: sh('2020-05-09 00:00'),
      lastDay: '2020-06-07',
      days: 30,
    });
    expect((await cli('window', '2020-04-30')).json[0]).toMatchObject({ eligible: false });
    expect((await cli('window', '2020-04-30', '--program-start', '2020-04-01')).json[0]).toMatchObject({
      eligible: true,
    });
    for (const bad of [
      ['2020-02-30'],
      ['2020-05-06T10:00:00'],
      ['2020-05-06', '--program-start', 'May'],
      ['2020-05-06', 'extra'],
    ]) {
      const r = await cli('window', ...bad);
      expect([bad, r.status, r.stdout]).toEqual([bad, 2, '']);
      expect(r.stderr).toMatch(/^error: /);
    }
  });
});

describe('merchants import / record / revoke, merchant, quote', () => {
  it('refuses as a whole, with one message that says what it is, a file that is not JSON Lines or CSV; nothing written', async () => {
    const records = [
      { merchantId: 'w-1', onboardedAt: '2020-05-06', categories: ['home'] },
      { merchantId: 'w-2', onboardedAt: '2020-05-07' },
    ];
    const jsonl = `${records.map((r) => JSON.stringify(r)).join('\n')}\n`;
    const utf16 = file('utf16.jsonl', '');
    writeFileSync(utf16, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(jsonl, 'utf16le')]));
    const latin1 = file('latin1.csv', '');
    writeFileSync(latin1, Buffer.from('merchantId,onboardedAt\ncafé,2020-05-06\n', 'latin1'));
    const cases: [string, RegExp][] = [
      [utf16, /^error: file: is UTF-16 \(or binary\), not UTF-8 text: save it as UTF-8/],
      [
        file('pretty.json', JSON.stringify(records, null, 2)),
        /^error: file: is a JSON document, not JSON Lines/,
      ],
      [file('array.jsonl', JSON.stringify(records)), /^error: file: is a JSON document, not JSON Lines/],
      [latin1, /^error: file: is not UTF-8 text \(Latin-1, GBK or another encoding\?\)/],
    ];
    for (const [path, message] of cases) {
      const refused = await cli('merchants', 'import', path);
      expect([refused.status, refused.stderr.split('\n').filter(Boolean)], path).toEqual([
        2,
        [expect.stringMatching(message)],
      ]);
    }
    expect((await cli('merchant', 'w-1')).status).toBe(1); // nothing was recorded
    // The same records as JSON Lines in UTF-8 (with a BOM) import as usual.
    const ok = await cli('merchants', 'import', file('ok.jsonl', `\uFEFF${jsonl}`));
    expect([ok.status, ok.json[0]]).toEqual([0, expect.objectContaining({ created: 2 })]);
  });

  it('imports JSON Lines: stores the valid lines, lists the rejected ones by line, exits 1; re-import changes nothing', async () => {
    const path = file(
      'm.jsonl',
      [
        JSON.stringify({
          merchantId: 'a',
          onboardedAt: '2020-05-06',
          categories: ['cosmetics'],
          liveCartSources: ['shop', 'taobao'],
        }),
        '',
        JSON.stringify({ merchantId: 'b', onboardedAt: '2020-05-06T16:30:00Z' }),
        '{"merchantId": "c", "onboardedAt": "2020-02-30"}',
        '{not json',
        JSON.stringify({ merchantId: 'd#1', onboardedAt: '2020-05-06' }),
        JSON.stringify({ merchantId: 'e', onboardedAt: '2020-05-06', tier: 'gold' }),
        JSON.stringify({ merchantId: 'f', onboardedAt: '2020-04-06' }),
      ].join('\n'),
    );
    const first = await cli('merchants', 'import', path);
    expect(first.status).toBe(1);
    expect(first.json[0]).toEqual({
      created: 3,
      updated: 0,
      unchanged: 0,
      stale: 0,
      rejectedCount: 4,
      rejected: [
        { line: 4, error: expect.stringMatching(/^onboardedAt: must be a calendar date/) },
        { line: 5, error: '(line): not valid JSON' },
        { line: 6, error: expect.stringMatching(/^merchantId: may contain only/) },
        { line: 7, error: 'tier: unknown field' },
      ],
    });
    const again = await cli('merchants', 'import', path);
    expect(again.json[0]).toMatchObject({ created: 0, updated: 0, unchanged: 3 });
    const b = await cli('merchant', 'b');
    expect(b.json[0]).toMatchObject({
      merchantId: 'b',
      onboardedOn: '2020-05-07',
      promotion: { status: 'SCHEDULED' },
    });
    expect((await cli('merchant', 'f')).json[0]).toMatchObject({
      promotion: { status: 'INELIGIBLE', eligible: false },
    });
  });

  it('imports CSV with list cells, and refuses a CSV with an unknown column before writing anything', async () => {
    const ok = file(
      'm.csv',
      'merchantId,onboardedAt,categories,liveCartSources\nx,2020-05-06,cosmetics;apparel,"shop;jd"\ny,2020-05-07,,\n',
    );
    const r = await cli('merchants', 'import', ok);
    expect([r.status, r.json[0]]).toEqual([
      0,
      { created: 2, updated: 0, unchanged: 0, stale: 0, rejected: [], rejectedCount: 0 },
    ]);
    expect((await cli('merchant', 'x')).json[0]).toMatchObject({
      categories: ['apparel', 'cosmetics'],
      liveCartSources: ['jd', 'shop'],
    });
    await db.reset();
    const bad = await cli(
      'merchants',
      'import',
      file('bad.csv', 'merchantId,onboardedAt,tier\nz,2020-05-06,gold\n'),
    );
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/unknown: tier/);
    expect(await db.scanAll()).toEqual([]);
    expect((await cli('merchants', 'import', missing('missing.jsonl'))).status).toBe(2);
    expect(await cli('merchants', 'import', file('m.txt', ''))).toMatchObject({ status: 2 });
  });

  it('reads CSV as RFC 4180: a quoted cell keeps its comma and its line break; lines are numbered as in the file', async () => {
    const path = file(
      'quoted.csv',
      [
        'merchantId,onboardedAt,categories,liveCartSources',
        'comma,2020-05-06,"cosmetics,apparel",shop', // one cell holding a comma: not 5 cells
        'multi,2020-05-07,"cosmetics;',
        'apparel",shop', // the same record: its cell holds a line break
        '',
        'late,2020-02-30,,',
        'open,"2020-05-06,,', // an unclosed quote is rejected alone: the next line still counts
        'after,2020-05-08,,',
      ].join('\r\n'),
    );
    const r = await cli('merchants', 'import', path);
    expect([r.status, r.json[0]]).toEqual([
      1,
      {
        created: 2,
        updated: 0,
        unchanged: 0,
        stale: 0,
        rejectedCount: 3,
        rejected: [
          { line: 2, error: expect.stringMatching(/^categories\.0: must be lower-case/) },
          {
            line: 6,
            error: expect.stringMatching(/^onboardedAt: must be a calendar date: 2020-02-30 is not/),
          },
          { line: 7, error: '(line): unterminated quoted field' },
        ],
      },
    ]);
    expect((await cli('merchant', 'multi')).json[0]).toMatchObject({
      categories: ['apparel', 'cosmetics'],
      liveCartSources: ['shop'],
    });
    expect((await cli('merchant', 'after')).json[0]).toMatchObject({ onboardedOn: '2020-05-08' });
  });

  it('records one merchant, corrects its T, revokes it, and quotes its orders', async () => {
    expect((await cli('merchants', 'record', 'r', '--onboarded-at', '2020-05-06')).json[0]).toEqual({
      merchantId: 'r',
      outcome: 'created',
    });
    expect((await cli('merchants', 'record', 'r', '--onboarded-at', '2020-05-06')).json[0]).toEqual({
      merchantId: 'r',
      outcome: 'unchanged',
    });
    expect((await cli('merchants', 'record', 'r', '--onboarded-at', '2020-05-10')).json[0]).toEqual({
      merchantId: 'r',
      outcome: 'updated',
    });
    const bad = await cli('merchants', 'record', 'r', '--onboarded-at', '2020-05-10T08:00');
    expect([bad.status, bad.stderr]).toEqual([
      2,
      expect.stringMatching(/--onboarded-at: must be a calendar date/),
    ]);
    const quote = (at: string, source = 'other') =>
      cli('quote', '--merchant', 'r', '--created-at', at, '--source', source, '--standard-rate', '0.05');
    expect((await quote('2020-05-12T00:00:00+08:00')).json[0]).toMatchObject({ rate: 0.01, promotion: true });
    expect((await quote('2020-05-11T23:59:59+08:00')).json[0]).toMatchObject({
      rate: 0.05,
      promotion: false,
    });
    expect((await quote('2020-05-20T12:00:00+08:00', 'ad')).json[0]).toMatchObject({
      rate: 0.05,
      promotion: false,
    });
    const revoke = await cli(
      'merchants',
      'revoke',
      'r',
      '--at',
      '2020-05-20T12:00:00+08:00',
      '--reason',
      'fake orders',
    );
    expect(revoke.json[0]).toEqual({
      merchantId: 'r',
      changed: true,
      status: 'REVOKED',
      previousStatus: 'SCHEDULED',
      revokedAt: sh('2020-05-20 12:00'),
      reason: 'fake orders',
      // Onboarded before the seed plan: today's promotion is its only enrolment.
      enrolments: [
        { programId: 'NEW_MERCHANT_FEE', changed: true, status: 'REVOKED', previousStatus: 'SCHEDULED' },
      ],
    });
    expect((await quote('2020-05-20T11:59:59+08:00')).json[0]).toMatchObject({ rate: 0.01 });
    expect((await quote('2020-05-20T12:00:00+08:00')).json[0]).toMatchObject({
      rate: 0.05,
      promotion: false,
    });
    const m = (await cli('merchant', 'r')).json[0] as { promotion: { history: { status: string }[] } };
    expect(m.promotion.history.map((h) => h.status)).toEqual(['SCHEDULED', 'SCHEDULED', 'ACTIVE', 'REVOKED']); // active from its start: activate had not run
    // Refusals: unknown merchant 1, bad arguments 2.
    expect(
      (await cli('merchants', 'revoke', 'nobody', '--at', '2020-05-20T12:00:00+08:00', '--reason', 'x'))
        .status,
    ).toBe(1);
    expect((await cli('merchants', 'revoke', 'r', '--at', '2020-05-20', '--reason', 'x')).stderr).toMatch(
      /--at: must be an ISO 8601 instant/,
    );
    expect((await cli('merchants', 'revoke', 'r', '--at', '2020-05-20T12:00:00+08:00')).stderr).toMatch(
      /required option '--reason <text>' not specified/,
    );
    expect((await quote('2020-05-20T12:00:00+08:00', 'tv')).stderr).toMatch(/--source: must be one of ad/);
    expect(
      (
        await cli(
          'quote',
          '--merchant',
          'nobody',
          '--created-at',
          '2020-05-20T12:00:00+08:00',
          '--source',
          'ad',
          '--standard-rate',
          '0.05',
        )
      ).status,
    ).toBe(1);
    expect((await cli('merchant', 'nobody')).status).toBe(1);
    expect((await cli('merchant', 'a#b')).status).toBe(2);
  });
});

describe('programs: quote, capabilities, merchant enrolments (issue 14)', () => {
  // T = 2020-07-06: both built-in programs' windows are [2020-07-08 00:00, 2020-08-07 00:00).
  const record = (id: string, categories: string) =>
    cli('merchants', 'record', id, '--onboarded-at', '2020-07-06', '--categories', categories);
  const quote = (id: string, at: string, source = 'other') =>
    cli('quote', '--merchant', id, '--created-at', at, '--source', source, '--standard-rate', '0.05');
  const capabilities = async (id: string, at: string) => {
    const r = await cli('capabilities', id, '--at', at);
    expect([r.status, r.stderr]).toEqual([0, '']);
    return (r.json[0] as { capabilities: string[] }).capabilities;
  };
  const BOTH = ['LIVE_CART_ZERO_FOLLOWERS', 'LIVE_TRAFFIC_SUPPORT'];
  const WINDOW = { startsAt: sh('2020-07-08 00:00'), endsBefore: sh('2020-08-07 00:00') };
  const SEED_PLAN = {
    name: '种子计划',
    benefits: { feeRate: 0.01, capabilities: BOTH, training: true },
  };

  it('a cosmetics merchant has two enrolments: quotes name the program that gave the rate, capabilities follow the seed window and a revocation', async () => {
    expect((await record('c', 'cosmetics')).json[0]).toEqual({ merchantId: 'c', outcome: 'created' });
    const enrolments = (m: unknown) =>
      (m as { enrolments: Record<string, unknown>[] }).enrolments.map(
        ({ programId, status, startsAt, endsBefore, recorded }) => ({
          programId,
          status,
          startsAt,
          endsBefore,
          recorded,
        }),
      );
    expect(enrolments((await cli('merchant', 'c')).json[0])).toEqual([
      { programId: 'NEW_MERCHANT_FEE', status: 'SCHEDULED', ...WINDOW, recorded: true },
      { programId: 'SEED_PLAN_2020', status: 'SCHEDULED', ...WINDOW, recorded: true },
    ]);

    // Both cap the fee at 1% from the same start: nothing stacks, the lower programId names it.
    expect((await quote('c', '2020-07-20T12:00:00+08:00')).json[0]).toEqual({
      merchantId: 'c',
      createdAt: sh('2020-07-20 12:00'),
      source: 'other',
      rate: 0.01,
      promotion: true,
      reason: `non-ad order created inside the window ${WINDOW.startsAt} – ${WINDOW.endsBefore}`,
      standardRate: 0.05,
      programId: 'NEW_MERCHANT_FEE',
    });
    expect((await quote('c', '2020-07-20T12:00:00+08:00', 'ad')).json[0]).toMatchObject({
      rate: 0.05,
      promotion: false,
      programId: null,
    });
    expect((await quote('c', '2020-08-07T00:00:00+08:00')).json[0]).toMatchObject({
      rate: 0.05,
      programId: null,
    });

    expect(await capabilities('c', '2020-07-07T23:59:59.999+08:00')).toEqual([]);
    expect(await capabilities('c', '2020-07-08T00:00:00+08:00')).toEqual(BOTH);
    expect(await capabilities('c', '2020-08-06T23:59:59.999+08:00')).toEqual(BOTH);
    expect(await capabilities('c', '2020-08-07T00:00:00+08:00')).toEqual([]);
    // The instant as stored, whatever offset it was given in.
    expect((await cli('capabilities', 'c', '--at', '2020-07-07T16:00:00Z')).json[0]).toEqual({
      merchantId: 'c',
      at: sh('2020-07-08 00:00'),
      capabilities: BOTH,
    });

    const revoke = await cli(
      ...['merchants', 'revoke', 'c', '--at', '2020-07-20T12:00:00+08:00', '--reason', 'fake orders'],
    );
    expect(revoke.status).toBe(0);
    expect(await capabilities('c', '2020-07-20T11:59:59.999+08:00')).toEqual(BOTH);
    expect(await capabilities('c', '2020-07-20T12:00:00+08:00')).toEqual([]);
    expect((await quote('c', '2020-07-20T11:59:59.999+08:00')).json[0]).toMatchObject({
      rate: 0.01,
      programId: 'NEW_MERCHANT_FEE',
    });
    expect((await quote('c', '2020-07-20T12:00:00+08:00')).json[0]).toMatchObject({
      rate: 0.05,
      programId: null,
      reason: `created after the promotion was revoked at ${sh('2020-07-20 12:00')}`,
    });
    expect(enrolments((await cli('merchant', 'c')).json[0]).map((e) => e.status)).toEqual([
      'REVOKED',
      'REVOKED',
    ]);
  });

  it('the rate may come from the seed plan alone: a merchant onboarded before PROGRAM_START', async () => {
    const late = { DYNAMODB_ENDPOINT: db.endpoint, TABLE_NAME: TEST_TABLE, PROMO_JOBS_HOME: home };
    const recorded = await cliInProcess(
      ['merchants', 'record', 'p', '--onboarded-at', '2020-07-06', '--categories', 'pets'],
      { ...late, PROGRAM_START: '2020-07-10' },
    );
    expect(recorded.json[0]).toEqual({ merchantId: 'p', outcome: 'created' });
    const m = (await cli('merchant', 'p')).json[0] as { enrolments: Record<string, unknown>[] };
    expect(m.enrolments.map((e) => [e.programId, e.status, e.recorded])).toEqual([
      ['NEW_MERCHANT_FEE', 'INELIGIBLE', true],
      ['SEED_PLAN_2020', 'SCHEDULED', true],
    ]);
    expect((await quote('p', '2020-07-20T12:00:00+08:00')).json[0]).toMatchObject({
      rate: 0.01,
      promotion: true,
      programId: 'SEED_PLAN_2020',
    });
    // Outside the seed window, today's promotion explains the standard rate, as it always has.
    expect((await quote('p', '2020-08-07T00:00:00+08:00')).json[0]).toMatchObject({
      rate: 0.05,
      promotion: false,
      programId: null,
      reason: 'onboarded on 2020-07-06, before the program started',
    });
  });

  it('capabilities: --at defaults to the wall clock; a bad --at exits 2 naming it; an unknown merchant exits 1', async () => {
    await record('c', 'cosmetics');
    const before = Date.now();
    const now = await cli('capabilities', 'c');
    const after = Date.now();
    const { at, ...rest } = now.json[0] as { at: string };
    expect(rest).toEqual({ merchantId: 'c', capabilities: [] }); // the 2020 window is long over
    expect(Date.parse(at)).toBeGreaterThanOrEqual(before);
    expect(Date.parse(at)).toBeLessThanOrEqual(after);
    expect(at).toMatch(/\+08:00$/);

    const bad = await cli('capabilities', 'c', '--at', '2020-07-08');
    expect([bad.status, bad.stdout, bad.stderr]).toEqual([
      2,
      '',
      expect.stringMatching(/^error: --at: must be an ISO 8601 instant/),
    ]);
    expect((await cli('capabilities', 'nobody', '--at', '2020-07-08T00:00:00+08:00')).status).toBe(1);
    expect((await cli('capabilities', 'a#b')).stderr).toMatch(/<merchantId>: may contain only/);
    const help = await cli('capabilities', '--help');
    expect(help.stdout).toMatch(/Example: capabilities merchant-c --at 2020-07-08T00:00:00\+08:00/);
  });

  it('merchant keeps promotion exactly as before and lists one enrolment per program, computed where there is no item', async () => {
    await record('f', 'food');
    const m = (await cli('merchant', 'f')).json[0] as Record<string, unknown> & {
      promotion: Record<string, unknown>;
      enrolments: Record<string, unknown>[];
    };
    // The fields and their order of before issue 14, then the new one.
    expect(Object.keys(m)).toEqual([
      'merchantId',
      'onboardedAt',
      'onboardedOn',
      'categories',
      'liveCartSources',
      'recordedAt',
      'updatedAt',
      'occurredAt',
      'promotion',
      'cartPolicies',
      'feePolicies',
      'enrolments',
    ]);
    expect(Object.keys(m.promotion)).toEqual([
      'merchantId',
      'onboardedOn',
      'eligible',
      'startsAt',
      'endsBefore',
      'lastDay',
      'days',
      'status',
      'version',
      'history',
    ]);
    const [fee, seed] = m.enrolments;
    const { programId, program, programVersion, recorded, ...asBefore } = fee as Record<string, unknown>;
    expect(asBefore).toEqual(m.promotion);
    expect({ programId, programVersion, recorded }).toEqual({
      programId: 'NEW_MERCHANT_FEE',
      programVersion: 0,
      recorded: true,
    });
    expect(program).toEqual({ name: '新入驻商家技术服务费专项优惠', benefits: { feeRate: 0.01 } });
    // food is not a seed-plan category: no item, the entry is what the rules give.
    expect(seed).toEqual({
      programId: 'SEED_PLAN_2020',
      program: SEED_PLAN,
      programVersion: 0,
      merchantId: 'f',
      onboardedOn: '2020-07-06',
      eligible: false,
      ...WINDOW,
      lastDay: '2020-08-06',
      days: 30,
      status: 'INELIGIBLE',
      history: [],
      recorded: false,
    });
    expect(m.enrolments).toHaveLength(2);

    // An eligible merchant without a seed-plan item (recorded before the program existed): SCHEDULED,
    // what the next activate run writes; its quote and capabilities come from recorded items only.
    await record('s', 'cosmetics');
    await db
      .deps()
      .db.send(new DeleteCommand({ TableName: TEST_TABLE, Key: enrolmentKey('s', 'SEED_PLAN_2020') }));
    const s = (await cli('merchant', 's')).json[0] as { enrolments: Record<string, unknown>[] };
    expect(s.enrolments[1]).toMatchObject({
      programId: 'SEED_PLAN_2020',
      eligible: true,
      status: 'SCHEDULED',
      history: [],
      recorded: false,
    });
    expect(await capabilities('s', '2020-07-20T12:00:00+08:00')).toEqual([]);
  });
});

describe('run', () => {
  it('prints one report per occurrence as JSON Lines, with progress on stderr', async () => {
    await cli('merchants', 'record', 'merchant-a', '--onboarded-at', '2020-05-06');
    const r = await cli('run', 'activate', '--from', '2020-05-07', '--to', '2020-05-09');
    expect(r.status).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(3);
    expect(r.json.map((x) => (x as { changed: number }).changed)).toEqual([0, 1, 0]);
    expect(r.json[1]).toMatchObject({
      job: 'activate',
      asOf: sh('2020-05-08 00:00'),
      dryRun: false,
      examined: 1,
      changed: 1,
      alreadyDone: 0,
      failed: 0,
    });
    expect(r.stderr).toMatch(/activate as of 2020-05-08T00:00:00.000\+08:00: examined 1, changed 1/);
    const dry = await cli('run', 'expire', '--as-of', '2020-06-06T23:59:00+08:00', '--dry-run');
    expect(dry.json).toMatchObject([{ job: 'expire', dryRun: true, changed: 1 }]);
    expect((await cli('merchant', 'merchant-a')).json[0]).toMatchObject({ promotion: { status: 'ACTIVE' } });
  });

  it.each([
    [['run', 'activate'], /--as-of: required/],
    [['run', 'activate', '--as-of', '2020-05-08'], /--as-of: must be an ISO 8601 instant/],
    [['run', 'activate', '--from', '2020-05-09', '--to', '2020-05-08'], /--to: must be on or after from/],
    [['run', 'activate', '--from', '2020-05-09'], /--to: required with --from/],
    [
      ['run', 'activate', '--as-of', '2020-05-08T00:00:00Z', '--from', '2020-05-09', '--to', '2020-05-10'],
      /option '--as-of <instant>' cannot be used with option '--from <date>'/,
    ],
    [['run', 'publish', '--as-of', '2020-05-08T00:00:00Z'], /<job>: must be one of activate, expire/],
    [['run', 'activate', '--as-of', '2020-05-08T00:00:00Z', '--force'], /unknown option '--force'/],
  ])('%j exits 2: %s', async (args, message) => {
    const r = await cli(...args);
    expect([r.status, r.stdout]).toEqual([2, '']);
    expect(r.stderr).toMatch(message);
  });
});

describe('runs ahead of the wall clock', () => {
  it('a real run more than 1 hour past the wall clock exits 2 naming the option, writing nothing; a dry run may look ahead', async () => {
    await cli('merchants', 'record', 'merchant-a', '--onboarded-at', '2020-05-06');
    const before = await db.scanAll();
    const asOf = await cli('run', 'activate', '--as-of', '2199-01-01T00:00:00+08:00');
    expect([asOf.status, asOf.stdout]).toEqual([2, '']);
    expect(asOf.stderr).toMatch(
      /^error: --as-of: a real run as of 2199-01-01T00:00:00.000\+08:00 is more than 1 hour past the wall clock/,
    );
    const range = await cli(
      'run',
      'expire',
      '--from',
      dateOf(DateTime.now().minus({ days: 1 })),
      '--to',
      dateOf(DateTime.now().plus({ days: 2 })),
    );
    expect([range.status, range.stdout]).toEqual([2, '']);
    expect(range.stderr).toMatch(/^error: --to: a real run as of .* is more than 1 hour past the wall clock/);
    expect(await db.scanAll()).toEqual(before);
    const dry = await cli('run', 'activate', '--as-of', '2199-01-01T00:00:00+08:00', '--dry-run');
    expect([dry.status, dry.json]).toEqual([0, [expect.objectContaining({ dryRun: true, changed: 1 })]]);
  });
});

describe('leases', () => {
  const now = () => DateTime.now().toMillis();

  it('list shows each lease held or lapsed; release deletes a lapsed one, refuses a fresh one without --force', async () => {
    await leaveLease(db, 'activate', {
      owner: 'cli:live-host:1',
      heartbeatAtMs: now(),
      expiresAtMs: now() + LEASE_TTL_MS,
      tableName: TEST_TABLE,
    });
    await leaveLease(db, 'expire', {
      owner: 'cli:dead-host:2',
      heartbeatAtMs: now() - 120_000,
      expiresAtMs: now() - 90_000,
      tableName: TEST_TABLE,
    });
    const list = await cli('leases', 'list');
    expect(list.status).toBe(0);
    expect(list.json).toEqual([
      {
        job: 'activate',
        owner: 'cli:live-host:1',
        acquiredAt: expect.any(String),
        heartbeatAt: expect.any(String),
        expiresAt: expect.any(String),
        state: 'held',
        heartbeatAgeMs: expect.any(Number),
      },
      expect.objectContaining({ job: 'expire', owner: 'cli:dead-host:2', state: 'lapsed' }),
    ]);
    const refused = await cli('leases', 'release', 'activate');
    expect([refused.status, refused.stdout]).toEqual([1, '']);
    expect(refused.stderr).toMatch(
      /^error: lease of activate is held by cli:live-host:1, heartbeat \d+s ago, lapses at \S+: its run is alive; wait for it, or use --force/,
    );
    expect((await cli('leases', 'release', 'expire')).json).toEqual([
      { job: 'expire', released: true, owner: 'cli:dead-host:2', state: 'lapsed', forced: false },
    ]);
    const forced = await cli('leases', 'release', 'activate', '--force');
    expect([forced.status, forced.json]).toEqual([
      0,
      [{ job: 'activate', released: true, owner: 'cli:live-host:1', state: 'held', forced: true }],
    ]);
    expect(forced.stderr).toMatch(/released the lease of activate held by cli:live-host:1/);
    const absent = await cli('leases', 'release', 'activate');
    expect([absent.status, absent.json]).toEqual([
      0,
      [{ job: 'activate', released: false, reason: 'no lease' }],
    ]);
    expect(await cli('leases', 'list')).toMatchObject({ status: 0, stdout: '' });
    expect((await cli('leases', 'release', 'publish')).status).toBe(2);
    expect(await db.scanAll()).toEqual([]);
  });

  it('run waits for a lapsing lease, saying so on stderr, then runs', async () => {
    await cli('merchants', 'record', 'merchant-a', '--onboarded-at', '2020-05-06');
    await leaveLease(db, 'activate', {
      owner: 'cli:killed-host:99',
      heartbeatAtMs: now() - 22_000,
      expiresAtMs: now() + 6000,
      tableName: TEST_TABLE,
    });
    const r = await cli('run', 'activate', '--as-of', '2020-05-08T00:00:00+08:00');
    expect(r.stderr).toMatch(
      /^waiting for lease of activate held by cli:killed-host:99, heartbeat 2\ds ago, lapses at \d{4}-\d\d-\d\dT[\d:.]+\+08:00$/m,
    );
    expect([r.status, r.json]).toEqual([0, [expect.objectContaining({ changed: 1 })]]);
    expect((await cli('leases', 'list')).stdout).toBe('');
  });

  it('run fails naming the holder when the holder’s heartbeat moves on while it waits (a live run)', async () => {
    await cli('merchants', 'record', 'merchant-a', '--onboarded-at', '2020-05-06');
    const beat = () =>
      leaveLease(db, 'activate', {
        owner: 'cli:live-host:7',
        heartbeatAtMs: now(),
        expiresAtMs: now() + 5000,
        tableName: TEST_TABLE,
      });
    await beat();
    let done = false;
    const holder = (async () => {
      while (!done) {
        await new Promise((r) => setTimeout(r, 300));
        if (!done) await beat();
      }
    })();
    const r = await cli('run', 'activate', '--as-of', '2020-05-08T00:00:00+08:00');
    done = true;
    await holder;
    expect([r.status, r.stdout]).toEqual([1, '']);
    expect(r.stderr).toMatch(/^waiting for lease of activate held by cli:live-host:7/m);
    expect(r.stderr).toMatch(
      /^error: LeaseHeldError: job activate is already running \(lease held by cli:live-host:7, heartbeat \d+s ago/m,
    );
    expect((await cli('merchant', 'merchant-a')).json[0]).toMatchObject({
      promotion: { status: 'SCHEDULED' },
    });
  });

  it('after a kill -9 mid-run, the same command waits for the lease to lapse and then finishes the run', async () => {
    // Merchants onboarded every day, so that each day of the range has work and the run takes a while.
    const days = Array.from(
      { length: 200 },
      (_, i) => DateTime.fromISO('2020-05-01').plus({ days: i }).toISODate() as string,
    );
    await cli(
      'merchants',
      'import',
      file(
        'daily.jsonl',
        days
          .flatMap((d) => [0, 1].map((k) => JSON.stringify({ merchantId: `k-${d}-${k}`, onboardedAt: d })))
          .join('\n'),
      ),
    );
    const args = ['run', 'activate', '--from', '2020-05-01', '--to', '2020-11-30'];
    // A 15 s lease (LEASE_TTL_SECONDS) instead of the default 30 s keeps the test short (and long enough
    // for the next command to start before it lapses, on a busy machine); the mechanism is the same.
    const env = {
      DYNAMODB_ENDPOINT: db.endpoint,
      TABLE_NAME: TEST_TABLE,
      PROMO_JOBS_HOME: home,
      LEASE_TTL_SECONDS: '15',
    };
    const first = startCli(args, env);
    const runs = async () => (await db.scanAll()).filter((i) => String(i.sk).startsWith('RUN#')).length;
    const deadline = Date.now() + 60_000;
    while ((await runs()) < 5) {
      if (Date.now() > deadline) throw new Error(`the run never got going: ${first.stderr()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    first.child.kill('SIGKILL');
    expect((await first.result).status).toBe(null); // killed, not finished
    const left = (await db.scanAll()).find((i) => i.sk === 'LEASE');
    expect(left?.owner).toMatch(/^cli:/); // the dead run's lease is still there
    const finished = await runs(); // the days the dead run finished: the same command resumes after them
    expect(finished).toBeLessThan(214);
    const killedAt = Date.now();
    const again = await runCli(args, env);
    const tookMs = Date.now() - killedAt;
    expect(again.stderr).toMatch(
      /^waiting for lease of activate held by cli:\S+, heartbeat \d+s ago, lapses at /m,
    );
    expect(again.status).toBe(0);
    expect(again.stderr).toMatch(
      new RegExp(`resuming after \\S+ \\(${finished} days done by an earlier run`),
    );
    expect(again.json).toHaveLength(214 - finished);
    expect(tookMs).toBeLessThan(15_000 + 60_000); // the lapse time and the rest of the run, not 16 minutes
    // Day by day, each promotion was activated on its start day (expiring is the expire job's): ACTIVE
    // once, effective at its start, whether the dead run or the second one did it.
    const promotions = (await db.scanAll()).filter((i) => i.type === 'PROMOTION');
    expect(promotions).toHaveLength(400);
    for (const p of promotions) {
      const active = (p.history as { status: string; effectiveAt: string }[]).filter(
        (h) => h.status === 'ACTIVE',
      );
      expect([p.merchantId, p.status, active.map((h) => h.effectiveAt)]).toEqual([
        p.merchantId,
        'ACTIVE',
        [p.startsAt],
      ]);
    }
    expect((await cli('leases', 'list')).stdout).toBe('');
  }, 180_000);
});

describe('notices', () => {
  it('after run, notices shows each notice once; re-runs and a backfill over the same days add none', async () => {
    await cli('merchants', 'record', 'merchant-n', '--onboarded-at', '2020-05-06');
    await cli('run', 'activate', '--as-of', '2020-05-08T00:00:00+08:00');
    const first = await cli('notices', '--merchant', 'merchant-n');
    expect(first.status).toBe(0);
    expect(first.json).toEqual([
      {
        eventId: expect.any(String),
        type: 'PROMOTION_ACTIVATED',
        merchantId: 'merchant-n',
        effectiveAt: sh('2020-05-08 00:00'),
        data: {
          programId: 'NEW_MERCHANT_FEE',
          startsAt: sh('2020-05-08 00:00'),
          endsBefore: sh('2020-06-07 00:00'),
          lastDay: '2020-06-06',
          days: 30,
          rate: 0.01,
          benefits: { feeRate: 0.01 },
        },
        text: expect.stringContaining('已生效'),
      },
    ]);
    await cli('run', 'activate', '--as-of', '2020-05-08T00:00:00+08:00');
    await cli('run', 'activate', '--from', '2020-05-01', '--to', '2020-05-10');
    await cli(
      'merchants',
      'revoke',
      'merchant-n',
      '--at',
      '2020-05-09T10:00:00+08:00',
      '--reason',
      'fake orders',
    );
    const after = await cli('notices', '--merchant', 'merchant-n');
    expect(after.json.map((n) => (n as { type: string }).type)).toEqual([
      'PROMOTION_ACTIVATED',
      'PROMOTION_REVOKED',
    ]);
    expect(
      (await cli('notices', '--type', 'PROMOTION_REVOKED', '--merchant', 'merchant-n')).json,
    ).toHaveLength(1);
    expect((await cli('notices', '--type', 'PROMOTION_STARTED')).status).toBe(2);
  });
});

describe('cart policies', () => {
  it('load-default, run cart-policies over 2020-08-26 … 2020-10-10: the flag timeline and notices of rules §2', async () => {
    await cli(
      'merchants',
      'record',
      'live-3p',
      '--onboarded-at',
      '2020-06-01',
      '--live-cart-sources',
      'shop,taobao',
    );
    await cli(
      'merchants',
      'record',
      'shop-only',
      '--onboarded-at',
      '2020-06-01',
      '--live-cart-sources',
      'shop',
    );
    // The built-in calendar: two cart policies (rules §2) and two Xingtu fee policies (rules §5).
    expect((await cli('policies', 'load-default')).json[0]).toMatchObject({ created: 4 });
    expect((await cli('policies', 'load-default')).json[0]).toMatchObject({ unchanged: 4 });
    const list = await cli('policies', 'list');
    expect(
      list.json.map((p) => [(p as { kind: string }).kind, (p as { effectiveAt: string }).effectiveAt]),
    ).toEqual([
      ['XINGTU_FEE', sh('2020-07-31 00:00')],
      ['XINGTU_FEE', sh('2020-08-20 00:00')],
      ['CART', sh('2020-09-06 00:00')],
      ['CART', sh('2020-10-09 00:00')],
    ]);
    const run = await cli('run', 'cart-policies', '--from', '2020-08-26', '--to', '2020-10-10');
    expect([run.status, run.json.length]).toEqual([0, 46]);
    const timeline = await cli('flags', '--timeline');
    expect(timeline.json).toMatchObject([
      { channel: 'live', scope: 'ALL', value: 'XINGTU_ONLY', since: sh('2020-09-06 00:00') },
      { channel: 'live', scope: 'ALL', value: 'BLOCKED', since: sh('2020-10-09 00:00') },
    ]);
    const at = async (instant: string) =>
      ((await cli('flags', '--at', instant)).json as { channel: string; value: string }[]).map((f) => [
        f.channel,
        f.value,
      ]);
    expect(await at('2020-09-05T23:59:59+08:00')).toEqual([
      ['live', 'ALLOWED'],
      ['short-video', 'ALLOWED'],
    ]);
    expect(await at('2020-09-06T00:00:00+08:00')).toEqual([
      ['live', 'XINGTU_ONLY'],
      ['short-video', 'ALLOWED'],
    ]);
    expect(await at('2020-10-09T00:00:00+08:00')).toEqual([
      ['live', 'BLOCKED'],
      ['short-video', 'ALLOWED'],
    ]);
    const cartNotices = async (merchantId: string) =>
      ((await cli('notices', '--merchant', merchantId)).json as { type: string }[])
        .map((n) => n.type)
        .filter((type) => type.startsWith('CART_POLICY_'))
        .sort();
    expect(await cartNotices('live-3p')).toEqual([
      'CART_POLICY_ANNOUNCED',
      'CART_POLICY_ANNOUNCED',
      'CART_POLICY_IN_FORCE',
      'CART_POLICY_IN_FORCE',
    ]);
    expect(await cartNotices('shop-only')).toEqual([]);
  });

  it('flags --at X prints everything as of X: the calendar value and what the job had applied by then', async () => {
    await cli(
      'merchants',
      'record',
      'live-3p',
      '--onboarded-at',
      '2020-06-01',
      '--live-cart-sources',
      'taobao',
    );
    await cli('policies', 'load-default');
    for (const asOf of ['2020-08-26', '2020-09-06', '2020-10-20']) {
      expect((await cli('run', 'cart-policies', '--as-of', sh(`${asOf} 00:00`))).status).toBe(0);
    } // the run due on 10-09 came late, on 10-20
    type Flag = {
      channel: string;
      value: string;
      at: string;
      applied: { value: string; since: string; policyId: string; history: { asOf: string }[] } | null;
    };
    const live = async (instant: string) => {
      const flags = (await cli('flags', '--at', instant)).json as Flag[];
      const flag = flags.find((f) => f.channel === 'live') as Flag;
      return [flag.value, flag.at, flag.applied?.value ?? null, flag.applied?.history.length ?? 0];
    };
    expect(await live(sh('2020-09-01 00:00'))).toEqual(['ALLOWED', sh('2020-09-01 00:00'), null, 0]);
    expect(await live(sh('2020-09-10 00:00'))).toEqual([
      'XINGTU_ONLY',
      sh('2020-09-10 00:00'),
      'XINGTU_ONLY',
      1,
    ]);
    // The calendar says BLOCKED from 10-09; the job had not applied it yet (it did on 10-20): the lag shows.
    expect(await live(sh('2020-10-12 00:00'))).toEqual(['BLOCKED', sh('2020-10-12 00:00'), 'XINGTU_ONLY', 1]);
    expect(await live(sh('2020-10-20 00:00'))).toEqual(['BLOCKED', sh('2020-10-20 00:00'), 'BLOCKED', 2]);
    const applied = ((await cli('flags', '--at', sh('2020-10-20 00:00'))).json as Flag[])[0]?.applied;
    expect(applied).toMatchObject({
      since: sh('2020-10-09 00:00'),
      policyId: 'live-third-party-blocked-2020-10-09',
    });
    const timeline = await cli('flags', '--timeline', '--at', sh('2020-09-10 00:00'));
    expect(timeline.json).toMatchObject([
      { scope: 'ALL', value: 'XINGTU_ONLY', since: sh('2020-09-06 00:00') },
    ]);
    expect(timeline.json).toHaveLength(1);
  });

  it('policies announce says how many merchants each policy affects, and warns when none', async () => {
    await cli(
      'merchants',
      'record',
      'jd-cosmetics',
      '--onboarded-at',
      '2020-06-01',
      '--categories',
      'cosmetics',
      '--live-cart-sources',
      'jd',
    );
    await cli(
      'merchants',
      'record',
      'tb-apparel',
      '--onboarded-at',
      '2020-06-01',
      '--categories',
      'apparel',
      '--live-cart-sources',
      'shop,taobao',
    );
    await cli(
      'merchants',
      'record',
      'shop-only',
      '--onboarded-at',
      '2020-06-01',
      '--categories',
      'cosmetics',
      '--live-cart-sources',
      'shop',
    );
    const defaults = await cli('policies', 'load-default');
    expect(defaults.json[0]).toMatchObject({
      created: 4,
      affects: 9,
      policies: [
        { policyId: 'live-third-party-xingtu-only-2020-09-06', affects: 2 },
        { policyId: 'live-third-party-blocked-2020-10-09', affects: 2 },
        // Fee policies price shop links too: shop-only is affected (found through the onboarded index).
        { policyId: 'XINGTU_FEE_2020_07_COSMETICS', affects: 2 },
        { policyId: 'XINGTU_FEE_2020_08_20', affects: 3 },
      ],
    });
    const cosmetics = (policyId: string, effectiveAt: string, thirdPartyProducts: string) =>
      JSON.stringify({
        policyId,
        title: '化妆品类目第三方商品需通过星图任务下单',
        announcedOn: '2020-09-01',
        effectiveAt,
        scope: { channel: 'live', categories: ['cosmetics'] },
        thirdPartyProducts,
      });
    // After the all-category block, a cosmetics Xingtu rule changes nobody's cart.
    const none = await cli(
      'policies',
      'announce',
      file('none.json', cosmetics('cosmetics-xingtu', '2020-10-20', 'XINGTU_ONLY')),
    );
    expect(none.status).toBe(0);
    expect(none.json[0]).toMatchObject({
      created: 1,
      affects: 0,
      policies: [{ policyId: 'cosmetics-xingtu', affects: 0 }],
    });
    expect(none.stderr).toMatch(/cosmetics-xingtu: created; affects 0 merchants/);
    expect(none.stderr).toMatch(
      /warning: cosmetics-xingtu changes the live-room cart of no merchant .*nobody will be told/,
    );
    // Blocking cosmetics before 10-09 changes jd-cosmetics' cart (not shop-only's: no third-party products).
    const one = await cli(
      'policies',
      'announce',
      file('one.json', cosmetics('cosmetics-blocked', '2020-09-20', 'BLOCKED')),
    );
    expect(one.json[0]).toMatchObject({
      affects: 1,
      policies: [{ policyId: 'cosmetics-blocked', affects: 1 }],
    });
    expect(one.stderr).toMatch(/cosmetics-blocked: created; affects 1 merchant \(/);
    expect(one.stderr).not.toMatch(/warning/);
    // The calendar as it is now: the 10-09 block no longer changes jd-cosmetics (blocked since 09-20).
    expect((await cli('policies', 'load-default')).json[0]).toMatchObject({
      unchanged: 4,
      policies: [{ affects: 2 }, { affects: 1 }, { affects: 2 }, { affects: 3 }],
    });
  });

  it('refuses a malformed policy file (exit 2) and a conflicting policy (exit 1), recording nothing', async () => {
    const bad = await cli(
      'policies',
      'announce',
      file(
        'bad.json',
        JSON.stringify({
          policyId: 'x1',
          title: 't',
          announcedOn: '2020-09-01',
          effectiveAt: '2020-09-06T24:00:00+08:00',
          scope: { channel: 'live', categories: 'ALL' },
          thirdPartyProducts: 'BLOCKED',
        }),
      ),
    );
    expect([bad.status, bad.stderr]).toEqual([
      2,
      expect.stringMatching(/effectiveAt: must be a calendar date/),
    ]);
    const video = await cli(
      'policies',
      'announce',
      file(
        'video.json',
        JSON.stringify([
          {
            policyId: 'v1',
            title: 't',
            announcedOn: '2020-09-01',
            effectiveAt: '2020-09-07',
            scope: { channel: 'short-video', categories: 'ALL' },
            thirdPartyProducts: 'BLOCKED',
          },
        ]),
      ),
    );
    expect([video.status, video.stderr]).toEqual([
      2,
      expect.stringMatching(/\[0\]\.scope\.channel: must be "live"/),
    ]);
    await cli('policies', 'load-default');
    const clash = await cli(
      'policies',
      'announce',
      file(
        'clash.json',
        JSON.stringify({
          policyId: 'clash',
          title: 't',
          announcedOn: '2020-09-01',
          effectiveAt: '2020-09-06',
          scope: { channel: 'live', categories: ['food'] },
          thirdPartyProducts: 'BLOCKED',
        }),
      ),
    );
    expect([clash.status, clash.stderr]).toEqual([
      1,
      expect.stringMatching(/conflicts with live-third-party-xingtu-only-2020-09-06/),
    ]);
    expect((await cli('policies', 'list')).json).toHaveLength(4);
  });
});

describe('programs', () => {
  const NEW_MERCHANT_FEE =
    '{"programId":"NEW_MERCHANT_FEE","name":"新入驻商家技术服务费专项优惠","eligibility":{"from":"2020-05-01","categories":"ALL"},"window":{"startOffsetDays":2,"lengthDays":30},"benefits":{"feeRate":0.01},"status":"ANNOUNCED","dateAssumed":false,"version":0,"source":"built-in"}';
  const SEED_PLAN_2020 =
    '{"programId":"SEED_PLAN_2020","name":"种子计划","eligibility":{"from":"2020-07-01","categories":["apparel","beauty","cosmetics","home","baby","pets"]},"window":{"startOffsetDays":2,"lengthDays":30},"benefits":{"feeRate":0.01,"capabilities":["LIVE_CART_ZERO_FOLLOWERS","LIVE_TRAFFIC_SUPPORT"],"training":true},"status":"ANNOUNCED","dateAssumed":true,"version":0,"source":"built-in"}';
  const seedPlanFrom = (from: string) => ({
    programId: 'SEED_PLAN_2020',
    name: '种子计划',
    eligibility: { from, categories: ['apparel', 'beauty', 'cosmetics', 'home', 'baby', 'pets'] },
    window: { startOffsetDays: 2, lengthDays: 30 },
    benefits: {
      feeRate: 0.01,
      capabilities: ['LIVE_CART_ZERO_FOLLOWERS', 'LIVE_TRAFFIC_SUPPORT'],
      training: true,
    },
  });
  const liveBoost = {
    programId: 'LIVE_BOOST',
    name: '直播扶持',
    eligibility: { from: '2020-08-01', categories: ['food'] },
    window: { startOffsetDays: 0, lengthDays: 7 },
    benefits: { capabilities: ['LIVE_TRAFFIC_SUPPORT'] },
  };

  it('list prints the two built-ins, exactly, on an empty table', async () => {
    const list = await cli('programs', 'list');
    expect([list.status, list.stderr]).toEqual([0, '']);
    expect(list.stdout).toBe(`${NEW_MERCHANT_FEE}\n${SEED_PLAN_2020}\n`);
  });

  it('announce: a dry run writes nothing; then a new program, a correction of a built-in, a repeat unchanged', async () => {
    for (const [id, at, categories] of [
      ['m-apparel', '2020-07-06', 'apparel'],
      ['m-early', '2020-07-05', 'apparel'],
      ['m-food', '2020-08-02', 'food,baby'],
    ] as const) {
      expect(
        (await cli('merchants', 'record', id, '--onboarded-at', at, '--categories', categories)).status,
      ).toBe(0);
    }
    const path = file('programs.json', JSON.stringify([seedPlanFrom('2020-07-06'), liveBoost]));
    const dry = await cli('programs', 'announce', path, '--dry-run');
    expect([dry.status, dry.json, dry.stderr]).toEqual([
      0,
      [
        // m-apparel and m-food (baby) were enrolled in the built-in seed plan when recorded: none new
        { ...seedPlanFrom('2020-07-06'), outcome: 'corrected', wouldEnrol: 0 },
        { ...liveBoost, outcome: 'created', wouldEnrol: 1 },
      ],
      'programs announce (dry run): nothing changed; would have created 1, corrected 1, unchanged 0\n',
    ]);
    expect((await cli('programs', 'list')).stdout).toBe(`${NEW_MERCHANT_FEE}\n${SEED_PLAN_2020}\n`);

    const announced = await cli('programs', 'announce', path);
    expect([announced.status, announced.json]).toEqual([
      0,
      [
        { ...seedPlanFrom('2020-07-06'), outcome: 'corrected', eligible: 2 },
        { ...liveBoost, outcome: 'created', eligible: 1 },
      ],
    ]);
    expect(announced.stderr).toBe('programs announce: created 1, corrected 1, unchanged 0\n');
    const again = await cli('programs', 'announce', path);
    expect(again.stderr).toBe('programs announce: nothing changed; created 0, corrected 0, unchanged 2\n');

    expect((await cli('programs', 'list')).json).toEqual([
      JSON.parse(NEW_MERCHANT_FEE),
      {
        ...seedPlanFrom('2020-07-06'),
        status: 'ANNOUNCED',
        dateAssumed: false,
        version: 1,
        source: 'stored',
      },
      { ...liveBoost, status: 'ANNOUNCED', dateAssumed: false, version: 1, source: 'stored' },
    ]);
  });

  it('announce refuses a bad file naming the field (exit 2), recording none of it', async () => {
    const bad = await cli(
      'programs',
      'announce',
      file(
        'bad.json',
        JSON.stringify([liveBoost, { ...seedPlanFrom('2020-07-32'), window: { startOffsetDays: 2 } }]),
      ),
    );
    expect([bad.status, bad.stdout]).toEqual([2, '']);
    expect(bad.stderr).toMatch(/\[1\]\.eligibility\.from: .*; \[1\]\.window\.lengthDays: is required/);
    const twice = await cli(
      'programs',
      'announce',
      file('twice.json', JSON.stringify([liveBoost, liveBoost])),
    );
    expect([twice.status, twice.stderr]).toEqual([
      2,
      'error: [1].programId: LIVE_BOOST appears twice in the file\n',
    ]);
    const missing = await cli('programs', 'announce', file('no.json', 'not json'));
    expect([missing.status, missing.stderr]).toEqual([2, 'error: <file.json>: not valid JSON\n']);
    expect((await cli('programs', 'list')).stdout).toBe(`${NEW_MERCHANT_FEE}\n${SEED_PLAN_2020}\n`);
  });

  it('withdraw: once, then nothing changes; a withdrawn id cannot be announced again; unknown → exit 1', async () => {
    const first = await cli('programs', 'withdraw', 'SEED_PLAN_2020', '--reason', 'not in this market');
    expect([first.status, first.json, first.stderr]).toEqual([
      0,
      [{ programId: 'SEED_PLAN_2020', changed: true, status: 'WITHDRAWN', version: 1 }],
      'programs withdraw: SEED_PLAN_2020 withdrawn (version 1)\n',
    ]);
    const again = await cli('programs', 'withdraw', 'SEED_PLAN_2020', '--reason', 'again');
    expect([again.status, again.json]).toEqual([
      0,
      [{ programId: 'SEED_PLAN_2020', changed: false, status: 'WITHDRAWN', version: 1 }],
    ]);
    const list = (await cli('programs', 'list')).json;
    expect(list[1]).toEqual({
      ...JSON.parse(SEED_PLAN_2020),
      status: 'WITHDRAWN',
      version: 1,
      source: 'stored',
    });
    const reannounce = await cli(
      'programs',
      'announce',
      file('seed.json', JSON.stringify(seedPlanFrom('2020-07-01'))),
    );
    expect([reannounce.status, reannounce.stderr]).toEqual([
      1,
      expect.stringMatching(/program SEED_PLAN_2020 is withdrawn .*announce it under a new programId/),
    ]);
    const unknown = await cli('programs', 'withdraw', 'NO_SUCH', '--reason', 'x');
    expect([unknown.status, unknown.stderr]).toEqual([1, 'error: no program NO_SUCH\n']);
    const lower = await cli('programs', 'withdraw', 'seed', '--reason', 'x');
    expect([lower.status, lower.stderr]).toEqual([
      2,
      'error: <programId>: may contain only A–Z, 0–9 and _ (got seed)\n',
    ]);
  });
});

describe('the documented entry point', () => {
  it('npm run --silent jobs -- … prints JSON on stdout only, and --help', async () => {
    const window = await runNpmScript(['window', '2020-05-06']);
    expect([window.status, window.stderr]).toEqual([0, '']);
    expect(window.json[0]).toMatchObject({
      startsAt: sh('2020-05-08 00:00'),
      lastDay: '2020-06-06',
      days: 30,
    });
    const help = await runNpmScript(['run', '--help']);
    expect(help.stdout).toMatch(/^usage: npm run --silent jobs -- run <activate\|expire\|cart-policies>/);
    expect((await runNpmScript(['window', '2020-02-30'])).status).toBe(2);
  });
});

describe('status', () => {
  it('says on stderr what is missing, and after a replayed range hints the --as-of that looks at it', async () => {
    const empty = await cli('status');
    expect([empty.status, empty.stderr]).toEqual([1, expect.stringMatching(/status: no run recorded yet/)]);
    await cli('run', 'activate', '--from', '2020-05-07', '--to', '2020-05-09');
    const now = await cli('status');
    expect(now.status).toBe(1);
    expect(now.stderr).toMatch(/^status: activate: 7 missing, 0 incomplete, 0 overdue$/m);
    expect(now.stderr).toContain(
      `the latest recorded run is as of ${sh('2020-05-09 00:00')} (a replayed range?): try status --as-of ${sh('2020-05-09 00:00')}`,
    );
  });

  it('finds missing runs and overdue work, and is satisfied once the missed days are backfilled', async () => {
    await cli('merchants', 'record', 'status-1', '--onboarded-at', '2020-05-06');
    const before = await cli('status', '--as-of', '2020-05-09T00:00:00+08:00', '--days', '3');
    expect(before.status).toBe(1);
    expect(before.json[0]).toMatchObject({
      ok: false,
      jobs: {
        activate: {
          missing: [sh('2020-05-07 00:00'), sh('2020-05-08 00:00'), sh('2020-05-09 00:00')],
          overdue: 1,
        },
        expire: {
          missing: [sh('2020-05-07 23:59'), sh('2020-05-08 23:59')], // 05-09 23:59 is still ahead
          overdue: 0,
        },
      },
    });
    await cli('run', 'activate', '--from', '2020-05-07', '--to', '2020-05-09');
    await cli('run', 'expire', '--from', '2020-05-07', '--to', '2020-05-08');
    await cli('run', 'cart-policies', '--from', '2020-05-07', '--to', '2020-05-09');
    const after = await cli('status', '--as-of', '2020-05-09T00:00:00+08:00', '--days', '3');
    expect([after.status, after.json[0]]).toEqual([0, expect.objectContaining({ ok: true })]);
  });
});

describe('against the deployed table (--aws)', () => {
  it('without a Region says how to give one (exit 2), before any call', async () => {
    const noRegion = await runCli(['--aws', '--table', TEST_TABLE, 'merchant', 'aws-1'], {
      PROMO_JOBS_HOME: mkdtempSync(join(tmpdir(), 'aws-home-')),
      DYNAMODB_ENDPOINT: undefined,
      AWS_REGION: undefined,
      AWS_DEFAULT_REGION: undefined,
      AWS_PROFILE: undefined,
      AWS_CONFIG_FILE: '/dev/null',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
    });
    expect([noRegion.status, noRegion.stderr]).toEqual([
      2,
      expect.stringMatching(/no AWS Region: set AWS_REGION .*or AWS_PROFILE/),
    ]);
  });

  it('uses the standard AWS configuration and credential chain, delivers no notices itself, and refuses the demo', async () => {
    // DynamoDB Local stands in for AWS through the SDK's standard endpoint setting.
    const homeAws = mkdtempSync(join(tmpdir(), 'aws-home-'));
    const env = {
      PROMO_JOBS_HOME: homeAws,
      DYNAMODB_ENDPOINT: undefined,
      AWS_ENDPOINT_URL_DYNAMODB: db.endpoint,
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_REGION: 'us-east-1',
    };
    const aws = (...args: string[]) => runCli(['--aws', '--table', TEST_TABLE, ...args], env);
    const recorded = await aws('merchants', 'record', 'aws-1', '--onboarded-at', '2020-05-06');
    expect([recorded.status, recorded.json[0]]).toEqual([0, { merchantId: 'aws-1', outcome: 'created' }]);
    expect(recorded.stderr).toMatch(/working on the deployed table promo-jobs-test in AWS/);
    const dry = await aws('run', 'activate', '--as-of', '2020-05-08T00:00:00+08:00', '--dry-run');
    expect(dry.json).toMatchObject([{ dryRun: true, changed: 1 }]);
    expect((await aws('merchant', 'aws-1')).json[0]).toMatchObject({ promotion: { status: 'SCHEDULED' } });
    const notices = await aws('notices');
    expect([notices.status, notices.stderr]).toEqual([
      1,
      expect.stringMatching(/deployed notifier publishes notices/),
    ]);
    expect((await aws('demo')).status).toBe(2);
    expect(readdirSync(homeAws)).toEqual([]); // no local stream checkpoint, no sink: nothing local at all
    const conflicting = await runCli(['--aws', 'merchant', 'aws-1'], {
      ...env,
      DYNAMODB_ENDPOINT: db.endpoint,
    });
    expect([conflicting.status, conflicting.stderr]).toEqual([
      1,
      expect.stringMatching(/DYNAMODB_ENDPOINT: not with PROMO_JOBS_TARGET=aws/),
    ]);
    expect((await runCli(['--table'], env)).stderr).toMatch(/option '--table <name>' argument missing/);
  });
});

describe('embedded DynamoDB Local', () => {
  const newHome = useHomes(); // each home's server is stopped after the file
  it('keeps state under PROMO_JOBS_HOME from one command to the next', async () => {
    const home = newHome();
    const env = onHome(home);
    expect((await runCli(['merchants', 'record', 'h', '--onboarded-at', '2020-05-06'], env)).status).toBe(0);
    expect(
      (await runCli(['run', 'activate', '--as-of', '2020-05-08T00:00:00+08:00'], env)).json[0],
    ).toMatchObject({ changed: 1 });
    expect((await runCli(['merchant', 'h'], env)).json[0]).toMatchObject({ promotion: { status: 'ACTIVE' } });
  });
});
