// `schedules … --aws` at the SDK boundary (aws-sdk-client-mock): pause and resume send UpdateSchedule
// with the whole definition GetSchedule returned, only State and Description changed; a schedule already
// so is left alone; a missing schedule or queue is reported, not a crash. Also through the CLI itself.

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  GetScheduleCommand,
  type GetScheduleCommandOutput,
  type GetScheduleOutput,
  ResourceNotFoundException,
  SchedulerClient,
  UpdateScheduleCommand,
} from '@aws-sdk/client-scheduler';
import {
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  QueueDoesNotExist,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { DateTime } from 'luxon';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  CARRIED_PROPERTIES,
  deployedFailureQueue,
  deployedSchedule,
  resolveCliStage,
  stageNames,
  toggleSchedule,
  updateKeepingDefinition,
} from '../../cli/schedules/schedules';
import { scheduleDescription } from '../../infra/job-deployment';
import type { Deps } from '../../shared/deps';
import { silentLog } from '../../shared/deps';
import { NotFoundError } from '../../shared/errors';
import { cliInProcess } from '../support/cli';

const scheduler = mockClient(SchedulerClient);
const sqs = mockClient(SQSClient);
const dynamo = mockClient(DynamoDBDocumentClient);
beforeEach(() => {
  scheduler.reset();
  sqs.reset();
  dynamo.reset();
});

const NAMES = stageNames('prod');
const ACCOUNT = '123456789012';
const arn = (service: string, resource: string) => `arn:aws:${service}:ap-east-1:${ACCOUNT}:${resource}`;
const AT = DateTime.fromISO('2026-12-02T15:04:05.678+08:00', { setZone: true });

/** A deployed schedule with every property GetSchedule returns set, the optional ones too. */
const DEPLOYED: GetScheduleCommandOutput = {
  $metadata: { httpStatusCode: 200, requestId: 'req-1' },
  Arn: arn('scheduler', 'schedule/promo-jobs-prod/promo-jobs-prod-activate'),
  Name: 'promo-jobs-prod-activate',
  GroupName: 'promo-jobs-prod',
  ScheduleExpression: 'cron(0 0 * * ? *)',
  ScheduleExpressionTimezone: 'Asia/Shanghai',
  StartDate: new Date('2026-01-01T00:00:00Z'),
  EndDate: new Date('2099-01-01T00:00:00Z'),
  Description: scheduleDescription('activate'),
  State: 'ENABLED',
  CreationDate: new Date('2026-01-01T00:00:00Z'),
  LastModificationDate: new Date('2026-06-01T00:00:00Z'),
  KmsKeyArn: arn('kms', 'key/1234abcd-12ab-34cd-56ef-1234567890ab'),
  Target: {
    Arn: arn('lambda', 'function:promo-jobs-prod-activate'),
    RoleArn: `arn:aws:iam::${ACCOUNT}:role/promo-jobs-prod-activate-scheduler`,
    Input: '{"scheduledTime":"<aws.scheduler.scheduled-time>"}',
    RetryPolicy: { MaximumEventAgeInSeconds: 7200, MaximumRetryAttempts: 20 },
    DeadLetterConfig: { Arn: arn('sqs', 'promo-jobs-prod-activate-failures') },
  },
  FlexibleTimeWindow: { Mode: 'OFF' },
  ActionAfterCompletion: 'NONE',
};
const notFound = () =>
  new ResourceNotFoundException({
    message: 'Schedule not found',
    Message: 'Schedule not found',
    $metadata: {},
  });
const READ_ONLY = ['$metadata', 'Arn', 'CreationDate', 'LastModificationDate'];
const definitionOf = (output: GetScheduleOutput) =>
  Object.fromEntries(Object.entries(output).filter(([key]) => !READ_ONLY.includes(key)));

const client = () => new SchedulerClient({ region: 'ap-east-1' });
const updates = () => scheduler.commandCalls(UpdateScheduleCommand).map((c) => c.args[0].input);
const pause = (reason = 'incident 42: activate double-enrols') =>
  toggleSchedule(client(), NAMES, 'activate', { action: 'pause', reason, by: 'ops@bastion', at: AT });

