// Stage settings: context first, then the environment, then defaults that synth offline.
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { resolveStage } from '../../infra/stage';

const resolve = (context: Record<string, string> = {}, env: Record<string, string> = {}) =>
  resolveStage(new App({ context }).node, env);

describe('stage settings', () => {
  it('default to an environment-agnostic dev stage with derived names', () => {
    expect(resolve()).toEqual({
      stage: 'dev',
      account: undefined,
      region: undefined,
      prefix: 'promo-jobs-dev',
      tableName: 'promo-jobs-dev',
      noticesTopicName: 'promo-jobs-dev-notices',
      alarmEmail: undefined,
      programStart: '2020-05-01',
      pausedJobs: [],
      merchantProducers: undefined, // the stack's default: this account's promo-jobs-dev-merchant-producer
    });
  });

  it('come from context before the environment', () => {
    const config = resolve(
      { stage: 'prod', alarmEmail: 'ops@example.com', paused: 'expire' },
      {
        PROMO_JOBS_STAGE: 'staging',
        PROMO_JOBS_ALARM_EMAIL: 'other@example.com',
        PROMO_JOBS_TABLE_NAME: 'promo-state',
        CDK_DEFAULT_ACCOUNT: '123456789012',
        CDK_DEFAULT_REGION: 'ap-east-1',
      },
    );
    expect(config).toMatchObject({
      stage: 'prod',
      prefix: 'promo-jobs-prod',
      alarmEmail: 'ops@example.com',
      tableName: 'promo-state',
      noticesTopicName: 'promo-jobs-prod-notices',
      account: '123456789012',
      region: 'ap-east-1',
      pausedJobs: ['expire'],
    });
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
  });

  it('are refused with the setting named', () => {
    expect(() => resolve({ stage: 'Prod!' })).toThrow(
      /^invalid stage settings: stage: must be 1-20 lower-case/,
    );
    expect(() => resolve({ alarmEmail: 'ops' })).toThrow(/alarmEmail: must be an e-mail address/);
    expect(() => resolve({ paused: 'activate,cleanup' })).toThrow(
      /paused\.1: must list jobs of activate, expire/,
    );
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
    expect(() => resolve({}, { CDK_DEFAULT_ACCOUNT: 'abc' })).toThrow(
      /account: must be a 12-digit AWS account id/,
    );
  });
});

describe('the CDK app with a bad setting (cdk synth -c alarmEmail=not-an-email)', () => {
  it('prints the setting and its problem alone, no stack trace, and exits 1', () => {
    const synth = spawnSync('npx', ['tsx', 'infra/app.ts'], {
      encoding: 'utf8',
      env: {
        ...process.env,
        CDK_OUTDIR: mkdtempSync(join(tmpdir(), 'cdk-out-')),
        CDK_CONTEXT_JSON: JSON.stringify({ alarmEmail: 'not-an-email' }),
      },
    });
    expect([synth.status, synth.stderr]).toEqual([
      1,
      'invalid stage settings: alarmEmail: must be an e-mail address\n',
    ]);
  }, 60_000);
});
