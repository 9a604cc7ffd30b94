// The synthesized template, asserted on the settings that matter: schedules, retries and DLQs,
// the stream mapping, each function's exact IAM statements, encryption and SSL, the table, alarms.
// One synth for the whole file (it is part of `npm test`): stage `test` with one job paused, so
// pausing is asserted on the same template as everything else. The alarm e-mail subscription is
// asserted in nag.test.ts, whose synth has an alarm e-mail.
import { Capture, Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { LOG_RETENTION } from '../../infra/constructs/promo-function';
import { parseJobInput } from '../../shared/jobs/input';
import { JOB_NAMES, JOBS } from '../../shared/jobs/registry';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../../shared/lambda/runtime';
import { CART_POLICY_PK, FLAG_PK, jobPk, merchantPk } from '../../shared/store/keys';
import { GLOBAL_INDEXES } from '../../shared/store/table';
import {
  asText,
  conditionsHold,
  grants,
  resourcePolicyStatements,
  resourcesOfType,
  roleStatements,
  synth,
} from './support';

const PAUSED = 'cart-policies';
const { template, stack, idOf } = synth({ paused: PAUSED });
const tableId = idOf(stack.table.table);
const jobOf = (name: string) => {
  const found = stack.jobs.find((job) => job.job === name);
  if (!found) throw new Error(`the stack has no ${name} job`);
  return found;
};
const activate = jobOf('activate');
const expire = jobOf('expire');
const cartPolicies = jobOf('cart-policies');
const allJobs = [activate, expire, cartPolicies];

const fnProps = (functionName: string) => {
  const found = Object.values(resourcesOfType(template, 'AWS::Lambda::Function')).find(
    (r) => r.Properties?.FunctionName === functionName,
  );
  if (!found?.Properties) throw new Error(`no function ${functionName}`);
  return found.Properties;
};

describe('the table', () => {
  it('is on-demand, streams NEW_AND_OLD_IMAGES, has PITR and deletion protection, and is retained', () => {
    template.hasResource('AWS::DynamoDB::GlobalTable', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: Match.objectLike({
        TableName: 'promo-jobs-test',
        BillingMode: 'PAY_PER_REQUEST',
        StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
        TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        Replicas: [
          Match.objectLike({
            DeletionProtectionEnabled: true,
            PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          }),
        ],
      }),
    });
  });

  it('has exactly the indexes of shared/store/table.ts, so the jobs and the table cannot disagree', () => {
    const indexes = new Capture();
    template.hasResourceProperties('AWS::DynamoDB::GlobalTable', { GlobalSecondaryIndexes: indexes });
    expect(indexes.asArray().map((index: { IndexName: string }) => index.IndexName)).toEqual(
      GLOBAL_INDEXES.map((index) => index.indexName),
    );
    const keys = (hash: string, range: string) => [
      { AttributeName: hash, KeyType: 'HASH' },
      { AttributeName: range, KeyType: 'RANGE' },
    ];
    // Spelled out, not derived from table.ts: a projection changed there by mistake fails here.
    expect(indexes.asArray()).toEqual([
      { IndexName: 'due', KeySchema: keys('due_pk', 'due_sk'), Projection: { ProjectionType: 'ALL' } },
      { IndexName: 'audience', KeySchema: keys('aud_pk', 'aud_sk'), Projection: { ProjectionType: 'ALL' } },
      {
        IndexName: 'onboarded',
        KeySchema: keys('onb_pk', 'onboardedOn'),
        Projection: {
          ProjectionType: 'INCLUDE',
          NonKeyAttributes: ['merchantId', 'onboardedAt', 'categories', 'liveCartSources', 'version'],
        },
      },
    ]);
  });

  it('defines each index key attribute once, as a string', () => {
    const definitions = new Capture();
    template.hasResourceProperties('AWS::DynamoDB::GlobalTable', { AttributeDefinitions: definitions });
    expect(definitions.asArray()).toEqual(
      expect.arrayContaining([
        { AttributeName: 'onb_pk', AttributeType: 'S' },
        { AttributeName: 'onboardedOn', AttributeType: 'S' },
      ]),
    );
    const names = definitions.asArray().map((d: { AttributeName: string }) => d.AttributeName);
    expect(new Set(names).size).toBe(names.length);
  });
});