describe('the definition carried from GetSchedule into UpdateSchedule', () => {
  it('is every property of it but the read-only ones', () => {
    expect([...CARRIED_PROPERTIES].sort()).toEqual(Object.keys(definitionOf(DEPLOYED)).sort());
  });

  it('keeps any definition whole, changing only State and Description (property-based)', () => {
    const text = fc.string({ minLength: 1, maxLength: 20 });
    const date = fc.date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true });
    const definition = fc.record(
      {
        $metadata: fc.constant({}),
        Arn: text,
        CreationDate: date,
        LastModificationDate: date,
        Name: text,
        GroupName: text,
        ScheduleExpression: text,
        ScheduleExpressionTimezone: text,
        StartDate: date,
        EndDate: date,
        Description: text,
        State: fc.constantFrom('ENABLED' as const, 'DISABLED' as const),
        KmsKeyArn: text,
        Target: fc.record(
          {
            Arn: text,
            RoleArn: text,
            Input: text,
            RetryPolicy: fc.record({ MaximumEventAgeInSeconds: fc.nat(), MaximumRetryAttempts: fc.nat() }),
            DeadLetterConfig: fc.record({ Arn: text }),
            SqsParameters: fc.record({ MessageGroupId: text }),
            EventBridgeParameters: fc.record({ DetailType: text, Source: text }),
          },
          { requiredKeys: ['Arn', 'RoleArn'] },
        ),
        FlexibleTimeWindow: fc.oneof(
          fc.constant({ Mode: 'OFF' as const }),
          fc.record({
            Mode: fc.constant('FLEXIBLE' as const),
            MaximumWindowInMinutes: fc.integer({ min: 1, max: 1440 }),
          }),
        ),
        ActionAfterCompletion: fc.constantFrom('NONE' as const, 'DELETE' as const),
      },
      { requiredKeys: ['$metadata', 'Name', 'ScheduleExpression', 'Target', 'FlexibleTimeWindow'] },
    );
    fc.assert(
      fc.property(
        definition,
        fc.constantFrom('ENABLED' as const, 'DISABLED' as const),
        text,
        (current, State, Description) => {
          const input = updateKeepingDefinition(current as GetScheduleOutput, { State, Description });
          expect(input).toEqual({ ...definitionOf(current as GetScheduleOutput), State, Description });
        },
      ),
      { numRuns: 300 },
    );
  });

  it('is a copy: changing the input leaves what GetSchedule returned as it was', () => {
    const current = structuredClone(DEPLOYED);
    const input = updateKeepingDefinition(current, { State: 'DISABLED', Description: 'x' });
    (input.Target as { RetryPolicy: { MaximumRetryAttempts: number } }).RetryPolicy.MaximumRetryAttempts = 0;
    expect(current).toEqual(DEPLOYED);
  });
});

