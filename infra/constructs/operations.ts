// What an operator watches: alarms (to an operators' topic, e-mailed when an address is configured)
// and one dashboard. Metric names and dimensions are the ones shared/lambda/*-handler.ts emit through
// Powertools: namespace PromoJobs, dimensions { service } (+ { job } for the jobs).
import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import {
  Alarm,
  AlarmStatusWidget,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  type IMetric,
  Metric,
  TextWidget,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { Effect, PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { Key } from 'aws-cdk-lib/aws-kms';
import type { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE, SERVICE_NAME } from '../../shared/lambda/runtime';
import { encryptedTopic } from './encrypted-topic';
import type { MerchantRecorder } from './merchant-recorder';
import type { Notifier } from './notifier';
import type { PromoFunction } from './promo-function';
import type { ScheduledJob } from './scheduled-job';

/** A stream backlog this old means notices are late: the notifier is failing or cannot keep up. */
const ITERATOR_AGE_ALARM = Duration.minutes(15);
/** How much later than its period a job may complete a run before "has not run" fires. */
const NOT_RUN_GRACE = Duration.hours(1);

export interface OperationsProps {
  prefix: string;
  alarmEmail: string | undefined;
  jobs: ScheduledJob[];
  notifier: Notifier;
  recorder: MerchantRecorder;
}

export class Operations extends Construct {
  public readonly topic: Topic;
  public readonly key: Key;
  public readonly alarms: Alarm[] = [];
  public readonly dashboard: Dashboard;
  private readonly prefix: string;

  constructor(scope: Construct, id: string, props: OperationsProps) {
    super(scope, id);
    const { prefix, jobs, notifier, recorder } = props;
    this.prefix = prefix;

    const cloudwatch = new ServicePrincipal('cloudwatch.amazonaws.com');
    ({ topic: this.topic, key: this.key } = encryptedTopic(this, 'AlarmTopic', {
      topicName: `${prefix}-alarms`,
      displayName: `${prefix} alarms`,
      keyAlias: `alias/${prefix}-alarms`,
      keyDescription: `${prefix}: encrypts the operators' alarm topic`,
    }));
    // CloudWatch publishes alarms to the encrypted topic: it needs the topic's permission and the key
    // (AWS's documented statement). Both are tied to this stage's alarms in this account — CloudWatch
    // passes the alarm as aws:SourceArn and its account as aws:SourceAccount, to SNS and to KMS — so
    // no alarm of another account (confused deputy) or of another stage can use them.
    const stack = Stack.of(this);
    const fromOurAlarms = {
      StringEquals: { 'aws:SourceAccount': stack.account },
      ArnLike: {
        'aws:SourceArn': stack.formatArn({
          service: 'cloudwatch',
          resource: 'alarm',
          resourceName: `${prefix}-*`,
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
      },
    };
    this.key.addToResourcePolicy(
      new PolicyStatement({
        effect: Effect.ALLOW,
        principals: [cloudwatch],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: fromOurAlarms,
      }),
    );
    this.topic.addToResourcePolicy(
      new PolicyStatement({
        effect: Effect.ALLOW,
        principals: [cloudwatch],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: fromOurAlarms,
      }),
    );
    if (props.alarmEmail) this.topic.addSubscription(new EmailSubscription(props.alarmEmail));

    for (const job of jobs) {
      const dims = { service: SERVICE_NAME, job: job.job };
      this.errorsAlarm(job.job, job.function);
      this.alarm(`${job.job}-failed-items`, {
        description: `${job.job}: a run reported failed items (they stay due; the next run retries them). See the run's "job run" log line.`,
        metric: promoMetric('Failed', dims, Duration.minutes(5)),
        threshold: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
      this.alarm(`${job.job}-not-run`, {
        description: `${job.job}: no run completed in the last ${job.period.plus(NOT_RUN_GRACE).toHours()} h (schedule paused or failing, or the function cannot finish).`,
        metric: promoMetric('Runs', dims, job.period.plus(NOT_RUN_GRACE)),
        threshold: 1,
        comparisonOperator: ComparisonOperator.LESS_THAN_THRESHOLD,
        // No data at all is exactly the failure this alarm is for.
        treatMissingData: TreatMissingData.BREACHING,
      });
      this.queueAlarm(job.job, job.failures);
    }
    this.errorsAlarm('notifier', notifier.function);
    this.alarm('notifier-iterator-age', {
      description: `notifier: the stream backlog is older than ${ITERATOR_AGE_ALARM.toMinutes()} min; notices are late.`,
      metric: notifier.function.fn.metric('IteratorAge', {
        statistic: 'Maximum',
        period: Duration.minutes(5),
      }),
      threshold: ITERATOR_AGE_ALARM.toMilliseconds(),
      evaluationPeriods: 3,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    this.queueAlarm('notifier', notifier.failures);
    this.errorsAlarm('recorder', recorder.function);
    this.queueAlarm('recorder', recorder.failures);

    this.dashboard = new Dashboard(this, 'Dashboard', {
      dashboardName: prefix,
      defaultInterval: Duration.days(14),
    });
    const day = Duration.days(1);
    const hour = Duration.hours(1);
    this.dashboard.addWidgets(
      new TextWidget({
        markdown: `# ${prefix}\nJobs run daily (Asia/Shanghai); counts are per UTC day. Runbook: docs/infrastructure.md in the repository.`,
        width: 24,
        height: 2,
      }),
      new AlarmStatusWidget({ title: 'Alarms', alarms: this.alarms, width: 24, height: 4 }),
    );
    for (const job of jobs) {
      const dims = { service: SERVICE_NAME, job: job.job };
      this.dashboard.addWidgets(
        graph(`${job.job}: runs, transitions, failed items, continuations (per day)`, [
          promoMetric('Runs', dims, day),
          promoMetric('Transitions', dims, day),
          promoMetric('Failed', dims, day),
          promoMetric('Continuations', dims, day),
        ]),
        graph(`${job.job}: lag behind schedule (s, max per day)`, [
          promoMetric('LagSeconds', dims, day, 'Maximum'),
        ]),
        // Throttles are a run waiting for the one before it (reserved concurrency 1), not a failure:
        // graphed, never alarmed.
        graph(`${job.job}: errors, throttles, duration (ms, max)`, [
          job.function.fn.metricErrors({ period: day, statistic: 'Sum' }),
          job.function.fn.metricThrottles({ period: day, statistic: 'Sum' }),
          job.function.fn.metricDuration({ period: day, statistic: 'Maximum' }),
        ]),
      );
    }
    const service = { service: SERVICE_NAME };
    this.dashboard.addWidgets(
      graph('notices published / failed (per hour)', [
        promoMetric('NoticesPublished', service, hour),
        promoMetric('NoticesFailed', service, hour),
        promoMetric('StreamRecords', service, hour),
      ]),
      graph('notifier: stream iterator age (ms, max)', [
        notifier.function.fn.metric('IteratorAge', { statistic: 'Maximum', period: Duration.minutes(5) }),
      ]),
      graph('failure queues: messages waiting (max)', [
        ...jobs.map((job) => queueDepth(job.failures, job.job)),
        queueDepth(notifier.failures, 'notifier'),
        queueDepth(recorder.failures, 'recorder'),
      ]),
    );
    this.dashboard.addWidgets(
      graph('recorder: merchant events by outcome (per hour)', [
        ...[
          'MerchantsCreated',
          'MerchantsUpdated',
          'EventsUnchanged',
          'EventsStale',
          'PromotionsRevoked',
          'RevocationsRefused',
        ].map((name) => promoMetric(name, service, hour)),
      ]),
      graph('errors (all functions, per hour)', [
        ...jobs.map((job) => job.function.fn.metricErrors({ period: hour, label: job.job })),
        notifier.function.fn.metricErrors({ period: hour, label: 'notifier' }),
        recorder.function.fn.metricErrors({ period: hour, label: 'recorder' }),
      ]),
    );
  }

  private alarm(
    name: string,
    props: {
      description: string;
      metric: IMetric;
      threshold: number;
      comparisonOperator: ComparisonOperator;
      treatMissingData: TreatMissingData;
      evaluationPeriods?: number;
    },
  ): Alarm {
    const alarm = new Alarm(this, name, {
      alarmName: `${this.prefix}-${name}`,
      alarmDescription: props.description,
      metric: props.metric,
      threshold: props.threshold,
      comparisonOperator: props.comparisonOperator,
      evaluationPeriods: props.evaluationPeriods ?? 1,
      treatMissingData: props.treatMissingData,
    });
    alarm.addAlarmAction(new SnsAction(this.topic));
    alarm.addOkAction(new SnsAction(this.topic));
    this.alarms.push(alarm);
    return alarm;
  }

  private errorsAlarm(name: string, fn: PromoFunction): Alarm {
    return this.alarm(`${name}-errors`, {
      description: `${name}: the function failed (invocation error or timeout). Logs: ${fn.logGroup.logGroupName}.`,
      metric: fn.fn.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
      threshold: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
  }

  private queueAlarm(name: string, queue: Queue): Alarm {
    return this.alarm(`${name}-failures-queue`, {
      description: `${name}: messages are waiting in ${queue.queueName}: work that did not happen. See docs/infrastructure.md ("Failure queues").`,
      metric: queueDepth(queue),
      threshold: 0,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
  }
}

function promoMetric(
  metricName: string,
  dimensionsMap: Record<string, string>,
  period: Duration,
  statistic = 'Sum',
): Metric {
  return new Metric({ namespace: METRICS_NAMESPACE, metricName, dimensionsMap, period, statistic });
}

/** Messages waiting in a failure queue (a label only on the dashboard: an alarm takes the plain metric). */
function queueDepth(queue: Queue, label?: string): Metric {
  return queue.metricApproximateNumberOfMessagesVisible({
    period: Duration.minutes(5),
    statistic: 'Maximum',
    ...(label ? { label } : {}),
  });
}

function graph(title: string, left: IMetric[]): GraphWidget {
  return new GraphWidget({ title, left, width: 8, height: 6 });
}