describe('the functions', () => {
  const names = ['activate', 'cart-policies', 'expire', 'notifier', 'recorder'];

  it('are one per job, the notifier and the recorder, and nothing else', () => {
    const all = Object.values(resourcesOfType(template, 'AWS::Lambda::Function')).map(
      (r) => r.Properties?.FunctionName,
    );
    expect(all.sort()).toEqual(names.map((n) => `promo-jobs-test-${n}`));
    // Every job of shared/jobs/input.ts is deployed, each with its schedule.
    expect(stack.jobs.map((j) => j.job)).toEqual(JOB_NAMES);
    expect(JOB_NAMES).toEqual(['activate', 'expire', 'cart-policies']);
  });

  it.each(names)(
    '%s: arm64, nodejs22.x, source maps, Powertools settings, its own log group with retention',
    (name) => {
      const props = fnProps(`promo-jobs-test-${name}`);
      expect(props.Runtime).toBe('nodejs22.x');
      expect(props.Architectures).toEqual(['arm64']);
      expect(props.Handler).toBe('index.handler');
      const env = (props.Environment as { Variables: Record<string, unknown> }).Variables;
      expect(env).toMatchObject({
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
      });
      const logGroupId = asText((props.LoggingConfig as { LogGroup: unknown }).LogGroup);
      // The function's own log group (by reference), named, retained and with its retention.
      expect(resourcesOfType(template, 'AWS::Logs::LogGroup')[logGroupId]).toMatchObject({
        DeletionPolicy: 'Retain',
        Properties: { LogGroupName: `/aws/lambda/promo-jobs-test-${name}`, RetentionInDays: LOG_RETENTION },
      });
    },
  );

  it('are sized as documented: jobs 1024 MB / 15 min, notifier 512 MB / 60 s, recorder 256 MB / 30 s', () => {
    const size = (name: string) => {
      const p = fnProps(`promo-jobs-test-${name}`);
      return [p.MemorySize, p.Timeout];
    };
    expect(names.map(size)).toEqual([
      [1024, 900],
      [1024, 900],
      [1024, 900],
      [512, 60],
      [256, 30],
    ]);
  });

  it('jobs run one invocation at a time (reserved concurrency 1); the notifier and the recorder are not limited', () => {
    expect(names.map((n) => fnProps(`promo-jobs-test-${n}`).ReservedConcurrentExecutions)).toEqual([
      1,
      1,
      1,
      undefined,
      undefined,
    ]);
  });

  it('get their table, topic and business settings through validated environment variables', () => {
    for (const name of ['activate', 'cart-policies', 'expire', 'recorder']) {
      const env = (fnProps(`promo-jobs-test-${name}`).Environment as { Variables: Record<string, unknown> })
        .Variables;
      expect(asText(env.TABLE_NAME)).toBe(tableId);
      expect(env.PROGRAM_START).toBe('2020-05-01');
      expect(env.SNS_TOPIC_ARN).toBeUndefined();
    }
    const notifierEnv = (
      fnProps('promo-jobs-test-notifier').Environment as { Variables: Record<string, unknown> }
    ).Variables;
    expect(asText(notifierEnv.SNS_TOPIC_ARN)).toBe(idOf(stack.notifier.topic));
  });
});

describe('the schedules', () => {
  const expected = {
    activate: 'cron(0 0 * * ? *)',
    expire: 'cron(59 23 * * ? *)',
    'cart-policies': 'cron(0 0 * * ? *)',
  };

  it('are one per job, and nothing else', () => {
    const schedules = Object.values(resourcesOfType(template, 'AWS::Scheduler::Schedule'));
    expect(schedules.map((r) => r.Properties?.Name).sort()).toEqual(
      Object.keys(expected)
        .map((job) => `promo-jobs-test-${job}`)
        .sort(),
    );
  });

  it.each(Object.entries(expected))('%s: %s in Asia/Shanghai, no flexible window', (job, expression) => {
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      Name: `promo-jobs-test-${job}`,
      GroupName: 'promo-jobs-test',
      ScheduleExpression: expression,
      ScheduleExpressionTimezone: 'Asia/Shanghai',
      FlexibleTimeWindow: { Mode: 'OFF' },
    });
  });

  it.each(JOB_NAMES)("%s: the expression and time zone are the job's registry entry's", (job) => {
    const { cron, timeZone } = JOBS[job].schedule;
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      Name: `promo-jobs-test-${job}`,
      ScheduleExpression: cron,
      ScheduleExpressionTimezone: timeZone,
    });
  });

  it.each(Object.keys(expected))(
    '%s: invokes its function with exactly { scheduledTime }, retries for 2 h, then its DLQ',
    (name) => {
      const job = jobOf(name);
      const input = new Capture();
      template.hasResourceProperties('AWS::Scheduler::Schedule', {
        Name: `promo-jobs-test-${name}`,
        Target: {
          Arn: { 'Fn::GetAtt': [idOf(job.function.fn), 'Arn'] },
          RoleArn: { 'Fn::GetAtt': [idOf(job.schedulerRole), 'Arn'] },
          Input: input,
          RetryPolicy: { MaximumEventAgeInSeconds: 7200, MaximumRetryAttempts: 20 },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [idOf(job.failures), 'Arn'] } },
        },
      });
      const sent = JSON.parse(input.asString());
      expect(sent).toEqual({ scheduledTime: '<aws.scheduler.scheduled-time>' });
      // What the scheduler substitutes (an ISO instant in UTC) is what the handler accepts.
      expect(parseJobInput({ ...sent, scheduledTime: '2020-05-07T16:00:00Z' })).toMatchObject({
        kind: 'scheduled',
        scheduledTime: '2020-05-08T00:00:00.000+08:00',
      });
    },
  );

  it("each job's failed runs go, after Lambda's 2 retries within 2 h, to the same failure queue", () => {
    template.resourceCountIs('AWS::Lambda::EventInvokeConfig', allJobs.length + 1); // + the recorder
    for (const job of allJobs) {
      template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
        FunctionName: { Ref: idOf(job.function.fn) },
        MaximumRetryAttempts: 2,
        MaximumEventAgeInSeconds: 7200,
        DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [idOf(job.failures), 'Arn'] } } },
      });
    }
  });

  it('can be paused per job from context, without a code change (this synth pauses cart-policies)', () => {
    const states = Object.fromEntries(
      Object.values(resourcesOfType(template, 'AWS::Scheduler::Schedule')).map((r) => [
        r.Properties?.Name,
        r.Properties?.State,
      ]),
    );
    expect(states).toEqual({
      'promo-jobs-test-activate': 'ENABLED',
      'promo-jobs-test-expire': 'ENABLED',
      [`promo-jobs-test-${PAUSED}`]: 'DISABLED',
    });
  });
});