describe('schedules pause and resume (--aws)', () => {
  it('pause: one GetSchedule, then UpdateSchedule with the whole definition, DISABLED and the reason', async () => {
    scheduler.on(GetScheduleCommand).resolves(DEPLOYED);
    scheduler.on(UpdateScheduleCommand).resolves({ ScheduleArn: DEPLOYED.Arn });
    const outcome = await pause();
    const get = scheduler.commandCalls(GetScheduleCommand).map((c) => c.args[0].input);
    expect(get).toEqual([{ Name: 'promo-jobs-prod-activate', GroupName: 'promo-jobs-prod' }]);
    const description =
      'paused 2026-12-02T15:04:05.678+08:00 by ops@bastion: incident 42: activate double-enrols';
    expect(updates()).toEqual([{ ...definitionOf(DEPLOYED), State: 'DISABLED', Description: description }]);
    expect(outcome).toMatchObject({
      changed: true,
      state: 'DISABLED',
      previousState: 'ENABLED',
      summary: 'paused activate',
    });
  });

  it('pause of a paused schedule: says so and sends no UpdateSchedule', async () => {
    scheduler
      .on(GetScheduleCommand)
      .resolves({ ...DEPLOYED, State: 'DISABLED', Description: 'paused … by a@b: earlier' });
    const outcome = await pause();
    expect(updates()).toEqual([]);
    expect(outcome).toMatchObject({
      changed: false,
      state: 'DISABLED',
      summary: 'nothing changed: activate is already paused (paused … by a@b: earlier)',
    });
  });

  it("resume: ENABLED and the stack's description back, everything else as it was", async () => {
    const paused = { ...DEPLOYED, State: 'DISABLED' as const, Description: 'paused … by a@b: earlier' };
    scheduler.on(GetScheduleCommand).resolves(paused);
    const outcome = await toggleSchedule(client(), NAMES, 'activate', { action: 'resume' });
    expect(updates()).toEqual([
      { ...definitionOf(paused), State: 'ENABLED', Description: scheduleDescription('activate') },
    ]);
    expect(outcome.summary).toBe('resumed activate');
  });

  it('resume of an enabled schedule changes nothing', async () => {
    scheduler.on(GetScheduleCommand).resolves(DEPLOYED);
    const outcome = await toggleSchedule(client(), NAMES, 'activate', { action: 'resume' });
    expect(updates()).toEqual([]);
    expect(outcome.summary).toBe('nothing changed: activate is not paused');
  });

  it('a schedule the stage does not have: NotFoundError naming it, nothing updated', async () => {
    scheduler.on(GetScheduleCommand).rejects(notFound());
    await expect(pause()).rejects.toThrow(NotFoundError);
    await expect(pause()).rejects.toThrow('no schedule promo-jobs-prod-activate in group promo-jobs-prod');
    expect(updates()).toEqual([]);
  });

  it('refuses a reason the description cannot hold, naming --reason', async () => {
    scheduler.on(GetScheduleCommand).resolves(DEPLOYED);
    await expect(pause('x'.repeat(500))).rejects.toThrow(/--reason: must be at most \d+ characters/);
    expect(updates()).toEqual([]);
  });
});

describe('schedules list and describe (--aws)', () => {
  const deps = (): Deps => ({
    db: DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'ap-east-1' })),
    tableName: 'promo-jobs-prod',
    clock: () => AT,
    programStart: '2020-05-01',
    writeConcurrency: 1,
    pageSize: 10,
    log: silentLog,
  });

  it('a missing schedule is NOT_FOUND with the reason, not a crash', async () => {
    scheduler.on(GetScheduleCommand).rejects(notFound());
    dynamo.on(QueryCommand).resolves({ Items: [] });
    const detail = await deployedSchedule(client(), deps(), NAMES, 'expire', AT, 5);
    expect(detail.entry).toEqual({
      job: 'expire',
      expression: null,
      timeZone: null,
      state: 'NOT_FOUND',
      nextFireAt: null,
      lastRun: null,
    });
    expect(detail.problems.join()).toContain('no schedule promo-jobs-prod-expire in group promo-jobs-prod');
  });

  it('a paused schedule does not fire; a drifted one is said to differ from the registry', async () => {
    dynamo.on(QueryCommand).resolves({ Items: [] });
    scheduler.on(GetScheduleCommand).resolves({ ...DEPLOYED, State: 'DISABLED' });
    const paused = await deployedSchedule(client(), deps(), NAMES, 'activate', AT, 5);
    expect(paused.entry).toMatchObject({ state: 'DISABLED', nextFireAt: null });
    expect(paused.nextFireAts).toEqual([]);
    scheduler.on(GetScheduleCommand).resolves({ ...DEPLOYED, ScheduleExpression: 'cron(30 1 * * ? *)' });
    const drifted = await deployedSchedule(client(), deps(), NAMES, 'activate', AT, 2);
    expect(drifted.nextFireAts).toEqual(['2026-12-03T01:30:00.000+08:00', '2026-12-04T01:30:00.000+08:00']);
    expect(drifted.problems).toEqual([
      'activate: deployed as cron(30 1 * * ? *) in Asia/Shanghai, the registry says cron(0 0 * * ? *) in Asia/Shanghai (deploy the stack?)',
    ]);
  });

  it("the failure queue's depth comes from the schedule's dead-letter queue; a missing queue is reported", async () => {
    const url = `https://sqs.ap-east-1.amazonaws.com/${ACCOUNT}/promo-jobs-prod-activate-failures`;
    sqs
      .on(GetQueueUrlCommand, { QueueName: 'promo-jobs-prod-activate-failures' })
      .resolves({ QueueUrl: url });
    sqs.on(GetQueueAttributesCommand, { QueueUrl: url }).resolves({
      Attributes: { ApproximateNumberOfMessages: '3', ApproximateNumberOfMessagesNotVisible: '1' },
    });
    const sqsClient = new SQSClient({ region: 'ap-east-1' });
    expect(await deployedFailureQueue(sqsClient, NAMES, 'activate', DEPLOYED)).toEqual({
      name: 'promo-jobs-prod-activate-failures',
      url,
      depth: 3,
      inFlight: 1,
    });
    sqs.reset();
    sqs.on(GetQueueUrlCommand).rejects(new QueueDoesNotExist({ message: 'nope', $metadata: {} }));
    expect(await deployedFailureQueue(sqsClient, NAMES, 'activate', undefined)).toMatchObject({
      name: 'promo-jobs-prod-activate-failures',
      depth: null,
      reason: 'no queue promo-jobs-prod-activate-failures in this account and Region',
    });
  });
});

