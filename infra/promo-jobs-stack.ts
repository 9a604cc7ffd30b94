// The deployable system: the table, one function per job on its schedule, the notifier and its topic,
// the recorder for upstream merchant events, and the alarms and dashboard that watch them.
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import { ScheduleGroup } from 'aws-cdk-lib/aws-scheduler';
import { NagSuppressions } from 'cdk-nag';
import type { Construct } from 'constructs';
import { JOB_NAMES } from '../shared/jobs/registry';
import { type MerchantProducer, MerchantRecorder } from './constructs/merchant-recorder';
import { Notifier } from './constructs/notifier';
import { Operations } from './constructs/operations';
import { PromoTable } from './constructs/promo-table';
import { ScheduledJob } from './constructs/scheduled-job';
import { scheduleGroupName } from './job-deployment';
import { merchantProducerRoleName, type StageConfig } from './stage';
import { jobAccess, RECORDER_ACCESS } from './table-access';

export interface PromoJobsStackProps extends StackProps {
  config: StageConfig;
}

export class PromoJobsStack extends Stack {
  public readonly table: PromoTable;
  public readonly jobs: ScheduledJob[];
  public readonly notifier: Notifier;
  public readonly recorder: MerchantRecorder;
  public readonly operations: Operations;

  constructor(scope: Construct, id: string, props: PromoJobsStackProps) {
    super(scope, id, props);
    const { config } = props;
    const { prefix } = config;
    // Business settings the functions read at cold start (shared/config.ts validates them there).
    const environment = { PROGRAM_START: config.programStart };

    this.table = new PromoTable(this, 'State', { tableName: config.tableName });
    const scheduleGroup = new ScheduleGroup(this, 'Schedules', {
      scheduleGroupName: scheduleGroupName(prefix),
    });

    // Every job of the registry (shared/jobs/registry.ts), on its schedule, with its table access.
    this.jobs = JOB_NAMES.map(
      (name) =>
        new ScheduledJob(this, `Job-${name}`, {
          job: name,
          access: jobAccess(name),
          prefix,
          table: this.table,
          scheduleGroup,
          enabled: !config.pausedJobs.includes(name),
          environment,
        }),
    );

    this.notifier = new Notifier(this, 'Notifier', {
      prefix,
      topicName: config.noticesTopicName,
      table: this.table,
      subscriptions: config.subscriptions,
      subscriberAccounts: config.subscriberAccounts,
    });
    this.recorder = new MerchantRecorder(this, 'Recorder', {
      prefix,
      producers: merchantProducers(this, config),
      table: this.table,
      access: RECORDER_ACCESS,
      environment,
    });
    this.operations = new Operations(this, 'Operations', {
      prefix,
      alarmEmail: config.alarmEmail,
      jobs: this.jobs,
      notifier: this.notifier,
      recorder: this.recorder,
    });

    NagSuppressions.addStackSuppressions(this, [
      {
        id: 'AwsSolutions-L1',
        reason:
          'Runtime pinned to nodejs22.x on purpose (infra/constructs/promo-function.ts RUNTIME): the code is tested on Node.js 20 here; moving to a newer runtime is a reviewed one-line change.',
      },
    ]);

    const output = (id: string, value: string, description: string) =>
      new CfnOutput(this, id, { value, description });
    output('TableName', this.table.table.tableName, 'The state table (TABLE_NAME for the CLI)');
    output('NoticesTopicArn', this.notifier.topic.topicArn, 'Notices to merchants (subscribe here)');
    output('AlarmTopicArn', this.operations.topic.topicArn, "Operators' alarms");
    output(
      'MerchantEventBusName',
      this.recorder.bus.eventBusName,
      'Send MerchantOnboarded / MerchantViolation here',
    );
    output('DashboardName', this.operations.dashboard.dashboardName, 'CloudWatch dashboard');
    for (const j of this.jobs) {
      output(
        `${pascal(j.job)}FunctionName`,
        j.function.functionName,
        `aws lambda invoke --function-name for ${j.job}`,
      );
    }
  }
}

/** The stage's producer roles, or by default this account's `<prefix>-merchant-producer`. */
function merchantProducers(stack: Stack, config: StageConfig): MerchantProducer[] {
  if (config.merchantProducers) {
    // A validated role ARN: arn:<partition>:iam::<account>:role/<name>.
    return config.merchantProducers.map((roleArn) => ({ roleArn, account: roleArn.split(':')[4] as string }));
  }
  const roleArn = stack.formatArn({
    service: 'iam',
    region: '',
    account: stack.account,
    resource: 'role',
    resourceName: merchantProducerRoleName(config.prefix),
  });
  return [{ roleArn, account: stack.account }];
}

const pascal = (name: string) =>
  name
    .split(/[^A-Za-z0-9]/)
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