describe('the notifier', () => {
  it('reads the stream with batch-item failures, bisection, bounded retries and age, and an on-failure queue', () => {
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', 1);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: idOf(stack.notifier.function.fn) },
      EventSourceArn: { 'Fn::GetAtt': [tableId, 'StreamArn'] },
      StartingPosition: 'TRIM_HORIZON',
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 10,
      MaximumRecordAgeInSeconds: 6 * 3600,
      BatchSize: 100,
      ParallelizationFactor: 4,
      DestinationConfig: {
        OnFailure: { Destination: { 'Fn::GetAtt': [idOf(stack.notifier.failures), 'Arn'] } },
      },
    });
  });

  it('publishes to a topic encrypted with its own rotating key, SSL only', () => {
    const keyId = idOf(stack.notifier.key);
    template.hasResourceProperties('AWS::SNS::Topic', {
      TopicName: 'promo-jobs-test-notices',
      KmsMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] },
    });
    expect(resourcesOfType(template, 'AWS::KMS::Key')[keyId]).toMatchObject({
      DeletionPolicy: 'Retain',
      Properties: { EnableKeyRotation: true },
    });
  });
});

describe('the recorder', () => {
  it('takes MerchantOnboarded and MerchantViolation from marketplace.merchants on its own bus, with retries and a DLQ', () => {
    template.hasResourceProperties('AWS::Events::EventBus', { Name: 'promo-jobs-test-merchants' });
    template.hasResourceProperties('AWS::Events::Rule', {
      EventBusName: { Ref: idOf(stack.recorder.bus) },
      EventPattern: {
        source: ['marketplace.merchants'],
        'detail-type': ['MerchantOnboarded', 'MerchantViolation'],
      },
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [idOf(stack.recorder.function.fn), 'Arn'] },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [idOf(stack.recorder.failures), 'Arn'] } },
          RetryPolicy: { MaximumEventAgeInSeconds: 86400, MaximumRetryAttempts: 50 },
        }),
      ],
    });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: idOf(stack.recorder.function.fn) },
      MaximumRetryAttempts: 2,
      DestinationConfig: {
        OnFailure: { Destination: { 'Fn::GetAtt': [idOf(stack.recorder.failures), 'Arn'] } },
      },
    });
  });
});

describe('the merchant bus policy', () => {
  const bus = resourcePolicyStatements(template).filter((s) => s.type === 'AWS::Events::EventBusPolicy');
  const producer = 'arn:AWS::Partition:iam::AWS::AccountId:role/promo-jobs-test-merchant-producer';
  const thisAccount = 'arn:AWS::Partition:iam::AWS::AccountId:root';
  const busArn = `${idOf(stack.recorder.bus)}.Arn`;

  it("by default lets only this account's promo-jobs-<stage>-merchant-producer role put events, and refuses everyone else", () => {
    expect(bus.map(({ where: _, ...s }) => s)).toEqual([
      {
        type: 'AWS::Events::EventBusPolicy',
        effect: 'Allow',
        aws: [thisAccount],
        services: [],
        actions: ['events:PutEvents'],
        conditions: { ArnEquals: { 'aws:PrincipalArn': [producer] } },
      },
      {
        type: 'AWS::Events::EventBusPolicy',
        effect: 'Deny',
        aws: ['*'],
        services: [],
        actions: ['events:PutEvents'],
        conditions: {
          ArnNotEquals: { 'aws:PrincipalArn': [producer] },
          Bool: { 'aws:PrincipalIsAWSService': ['false'] },
        },
      },
    ]);
    for (const policy of Object.values(resourcesOfType(template, 'AWS::Events::EventBusPolicy'))) {
      expect(policy.Properties?.EventBusName).toEqual({ Ref: idOf(stack.recorder.bus) });
      const statement = policy.Properties?.Statement as { Resource: unknown } | undefined;
      expect(asText(statement?.Resource)).toBe(busArn);
    }
  });

  it('as IAM reads it: the producer role is allowed and not denied; another role of this account is denied', () => {
    const [allow, deny] = bus;
    const request = (principalArn: string) => ({
      'aws:PrincipalArn': [principalArn],
      'aws:PrincipalIsAWSService': ['false'],
    });
    expect(conditionsHold(allow?.conditions, request(producer))).toBe(true);
    expect(conditionsHold(deny?.conditions, request(producer))).toBe(false);
    const other = 'arn:AWS::Partition:iam::AWS::AccountId:role/some-admin';
    expect(conditionsHold(allow?.conditions, request(other))).toBe(false);
    expect(conditionsHold(deny?.conditions, request(other))).toBe(true);
  });
});