describe('through the CLI (--aws, mocked clients)', () => {
  // The SDK reads the Region and credentials from the process's environment, not the CLI's.
  const AWS_ENV = { AWS_REGION: 'ap-east-1', AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' };
  const TOUCHED = [...Object.keys(AWS_ENV), 'AWS_DEFAULT_REGION', 'AWS_PROFILE', 'AWS_CONFIG_FILE'];
  const saved = Object.fromEntries(TOUCHED.map((key) => [key, process.env[key]]));
  beforeEach(() => {
    Object.assign(process.env, AWS_ENV);
    return () => {
      for (const [key, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    };
  });
  const cli = (...args: string[]) =>
    cliInProcess(['--aws', '--table', 'promo-jobs-prod', ...args], { DYNAMODB_ENDPOINT: undefined });

  it('pause: the stage from --table, the Update with the definition, one stderr line at the end', async () => {
    scheduler.on(GetScheduleCommand).resolves(DEPLOYED);
    const result = await cli('schedules', 'pause', 'activate', '--reason', 'incident 42');
    expect(result.status).toBe(0);
    expect(result.stderr.trim().split('\n').at(-1)).toBe('paused activate');
    const [update] = updates();
    expect(update).toEqual({
      ...definitionOf(DEPLOYED),
      State: 'DISABLED',
      Description: expect.stringMatching(/^paused \d{4}-\d\d-\d\dT[\d:.]+\+08:00 by \S+@\S+: incident 42$/),
    });
    expect(result.json).toEqual([
      expect.objectContaining({
        job: 'activate',
        schedule: 'promo-jobs-prod-activate',
        changed: true,
        state: 'DISABLED',
      }),
    ]);
  });

  it('pause of a paused schedule: exit 0, nothing sent, "nothing changed"', async () => {
    scheduler
      .on(GetScheduleCommand)
      .resolves({ ...DEPLOYED, State: 'DISABLED', Description: 'paused earlier' });
    const result = await cli('schedules', 'pause', 'activate', '--reason', 'again');
    expect(result.status).toBe(0);
    expect(updates()).toEqual([]);
    expect(result.stderr.trim().split('\n').at(-1)).toBe(
      'nothing changed: activate is already paused (paused earlier)',
    );
  });

  it('list: the deployed state and the latest run from the deployed table; a missing schedule exits 1', async () => {
    scheduler
      .on(GetScheduleCommand, { Name: 'promo-jobs-prod-activate' })
      .resolves({ ...DEPLOYED, State: 'DISABLED' });
    scheduler
      .on(GetScheduleCommand, { Name: 'promo-jobs-prod-expire' })
      .resolves({ ...DEPLOYED, Name: 'promo-jobs-prod-expire', ScheduleExpression: 'cron(59 23 * * ? *)' });
    scheduler.on(GetScheduleCommand, { Name: 'promo-jobs-prod-cart-policies' }).rejects(notFound());
    const run = {
      pk: 'JOB#expire',
      sk: 'RUN#2026-12-01T23:59:00.000+08:00',
      type: 'JOB_RUN',
      job: 'expire',
      asOf: '2026-12-01T23:59:00.000+08:00',
      report: { complete: true, failed: 0, examined: 4, changed: 4 },
      attempts: 1,
    };
    dynamo.on(QueryCommand).callsFake((input) => ({
      Items: input.ExpressionAttributeValues[':pk'] === 'JOB#expire' ? [run] : [],
    }));
    const result = await cli('schedules', 'list', '--at', '2026-12-02T12:00:00+08:00');
    expect(result.status).toBe(1);
    expect(result.json).toEqual([
      {
        job: 'activate',
        expression: 'cron(0 0 * * ? *)',
        timeZone: 'Asia/Shanghai',
        state: 'DISABLED',
        nextFireAt: null,
        lastRun: null,
      },
      {
        job: 'expire',
        expression: 'cron(59 23 * * ? *)',
        timeZone: 'Asia/Shanghai',
        state: 'ENABLED',
        nextFireAt: '2026-12-02T23:59:00.000+08:00',
        lastRun: expect.objectContaining({ asOf: run.asOf, complete: true, failed: 0, changed: 4 }),
      },
      {
        job: 'cart-policies',
        expression: null,
        timeZone: null,
        state: 'NOT_FOUND',
        nextFireAt: null,
        lastRun: null,
      },
    ]);
    expect(result.stderr).toContain('schedules of stage prod (group promo-jobs-prod)');
    expect(result.stderr).toContain('no schedule promo-jobs-prod-cart-policies in group promo-jobs-prod');
  });

  it('without a Region: exit 2, saying how to set one', async () => {
    for (const key of ['AWS_REGION', 'AWS_DEFAULT_REGION', 'AWS_PROFILE']) delete process.env[key];
    process.env.AWS_CONFIG_FILE = '/nonexistent/config';
    const result = await cliInProcess(['--aws', 'schedules', 'resume', 'expire'], {});
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('--aws: no AWS Region: set AWS_REGION');
  });
});

describe('the stage the schedules commands look at', () => {
  const stage = (option: string | undefined, env: Record<string, string>, table: string) =>
    resolveCliStage(option, env, table);

  it('is --stage, else PROMO_JOBS_STAGE, else the stage of --table promo-jobs-<stage>, else dev', () => {
    expect(stage('staging', { PROMO_JOBS_STAGE: 'prod' }, 'promo-jobs-prod').names).toEqual({
      stage: 'staging',
      prefix: 'promo-jobs-staging',
      group: 'promo-jobs-staging',
    });
    expect(stage(undefined, { PROMO_JOBS_STAGE: 'prod' }, 'promo-jobs').names.stage).toBe('prod');
    expect(stage(undefined, {}, 'promo-jobs-prod').names.stage).toBe('prod');
    expect(stage(undefined, {}, 'promo-jobs').names.stage).toBe('dev');
    expect(stage(undefined, {}, 'my-table').names.stage).toBe('dev');
  });

  it("warns when the table is another stage's, and refuses a bad name, naming where it came from", () => {
    expect(stage('staging', {}, 'promo-jobs-prod').warning).toBe(
      "warning: the table promo-jobs-prod is stage prod's, but the schedules are stage staging's (--stage prod?)",
    );
    expect(stage('prod', {}, 'promo-jobs-prod').warning).toBeUndefined();
    expect(() => stage('Prod', {}, 'x')).toThrow('--stage: must be 1-20 lower-case letters');
    expect(() => stage(undefined, { PROMO_JOBS_STAGE: 'a b' }, 'x')).toThrow(
      'PROMO_JOBS_STAGE: must be 1-20',
    );
  });
});
