// One job: its function, its EventBridge schedule (the cron expression and time zone of its entry in
// shared/jobs/registry.ts), and the queue where runs that could not be delivered or did not finish end up.
import { Duration, Stack, TimeZone } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import {
  ContextAttribute,
  Schedule,
  ScheduleExpression,
  type ScheduleGroup,
  ScheduleTargetInput,
  TimeWindow,
} from 'aws-cdk-lib/aws-scheduler';
import { LambdaInvoke } from 'aws-cdk-lib/aws-scheduler-targets';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';
import { JOBS, type JobName } from '../../shared/jobs/registry';
import type { TableAccess } from '../../shared/store/access';
import {
  failureQueueName,
  RUN_MAX_AGE_SECONDS,
  RUN_RETRY_ATTEMPTS,
  SCHEDULER_RETRY_ATTEMPTS,
  scheduleDescription,
  scheduleName,
  timeOfDay,
} from '../job-deployment';
import { failureQueue } from './failure-queue';
import { PromoFunction } from './promo-function';
import type { PromoTable } from './promo-table';

/** How long a run may still start after its scheduled time (infra/job-deployment.ts). */
const RUN_MAX_AGE = Duration.seconds(RUN_MAX_AGE_SECONDS);
/**
 * Jobs: 1024 MB (arm64 CPU scales with memory; a sweep marshals thousands of items with 32 writes in
 * flight) and the 15-minute maximum, so a manual backfill `{ from, to }` of many days fits in one
 * invocation. A scheduled run of a day's cohort takes seconds to a few minutes.
 */
const JOB_MEMORY_MB = 1024;
const JOB_TIMEOUT = Duration.minutes(15);
/**
 * One invocation of a job at a time, enforced by Lambda as well as by the job's lease. An
 * asynchronous invocation that finds it busy (the schedule, a continuation invoked while its parent
 * is still returning, a manual `--invocation-type Event`) waits in Lambda's queue and is retried
 * until RUN_MAX_AGE, then parked in the failure queue; a synchronous one is refused at once (429).
 * Throttles are not `Errors`, so no alarm fires for a wait. See docs/infrastructure.md ("One run at a time").
 */
const JOB_CONCURRENCY = 1;

export interface ScheduledJobProps {
  job: JobName;
  /** What this job's code does to the table (infra/table-access.ts jobAccess). */
  access: TableAccess;
  prefix: string;
  table: PromoTable;
  scheduleGroup: ScheduleGroup;
  /** false deploys the schedule DISABLED (paused); the function can still be invoked by hand. */
  enabled: boolean;
  environment?: Record<string, string>;
}

export class ScheduledJob extends Construct {
  public readonly job: JobName;
  public readonly function: PromoFunction;
  /** Scheduler DLQ and Lambda on-failure destination in one: "this run did not happen". */
  public readonly failures: Queue;
  public readonly schedule: Schedule;
  /** What EventBridge Scheduler assumes to invoke the function and dead-letter a run. */
  public readonly schedulerRole: Role;
  /** How often the job runs (a registry schedule is daily); the "has not run" alarm waits a little longer. */
  public readonly period = Duration.days(1);

  constructor(scope: Construct, id: string, props: ScheduledJobProps) {
    super(scope, id);
    const { job, prefix } = props;
    this.job = job;
    const at = JOBS[job].schedule;
    const time = timeOfDay(job);

    this.function = new PromoFunction(this, 'Function', {
      name: job,
      prefix,
      description: `${job}: daily at ${time} ${at.timeZone}, or by hand with { asOf } / { from, to } [dryRun]`,
      memorySize: JOB_MEMORY_MB,
      timeout: JOB_TIMEOUT,
      reservedConcurrency: JOB_CONCURRENCY,
      environment: props.environment,
    })
      .bindTable(props.table, props.access)
      .allowSelfInvoke();

    this.failures = failureQueue(
      this,
      'Failures',
      failureQueueName(prefix, job),
      `${job} runs the scheduler could not deliver, or that failed after Lambda's retries`,
    );
    this.function.fn.configureAsyncInvoke({
      retryAttempts: RUN_RETRY_ATTEMPTS,
      maxEventAge: RUN_MAX_AGE,
      onFailure: new SqsDestination(this.failures),
    });

    // Our own role per schedule (the L2 would share one at stack level): only EventBridge Scheduler,
    // only for schedules in our group, may assume it; LambdaInvoke and the DLQ add their grants.
    this.schedulerRole = new Role(this, 'SchedulerRole', {
      assumedBy: new ServicePrincipal('scheduler.amazonaws.com', {
        conditions: {
          StringEquals: {
            'aws:SourceAccount': Stack.of(this).account,
            'aws:SourceArn': props.scheduleGroup.scheduleGroupArn,
          },
        },
      }),
      description: `${prefix}-${job} schedule: invoke the ${job} function, dead-letter to its failure queue`,
    });
    this.schedule = new Schedule(this, 'Schedule', {
      scheduleName: scheduleName(prefix, job),
      scheduleGroup: props.scheduleGroup,
      description: scheduleDescription(job),
      schedule: ScheduleExpression.expression(at.cron, TimeZone.of(at.timeZone)),
      // Exactly at the scheduled minute: the run's asOf is the scheduled time either way, but operators
      // and merchants expect 00:00 to mean 00:00.
      timeWindow: TimeWindow.off(),
      enabled: props.enabled,
      target: new LambdaInvoke(this.function.fn, {
        role: this.schedulerRole,
        // The handlers accept exactly { scheduledTime } (shared/jobs/input.ts); nothing else is sent.
        input: ScheduleTargetInput.fromObject({ scheduledTime: ContextAttribute.scheduledTime }),
        retryAttempts: SCHEDULER_RETRY_ATTEMPTS,
        maxEventAge: RUN_MAX_AGE,
        deadLetterQueue: this.failures,
      }),
    });
    // After the target has added its grants: the suppression covers the policy it created.
    NagSuppressions.addResourceSuppressions(
      this.schedulerRole,
      [
        {
          id: 'AwsSolutions-IAM5',
          reason:
            "CDK's LambdaInvoke target grants lambda:InvokeFunction on this one function and its qualified ARNs (<function arn>:*, versions and aliases); no other function.",
          appliesTo: [{ regex: '/^Resource::<.*Function.*\\.Arn>:\\*$/' }],
        },
      ],
      true,
    );
  }
}