describe('least privilege', () => {
  const roleOf = (fn: { role: unknown }) => idOf(fn.role as never);
  const logs = (fn: { logGroup: unknown }) => ({
    effect: 'Allow',
    actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
    resources: [`${idOf(fn.logGroup as never)}.Arn`],
  });
  const sendTo = (queue: unknown) => ({
    effect: 'Allow',
    actions: ['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage'],
    resources: [`${idOf(queue as never)}.Arn`],
  });

  const invokeSelf = (name: string) => ({
    effect: 'Allow',
    actions: ['lambda:InvokeFunction'],
    resources: [`arn:AWS::Partition:lambda:AWS::Region:AWS::AccountId:function:promo-jobs-test-${name}`],
  });

  // What each table grant allows, as IAM reads it: `dynamodb:LeadingKeys` is the partition key of
  // every item a request touches (each item of a transaction or batch), and ForAllValues requires
  // each of them to match one of the listed values (StringEquals) or patterns (StringLike, `*`);
  // `Null: false` refuses a request that carries no key at all, for which ForAllValues would hold.
  const onlyPartitions = (operator: 'StringEquals' | 'StringLike', partitions: string[]) => ({
    [`ForAllValues:${operator}`]: { 'dynamodb:LeadingKeys': partitions },
    Null: { 'dynamodb:LeadingKeys': ['false'] },
  });
  const onTable = (actions: string[], conditions: ReturnType<typeof onlyPartitions>) => ({
    effect: 'Allow',
    actions,
    resources: [`${tableId}.Arn`],
    conditions,
  });
  const ownJobItems = (name: string) =>
    // Its lease (take, renew, read, release) and its job-run items (report, checkpoint, and the
    // continuation's check of it): JOB#<job>, and no other job's.
    onTable(
      ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
      onlyPartitions('StringEquals', [`JOB#${name}`]),
    );

  it('expire may Put/Delete only its own JOB# items, Update those and promotions, Query the due index, invoke itself; nothing more', () => {
    const job = jobOf('expire');
    expect(grants(roleStatements(template, roleOf(job.function)))).toEqual(
      grants([
        logs(job.function),
        ownJobItems('expire'),
        // Promotions: UpdateItem in merchants' partitions only (no Put or Delete there).
        onTable(['dynamodb:UpdateItem'], onlyPartitions('StringLike', ['MERCHANT#*'])),
        { effect: 'Allow', actions: ['dynamodb:Query'], resources: [`${tableId}.Arn/index/due`] },
        invokeSelf('expire'),
        sendTo(job.failures),
      ]),
    );
  });

  it('activate may also enrol: Put and check merchant items, read and mark program progress, Query the onboarded index; nothing more', () => {
    const job = jobOf('activate');
    expect(grants(roleStatements(template, roleOf(job.function)))).toEqual(
      grants([
        logs(job.function),
        ownJobItems('activate'),
        onTable(['dynamodb:UpdateItem'], onlyPartitions('StringLike', ['MERCHANT#*'])),
        // Late enrolment: a BatchGet of enrolments, a transaction of a profile check and a Put.
        onTable(
          ['dynamodb:BatchGetItem', 'dynamodb:ConditionCheckItem', 'dynamodb:PutItem'],
          onlyPartitions('StringLike', ['MERCHANT#*']),
        ),
        // The programs and how far their enrolment went.
        onTable(['dynamodb:PutItem', 'dynamodb:Query'], onlyPartitions('StringEquals', ['PROGRAM'])),
        { effect: 'Allow', actions: ['dynamodb:Query'], resources: [`${tableId}.Arn/index/due`] },
        { effect: 'Allow', actions: ['dynamodb:Query'], resources: [`${tableId}.Arn/index/onboarded`] },
        invokeSelf('activate'),
        sendTo(job.failures),
      ]),
    );
  });

  it("cart-policies may Put/Delete only its own JOB# items, read and update policies, flags and merchants' policy states, Query the audience and onboarded indexes, invoke itself; nothing more", () => {
    const job = cartPolicies;
    expect(grants(roleStatements(template, roleOf(job.function)))).toEqual(
      grants([
        logs(job.function),
        ownJobItems('cart-policies'),
        // The calendar and the flags: Query them, UpdateItem (in force, flag moved); never Put or Delete.
        onTable(
          ['dynamodb:Query', 'dynamodb:UpdateItem'],
          onlyPartitions('StringEquals', ['CART_POLICY', 'FLAG']),
        ),
        // Merchants' notice states: UpdateItem, and GetItem for a dry run.
        onTable(['dynamodb:GetItem', 'dynamodb:UpdateItem'], onlyPartitions('StringLike', ['MERCHANT#*'])),
        { effect: 'Allow', actions: ['dynamodb:Query'], resources: [`${tableId}.Arn/index/audience`] },
        // Every merchant, for a fee policy that prices shop links (never a Scan).
        { effect: 'Allow', actions: ['dynamodb:Query'], resources: [`${tableId}.Arn/index/onboarded`] },
        invokeSelf('cart-policies'),
        sendTo(job.failures),
      ]),
    );
  });

  it('the recorder may read and write merchant items only (transactions included) and read the programs, nothing more', () => {
    const fn = stack.recorder.function;
    expect(grants(roleStatements(template, roleOf(fn)))).toEqual(
      grants([
        logs(fn),
        onTable(
          [
            'dynamodb:BatchGetItem',
            'dynamodb:GetItem',
            'dynamodb:PutItem',
            'dynamodb:Query',
            'dynamodb:UpdateItem',
          ],
          onlyPartitions('StringLike', ['MERCHANT#*']),
        ),
        onTable(['dynamodb:Query'], onlyPartitions('StringEquals', ['PROGRAM'])),
        sendTo(stack.recorder.failures),
      ]),
    );
  });

  it('every statement on the table itself is limited by LeadingKeys (indexes and stream are read-only)', () => {
    const perRole = Object.keys(resourcesOfType(template, 'AWS::IAM::Role')).map((roleId) =>
      roleStatements(template, roleId).filter((s) => s.resources.includes(`${tableId}.Arn`)),
    );
    const onTheTable = perRole.flat();
    // Counted as each role's grants (action × conditions, as the role tests above list them: expire 5,
    // activate 10, cart-policies 8, recorder 6), not statements: how many statements carry them is
    // CDK's business (@aws-cdk/aws-iam:minimizePolicies merges those with the same conditions).
    expect(perRole.reduce((n, statements) => n + grants(statements).length, 0)).toBe(29);
    for (const statement of onTheTable) {
      const operators = Object.keys(statement.conditions ?? {});
      expect(operators, JSON.stringify(statement)).toHaveLength(2);
      expect(operators).toContain('Null');
      expect(statement.conditions?.Null).toEqual({ 'dynamodb:LeadingKeys': ['false'] });
      const [leading] = operators.filter((o) => o !== 'Null');
      expect(leading).toMatch(/^ForAllValues:String(Equals|Like)$/);
      expect(Object.keys(statement.conditions?.[leading as string] ?? {})).toEqual(['dynamodb:LeadingKeys']);
    }
  });

  // Requests as IAM would see them, against each role's synthesized statements: which items each
  // function can write (docs/infrastructure.md, "Who can write what"). Keys from shared/store/keys.ts.
  const items = {
    merchant: merchantPk('merchant-a'),
    policy: CART_POLICY_PK,
    flag: FLAG_PK,
  };
  const may = (fn: { role: unknown }, action: string, partitions: string[] | undefined) =>
    roleStatements(template, roleOf(fn)).some(
      (s) =>
        s.effect === 'Allow' &&
        s.actions.includes(action) &&
        s.resources.includes(`${tableId}.Arn`) &&
        conditionsHold(s.conditions, partitions ? { 'dynamodb:LeadingKeys': partitions } : {}),
    );
  const writes = ['dynamodb:PutItem', 'dynamodb:DeleteItem', 'dynamodb:UpdateItem'];

  it.each(JOB_NAMES)("%s can read and write its own lease and runs, and no other job's", (name) => {
    const fn = jobOf(name).function;
    for (const action of [...writes, 'dynamodb:GetItem']) {
      expect(may(fn, action, [jobPk(name)]), action).toBe(true);
      for (const other of JOB_NAMES.filter((n) => n !== name)) {
        expect(may(fn, action, [jobPk(other)]), `${action} ${other}`).toBe(false);
      }
      // No key in the request (a Scan-like call): refused, not waved through by ForAllValues.
      expect(may(fn, action, undefined), `${action} without a key`).toBe(false);
    }
  });

  it.each([
    ['activate', true],
    ['expire', false],
  ])(
    '%s can update promotions (create them: %s) but delete no merchant item, and touch no policy or flag',
    (name, enrols) => {
      const fn = jobOf(name).function;
      expect(may(fn, 'dynamodb:UpdateItem', [items.merchant])).toBe(true);
      expect(may(fn, 'dynamodb:PutItem', [items.merchant])).toBe(enrols);
      expect(may(fn, 'dynamodb:DeleteItem', [items.merchant])).toBe(false);
      for (const action of writes) {
        expect(may(fn, action, [items.policy]), action).toBe(false);
        expect(may(fn, action, [items.flag]), action).toBe(false);
      }
    },
  );

  it("cart-policies can update policies, flags and merchants' states, but put or delete none of them", () => {
    const fn = cartPolicies.function;
    for (const pk of [items.policy, items.flag, items.merchant]) {
      expect(may(fn, 'dynamodb:UpdateItem', [pk]), pk).toBe(true);
      expect(may(fn, 'dynamodb:PutItem', [pk]), pk).toBe(false); // announcing a policy is the CLI's
      expect(may(fn, 'dynamodb:DeleteItem', [pk]), pk).toBe(false);
    }
    expect(may(fn, 'dynamodb:Query', [items.policy])).toBe(true);
    expect(may(fn, 'dynamodb:Query', [items.merchant])).toBe(false);
  });

  it('the recorder can write merchant items only: no job, policy or flag item, no delete', () => {
    const fn = stack.recorder.function;
    expect(may(fn, 'dynamodb:PutItem', [items.merchant])).toBe(true);
    expect(may(fn, 'dynamodb:UpdateItem', [items.merchant])).toBe(true);
    expect(may(fn, 'dynamodb:DeleteItem', [items.merchant])).toBe(false);
    for (const pk of [...JOB_NAMES.map(jobPk), items.policy, items.flag, 'MERCHANTS', 'PROGRAM']) {
      for (const action of writes) expect(may(fn, action, [pk]), `${action} ${pk}`).toBe(false);
    }
    // A batch is allowed only if every key in it is a merchant's.
    expect(may(fn, 'dynamodb:BatchGetItem', [items.merchant, merchantPk('merchant-b')])).toBe(true);
    expect(may(fn, 'dynamodb:BatchGetItem', [items.merchant, jobPk('activate')])).toBe(false);
  });

  it('the notifier may read the stream, publish to its topic and use its key; it has no table access', () => {
    const fn = stack.notifier.function;
    expect(grants(roleStatements(template, roleOf(fn)))).toEqual(
      grants([
        logs(fn),
        { effect: 'Allow', actions: ['sns:Publish'], resources: [idOf(stack.notifier.topic)] },
        {
          effect: 'Allow',
          actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          resources: [`${idOf(stack.notifier.key)}.Arn`],
        },
        {
          effect: 'Allow',
          actions: ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator'],
          resources: [`${tableId}.StreamArn`],
        },
        { effect: 'Allow', actions: ['dynamodb:ListStreams'], resources: [`${tableId}.StreamArn`] },
        sendTo(stack.notifier.failures),
      ]),
    );
  });

  it('each schedule may invoke only its own function and write only to its own DLQ', () => {
    for (const job of allJobs) {
      const roleId = idOf(job.schedulerRole);
      const fnId = idOf(job.function.fn);
      expect(grants(roleStatements(template, roleId))).toEqual(
        grants([
          {
            effect: 'Allow',
            actions: ['lambda:InvokeFunction'],
            resources: [`${fnId}.Arn`, `${fnId}.Arn:*`].sort(),
          },
          { effect: 'Allow', actions: ['sqs:SendMessage'], resources: [`${idOf(job.failures)}.Arn`] },
        ]),
      );
    }
  });

  it('no IAM statement anywhere has a wildcard action, and no role uses a managed policy', () => {
    const actions: string[] = [];
    for (const policy of Object.values(resourcesOfType(template, 'AWS::IAM::Policy'))) {
      const document = policy.Properties?.PolicyDocument as { Statement: { Action: string | string[] }[] };
      for (const statement of document.Statement) actions.push(...[statement.Action].flat());
    }
    expect(actions.length).toBeGreaterThan(10);
    expect(actions).not.toContain('*');
    expect(actions.filter((a) => /^dynamodb:.*\*/.test(a))).toEqual([]);
    // The only wildcard: kms:GenerateDataKey* (GenerateDataKey and …WithoutPlaintext, for SNS SSE).
    expect([...new Set(actions.filter((a) => a.includes('*')))]).toEqual(['kms:GenerateDataKey*']);
    for (const role of Object.values(resourcesOfType(template, 'AWS::IAM::Role'))) {
      expect(role.Properties?.ManagedPolicyArns).toBeUndefined();
    }
  });
});

