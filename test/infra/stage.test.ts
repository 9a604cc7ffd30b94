// Stage settings: the stage's file (infra/stages/<stage>.json), overridden by context, the
// environment filling in the rest, then defaults that synth offline; every problem names its file or
// setting, and the CDK app prints it alone.
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { resolveStage } from '../../infra/stage';
import { eventIdOf, type Notice } from '../../shared/notices/notice';
import { NOTICE_ATTRIBUTES, snsEntry } from '../../shared/notices/publisher';
import { cdkJsonContext, stagesDir } from './support';

const resolve = (context: Record<string, unknown> = {}, env: Record<string, string> = {}) =>
  resolveStage(new App({ context }).node, env);

/** Stage `test` from a stage file with these contents (an object, or text as written). */
const withFile = (file: unknown, context: Record<string, unknown> = {}, env: Record<string, string> = {}) => {
  const dir = stagesDir({ test: file });
  return { dir, config: () => resolve({ stage: 'test', stagesDir: dir, ...context }, env) };
};

describe('stage settings', () => {
  it('default to the dev stage of infra/stages/dev.json: environment-agnostic, names derived', () => {
    expect(resolve()).toEqual({
      stage: 'dev',
      stageFile: join('infra', 'stages', 'dev.json'),
      account: undefined,
      region: undefined,
      prefix: 'promo-jobs-dev',
      tableName: 'promo-jobs-dev',
      noticesTopicName: 'promo-jobs-dev-notices',
      alarmEmail: undefined,
      programStart: '2020-05-01',
      pausedJobs: [],
      merchantProducers: undefined, // the stack's default: this account's promo-jobs-dev-merchant-producer
      subscriptions: [],
      subscriberAccounts: [],
    });
  });

  it('the shipped example prod.json is a valid stage file', () => {
    const prod = resolve({ stage: 'prod' });
    expect(prod).toMatchObject({
      stage: 'prod',
      stageFile: join('infra', 'stages', 'prod.json'),
      account: '123456789012',
      region: 'ap-east-1',
      subscriberAccounts: ['210987654321'],
    });
    expect(prod.subscriptions.map((s) => s.protocol)).toEqual(['sqs', 'https', 'email']);
  });

  it('come from the stage file, each overridden by context (-c), the environment filling in the rest', () => {
    const { config } = withFile(
      {
        $comment: 'for people',
        account: '111111111111',
        alarmEmail: 'file@example.com',
        paused: ['expire'],
        subscriberAccounts: ['210987654321'],
        subscriptions: [{ protocol: 'email', endpoint: 'file@example.com' }],
      },
      // -c gives text: lists comma-separated, subscriptions as JSON.
      {
        alarmEmail: 'ops@example.com',
        paused: 'activate, cart-policies',
        subscriptions: '[{"protocol":"sqs","endpoint":"arn:aws:sqs:ap-east-1:210987654321:q"}]',
      },
      {
        CDK_DEFAULT_ACCOUNT: '222222222222', // the file's account wins: the CLI sets this from credentials
        CDK_DEFAULT_REGION: 'ap-east-1', // the file has none: the environment's
        PROMO_JOBS_ALARM_EMAIL: 'env@example.com',
        PROMO_JOBS_TABLE_NAME: 'promo-state',
      },
    );
    expect(config()).toMatchObject({
      stage: 'test',
      account: '111111111111',
      region: 'ap-east-1',
      alarmEmail: 'ops@example.com',
      tableName: 'promo-state',
      pausedJobs: ['activate', 'cart-policies'],
      subscriberAccounts: ['210987654321'],
      subscriptions: [{ protocol: 'sqs', endpoint: 'arn:aws:sqs:ap-east-1:210987654321:q' }],
    });
  });

  it('the stage and its folder come from context or the environment (PROMO_JOBS_STAGE, PROMO_JOBS_STAGES_DIR)', () => {
    const dir = stagesDir({ staging: { alarmEmail: 'staging@example.com' } });
    const config = resolve({}, { PROMO_JOBS_STAGE: 'staging', PROMO_JOBS_STAGES_DIR: dir });
    expect(config).toMatchObject({
      stage: 'staging',
      stageFile: join(dir, 'staging.json'),
      prefix: 'promo-jobs-staging',
      alarmEmail: 'staging@example.com',
    });
    expect(resolve({ stage: 'staging', stagesDir: dir }, { PROMO_JOBS_STAGE: 'other' }).stage).toBe(
      'staging',
    );
  });

  it('declare notice subscriptions with filter policies on the notices’ attributes', () => {
    const subscriptions = [
      { protocol: 'https', endpoint: 'https://hooks.example.com/notices' },
      {
        protocol: 'sqs',
        endpoint: 'arn:aws:sqs:ap-east-1:210987654321:notices',
        filterPolicy: { type: ['PROMOTION_ACTIVATED', 'PROMOTION_ACTIVATED'], programId: ['SEED_PLAN_2020'] },
      },
      {
        protocol: 'lambda',
        endpoint: 'arn:aws-cn:lambda:cn-north-1:210987654321:function:on-notice:live',
        filterPolicy: { merchantId: ['merchant-a', 'merchant-b'] },
      },
      { protocol: 'email-json', endpoint: 'ops@example.com' },
      { protocol: 'sms', endpoint: '+8613800138000', filterPolicy: { type: ['PROMOTION_REVOKED'] } },
    ];
    expect(withFile({ subscriptions }).config().subscriptions).toEqual([
      subscriptions[0],
      { ...subscriptions[1], filterPolicy: { type: ['PROMOTION_ACTIVATED'], programId: ['SEED_PLAN_2020'] } },
      ...subscriptions.slice(2),
    ]);
  });

  it('a filter policy may name exactly the message attributes the publisher sets', () => {
    const at = '2020-05-08T00:00:00.000+08:00';
    const promotion: Notice = {
      eventId: eventIdOf('PROMOTION_ACTIVATED', 'merchant-a', at),
      type: 'PROMOTION_ACTIVATED',
      merchantId: 'merchant-a',
      effectiveAt: at,
      data: {
        programId: 'SEED_PLAN_2020',
        startsAt: at,
        endsBefore: '2020-06-07T00:00:00.000+08:00',
        lastDay: '2020-06-06',
        days: 30,
        rate: null,
        benefits: {},
      },
      text: '',
    };
    // A promotion notice carries every attribute there is (cart notices all but programId).
    expect(Object.keys(snsEntry(promotion).MessageAttributes ?? {}).sort()).toEqual(
      [...NOTICE_ATTRIBUTES].sort(),
    );
    const values = {
      type: ['PROMOTION_ACTIVATED'],
      merchantId: ['merchant-a'],
      programId: ['SEED_PLAN_2020'],
    };
    const endpoint = 'arn:aws:sqs:ap-east-1:210987654321:notices';
    for (const attribute of NOTICE_ATTRIBUTES) {
      const filterPolicy = { [attribute]: values[attribute] };
      expect(
        withFile({ subscriptions: [{ protocol: 'sqs', endpoint, filterPolicy }] }).config().subscriptions,
      ).toEqual([{ protocol: 'sqs', endpoint, filterPolicy }]);
    }
  });

  it('a bad stage file is refused with the file and the field named', () => {
    const refused = (file: unknown, problem: RegExp) => {
      const { dir, config } = withFile(file);
      expect(config, JSON.stringify(file)).toThrow(`invalid stage file ${join(dir, 'test.json')}: `);
      expect(config, JSON.stringify(file)).toThrow(problem);
    };
    const sub = (s: Record<string, unknown>) => ({ subscriptions: [s] });
    const sqs = 'arn:aws:sqs:ap-east-1:210987654321:notices';
    refused({ alarmEmail: 'ops' }, /: alarmEmail: must be an e-mail address$/);
    refused({ stage: 'prod' }, /: stage: unknown field$/); // the file's name is the stage
    refused({ paused: 'expire' }, /: paused: .*expected array/); // text lists are for -c only
    refused({ paused: ['cleanup'] }, /: paused\.0: must list jobs of activate, expire/);
    refused({ subscriberAccounts: ['12345'] }, /: subscriberAccounts\.0: must be a 12-digit AWS account id$/);
    refused(
      sub({ protocol: 'http', endpoint: 'http://x.example.com' }),
      /: subscriptions\.0\.protocol: must be one of https, email, email-json, sms, sqs, lambda$/,
    );
    refused(
      sub({ protocol: 'https', endpoint: 'http://x.example.com' }),
      /: subscriptions\.0\.endpoint: must be an https:\/\/ URL$/,
    );
    refused(
      sub({ protocol: 'sqs', endpoint: 'arn:aws:sns:ap-east-1:210987654321:t' }),
      /: subscriptions\.0\.endpoint: must be an SQS queue ARN/,
    );
    refused(
      sub({ protocol: 'sqs', endpoint: `${sqs}.fifo` }),
      /: subscriptions\.0\.endpoint: must be a standard queue/,
    );
    refused(
      sub({ protocol: 'lambda', endpoint: 'on-notice' }),
      /: subscriptions\.0\.endpoint: must be a Lambda function ARN/,
    );
    refused(
      sub({ protocol: 'email', endpoint: sqs }),
      /: subscriptions\.0\.endpoint: must be an e-mail address$/,
    );
    refused(sub({ protocol: 'sqs', endpoint: sqs, raw: true }), /: subscriptions\.0\.raw: unknown field$/);
    // Only the attributes the publisher sets, with values they can have.
    refused(
      sub({ protocol: 'sqs', endpoint: sqs, filterPolicy: { eventId: ['x'] } }),
      /: subscriptions\.0\.filterPolicy\.eventId: unknown field$/,
    );
    refused(
      sub({ protocol: 'sqs', endpoint: sqs, filterPolicy: { type: ['PROMOTION_STARTED'] } }),
      /: subscriptions\.0\.filterPolicy\.type\.0: must list notice types of PROMOTION_ACTIVATED/,
    );
    refused(
      sub({ protocol: 'sqs', endpoint: sqs, filterPolicy: { programId: ['seed plan'] } }),
      /: subscriptions\.0\.filterPolicy\.programId\.0: may contain only A–Z, 0–9 and _$/,
    );
    refused(
      sub({ protocol: 'sqs', endpoint: sqs, filterPolicy: { merchantId: [] } }),
      /: subscriptions\.0\.filterPolicy\.merchantId: must list at least one merchant id$/,
    );
    refused(
      sub({ protocol: 'sqs', endpoint: sqs, filterPolicy: {} }),
      /: subscriptions\.0\.filterPolicy: must name at least one of type, merchantId, programId$/,
    );
    const merchants = Array.from({ length: 16 }, (_, i) => `m-${i}`);
    refused(
      sub({
        protocol: 'sqs',
        endpoint: sqs,
        filterPolicy: {
          merchantId: merchants,
          type: [
            'PROMOTION_ACTIVATED',
            'PROMOTION_EXPIRED',
            'PROMOTION_REVOKED',
            'PROMOTION_ENDING_SOON',
            'CART_POLICY_IN_FORCE',
            'CART_POLICY_ANNOUNCED',
            'CART_POLICY_WITHDRAWN',
            'XINGTU_FEE_IN_FORCE',
            'XINGTU_FEE_ANNOUNCED',
            'XINGTU_FEE_WITHDRAWN',
          ],
        },
      }),
      /: subscriptions\.0\.filterPolicy: allows at most 150 combinations/,
    );
    refused(
      {
        subscriptions: [
          { protocol: 'sqs', endpoint: sqs },
          { protocol: 'email', endpoint: 'a@example.com' },
          { protocol: 'sqs', endpoint: sqs, filterPolicy: { type: ['PROMOTION_EXPIRED'] } },
        ],
      },
      /: subscriptions\.2: repeats subscriptions\.0's protocol and endpoint/,
    );
    refused('{ "alarmEmail": "ops@example.com", }', /: not JSON \(/);
    refused([], /: \(input\): .*expected object/);
  });

  it('an unknown stage is refused naming the file it looked for and the stages there are', () => {
    const dir = stagesDir({ dev: {}, staging: {} });
    expect(() => resolve({ stage: 'prod', stagesDir: dir })).toThrow(
      `no settings for stage "prod": ${join(dir, 'prod.json')} does not exist (stages: dev, staging)`,
    );
    expect(() => resolve({ stage: 'nope' })).toThrow(
      `no settings for stage "nope": ${join('infra', 'stages', 'nope.json')} does not exist (stages: dev, prod)`,
    );
  });

  it('a bad override (-c or the environment) is refused with the setting named', () => {
    expect(() => resolve({ stage: 'Prod!' })).toThrow(
      /^invalid stage settings: stage: must be 1-20 lower-case/,
    );
    expect(() => resolve({ alarmEmail: 'ops' })).toThrow(
      /^invalid stage settings: alarmEmail: must be an e-mail address$/,
    );
    expect(() => resolve({ paused: 'activate,cleanup' })).toThrow(
      /paused\.1: must list jobs of activate, expire/,
    );
    expect(() => resolve({ subscriptions: '[{"protocol":"email"' })).toThrow(
      /^invalid stage settings: subscriptions: must be JSON \(/,
    );
    expect(() => resolve({ subscriptions: '[{"protocol":"email","endpoint":"x"}]' })).toThrow(
      /^invalid stage settings: subscriptions\.0\.endpoint: must be an e-mail address$/,
    );
    expect(() => resolve({ subscriberAccounts: '210987654321,abc' })).toThrow(
      /^invalid stage settings: subscriberAccounts\.1: must be a 12-digit AWS account id$/,
    );
    expect(() => resolve({}, { CDK_DEFAULT_ACCOUNT: 'abc' })).toThrow(
      /account: must be a 12-digit AWS account id/,
    );
  });

  it('name the merchant producers as IAM role ARNs, comma-separated, from context or the environment', () => {
    const roles =
      'arn:aws:iam::123456789012:role/merchant-system, arn:aws:iam::210987654321:role/ops/replayer';
    expect(resolve({ merchantProducers: roles }).merchantProducers).toEqual([
      'arn:aws:iam::123456789012:role/merchant-system',
      'arn:aws:iam::210987654321:role/ops/replayer',
    ]);
    expect(
      resolve({}, { PROMO_JOBS_MERCHANT_PRODUCERS: 'arn:aws-cn:iam::123456789012:role/p' }).merchantProducers,
    ).toEqual(['arn:aws-cn:iam::123456789012:role/p']);
    // A user, an account or a wildcard is not a role: each would let more than one named role in.
    for (const wrong of [
      'arn:aws:iam::123456789012:user/bob',
      'arn:aws:iam::123456789012:root',
      '*',
      'arn:aws:iam::*:role/x',
    ]) {
      expect(() => resolve({ merchantProducers: wrong }), wrong).toThrow(
        /merchantProducers\.0: must be an IAM role ARN/,
      );
    }
    expect(() => resolve({ merchantProducers: ' , ' })).toThrow(/merchantProducers: must list at least one/);
  });
});

describe('the CDK app with bad settings (as `cdk synth` runs it)', () => {
  /** `npx tsx infra/app.ts` with cdk.json's context and these settings, as the CDK CLI runs it. */
  const synth = (context: Record<string, unknown>) =>
    spawnSync('npx', ['tsx', 'infra/app.ts'], {
      encoding: 'utf8',
      env: {
        ...process.env,
        CDK_OUTDIR: mkdtempSync(join(tmpdir(), 'cdk-out-')),
        CDK_CONTEXT_JSON: JSON.stringify({ ...cdkJsonContext(), ...context }),
      },
    });

  it('-c alarmEmail=not-an-email: prints the setting and its problem alone, no stack trace, and exits 1', () => {
    const run = synth({ alarmEmail: 'not-an-email' });
    expect([run.status, run.stderr]).toEqual([
      1,
      'invalid stage settings: alarmEmail: must be an e-mail address\n',
    ]);
  }, 60_000);

  it('a bad stage file: prints the file, the field and its problem alone, and exits 1', () => {
    const dir = stagesDir({ dev: { subscriptions: [{ protocol: 'email', endpoint: 'not-an-email' }] } });
    const run = synth({ stagesDir: dir });
    expect([run.status, run.stderr]).toEqual([
      1,
      `invalid stage file ${join(dir, 'dev.json')}: subscriptions.0.endpoint: must be an e-mail address\n`,
    ]);
  }, 60_000);

  it('-c stage=nope: prints the stage file it looked for alone, and exits 1', () => {
    const run = synth({ stage: 'nope' });
    expect([run.status, run.stderr]).toEqual([
      1,
      'no settings for stage "nope": infra/stages/nope.json does not exist (stages: dev, prod)\n',
    ]);
  }, 60_000);
});