describe('encryption in transit and at rest', () => {
  it('every queue is encrypted and refuses requests without TLS', () => {
    const queues = resourcesOfType(template, 'AWS::SQS::Queue');
    expect(Object.keys(queues)).toHaveLength(allJobs.length + 2); // + the notifier's and the recorder's
    for (const [id, queue] of Object.entries(queues)) {
      expect(queue.Properties?.SqsManagedSseEnabled).toBe(true);
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: id }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Effect: 'Deny',
              Action: 'sqs:*',
              Principal: { AWS: '*' },
              Condition: { Bool: { 'aws:SecureTransport': 'false' } },
            }),
          ]),
        },
      });
    }
  });

  it('every topic is KMS-encrypted and refuses publishing without TLS', () => {
    const topics = resourcesOfType(template, 'AWS::SNS::Topic');
    expect(Object.keys(topics)).toHaveLength(2);
    for (const [id, topic] of Object.entries(topics)) {
      expect(asText(topic.Properties?.KmsMasterKeyId)).toMatch(/Key.*\.Arn$/);
      template.hasResourceProperties('AWS::SNS::TopicPolicy', {
        Topics: [{ Ref: id }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      });
    }
    for (const key of Object.values(resourcesOfType(template, 'AWS::KMS::Key'))) {
      expect(key.Properties?.EnableKeyRotation).toBe(true);
    }
  });
});

describe('service principals', () => {
  const statements = resourcePolicyStatements(template);
  const accountRef = 'AWS::AccountId';

  it('every KMS key policy: this account (root, so IAM policies apply), and services only for this account', () => {
    const keys = statements.filter((s) => s.type === 'AWS::KMS::Key');
    expect(new Set(keys.map((s) => s.where))).toEqual(
      new Set([idOf(stack.notifier.key), idOf(stack.operations.key)]),
    );
    for (const s of keys) {
      expect(s.effect).toBe('Allow');
      if (s.aws.length) expect(s.aws).toEqual(['arn:AWS::Partition:iam::AWS::AccountId:root']);
      if (!s.services.length) continue;
      expect(s.conditions.StringEquals?.['aws:SourceAccount'], JSON.stringify(s)).toEqual([accountRef]);
      expect(s.conditions.ArnLike?.['aws:SourceArn']?.[0], JSON.stringify(s)).toContain(`:${accountRef}:`);
    }
  });

  it("CloudWatch may use the alarm topic's key and publish to it only for this stage's alarms in this account", () => {
    const fromOurAlarms = {
      StringEquals: { 'aws:SourceAccount': [accountRef] },
      ArnLike: {
        'aws:SourceArn': ['arn:AWS::Partition:cloudwatch:AWS::Region:AWS::AccountId:alarm:promo-jobs-test-*'],
      },
    };
    const cloudwatch = statements.filter((s) => s.services.includes('cloudwatch.amazonaws.com'));
    expect(cloudwatch.map((s) => [s.where, s.actions, s.conditions])).toEqual([
      [idOf(stack.operations.key), ['kms:Decrypt', 'kms:GenerateDataKey*'], fromOurAlarms],
      [expect.stringMatching(/^OperationsAlarmTopicPolicy/), ['sns:Publish'], fromOurAlarms],
    ]);
    // Every alarm's ARN matches the pattern: alarm names all start with the stage's prefix.
    for (const alarm of Object.values(resourcesOfType(template, 'AWS::CloudWatch::Alarm'))) {
      expect(String(alarm.Properties?.AlarmName)).toMatch(/^promo-jobs-test-/);
    }
  });

  it('no resource policy anywhere lets a service act unless tied to this account (source account or ARN)', () => {
    const services = statements.filter((s) => s.services.length && s.effect === 'Allow');
    expect(services.length).toBeGreaterThanOrEqual(3);
    for (const s of services) {
      const sources = [
        ...(s.conditions.StringEquals?.['aws:SourceAccount'] ?? []),
        ...(s.conditions.ArnLike?.['aws:SourceArn'] ?? []),
        ...(s.conditions.ArnEquals?.['aws:SourceArn'] ?? []),
      ];
      // A source ARN of one of our resources (its Arn attribute) or an ARN in this account.
      expect(sources.length, `${s.where}: ${JSON.stringify(s)}`).toBeGreaterThan(0);
      for (const source of sources) expect(source).toMatch(/AWS::AccountId|\.Arn$/);
    }
    for (const permission of Object.values(resourcesOfType(template, 'AWS::Lambda::Permission'))) {
      expect(asText(permission.Properties?.SourceArn)).toMatch(/\.Arn$/);
    }
  });
});

describe('operations', () => {
  const alarms = Object.values(resourcesOfType(template, 'AWS::CloudWatch::Alarm')).map(
    (a) => a.Properties as Record<string, unknown>,
  );
  const alarmTopicId = idOf(stack.operations.topic);

  it('every failure queue has an alarm at depth > 0', () => {
    for (const queue of [
      ...allJobs.map((job) => job.failures),
      stack.notifier.failures,
      stack.recorder.failures,
    ]) {
      const alarm = alarms.find(
        (a) =>
          a.MetricName === 'ApproximateNumberOfMessagesVisible' &&
          asText((a.Dimensions as { Value: unknown }[])[0]?.Value) === `${idOf(queue)}.QueueName`,
      );
      expect(alarm).toMatchObject({
        Namespace: 'AWS/SQS',
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
      });
    }
  });

  it.each(['activate', 'expire', 'cart-policies'])(
    '%s: alarms on function errors, failed items, and no completed run for 25 h',
    (job) => {
      expect(alarms.find((a) => a.AlarmName === `promo-jobs-test-${job}-errors`)).toMatchObject({
        Namespace: 'AWS/Lambda',
        MetricName: 'Errors',
        Threshold: 1,
      });
      const dimensions = [
        { Name: 'job', Value: job },
        { Name: 'service', Value: SERVICE_NAME },
      ];
      expect(alarms.find((a) => a.AlarmName === `promo-jobs-test-${job}-failed-items`)).toMatchObject({
        Namespace: METRICS_NAMESPACE,
        MetricName: 'Failed',
        Dimensions: dimensions,
        Statistic: 'Sum',
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      });
      expect(alarms.find((a) => a.AlarmName === `promo-jobs-test-${job}-not-run`)).toMatchObject({
        Namespace: METRICS_NAMESPACE,
        MetricName: 'Runs',
        Dimensions: dimensions,
        Statistic: 'Sum',
        Period: 25 * 3600,
        EvaluationPeriods: 1,
        Threshold: 1,
        ComparisonOperator: 'LessThanThreshold',
        TreatMissingData: 'breaching',
      });
    },
  );

  it('no alarm watches throttles: a run waiting for the one before it (reserved concurrency 1) is not a failure', () => {
    // Lambda counts a throttled invocation in Throttles, never in Errors; a run that waited past its
    // 2 h maximum age lands in its failure queue, whose alarm fires (asserted above).
    expect(alarms.map((a) => a.MetricName)).not.toContain('Throttles');
    expect(
      alarms
        .filter((a) => a.Namespace === 'AWS/Lambda')
        .map((a) => a.MetricName)
        .sort(),
    ).toEqual([...Array(allJobs.length + 2).fill('Errors'), 'IteratorAge']);
  });

  it('every alarm notifies the operators topic (encrypted, CloudWatch may publish); no e-mail unless configured', () => {
    // 4 per job (errors, failed items, not run, failure queue), 3 for the notifier, 2 for the recorder.
    expect(alarms).toHaveLength(4 * allJobs.length + 5);
    for (const alarm of alarms) {
      expect((alarm.AlarmActions as unknown[]).map(asText)).toEqual([alarmTopicId]);
    }
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: alarmTopicId }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: 'sns:Publish',
          }),
        ]),
      },
    });
    template.resourceCountIs('AWS::SNS::Subscription', 0); // with an alarm e-mail: nag.test.ts
  });

  it('has a dashboard with runs, transitions, failures, lag, notices, DLQ depth and iterator age', () => {
    const dashboards = Object.values(resourcesOfType(template, 'AWS::CloudWatch::Dashboard'));
    expect(dashboards).toHaveLength(1);
    const body = JSON.stringify(dashboards[0]?.Properties?.DashboardBody);
    for (const metric of [
      'Runs',
      'Transitions',
      'Failed',
      'LagSeconds',
      'NoticesPublished',
      'NoticesFailed',
      'ApproximateNumberOfMessagesVisible',
      'IteratorAge',
    ]) {
      expect(body).toContain(`\\"${metric}\\"`);
    }
  });

  it.each(['activate', 'expire', 'cart-policies'])(
    '%s: has its dashboard row (runs and friends, lag, errors and duration) and its failure queue graphed',
    (name) => {
      const widgets = dashboardWidgets();
      const row = (title: string) => widgets.find((w) => w.properties.title === `${name}: ${title}`);
      const ours = ['PromoJobs', 'job', name, 'service', SERVICE_NAME];
      const metricNames = (title: string) =>
        (row(title)?.properties.metrics ?? [])
          .filter((m) => ours.every((part) => m.includes(part)))
          .map((m) => m[1]);
      expect(metricNames('runs, transitions, failed items, continuations (per day)')).toEqual([
        'Runs',
        'Transitions',
        'Failed',
        'Continuations',
      ]);
      expect(metricNames('lag behind schedule (s, max per day)')).toEqual(['LagSeconds']);
      expect(row('errors, throttles, duration (ms, max)')?.properties.metrics.map((m) => m[1])).toEqual([
        'Errors',
        'Throttles',
        'Duration',
      ]);
      const queues = widgets.find((w) => w.properties.title === 'failure queues: messages waiting (max)');
      expect(queues?.properties.metrics.map((m) => m.at(-1))).toContainEqual(
        expect.objectContaining({ label: name }),
      );
    },
  );
});

interface Widget {
  properties: { title?: string; metrics: (string | Record<string, unknown>)[][] };
}

/** The dashboard's widgets, with the values CloudFormation resolves (region, names) as "<token>". */
function dashboardWidgets(): Widget[] {
  const [dashboard] = Object.values(resourcesOfType(template, 'AWS::CloudWatch::Dashboard'));
  const body = dashboard?.Properties?.DashboardBody as { 'Fn::Join': [string, unknown[]] };
  const text = body['Fn::Join'][1].map((part) => (typeof part === 'string' ? part : '<token>')).join('');
  return (JSON.parse(text) as { widgets: Widget[] }).widgets.map((w) => ({
    properties: { title: w.properties.title, metrics: w.properties.metrics ?? [] },
  }));
}
