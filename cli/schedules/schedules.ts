// The jobs' schedules as operators see them (`schedules list|describe|pause|resume`): locally from the
// job registry (there is no scheduler, so nothing fires), or with `--aws` the deployed EventBridge
// Scheduler schedules and their failure queues, found by the names the stack gives them
// (infra/job-deployment.ts). Pause and resume are a read-modify-write of the whole schedule
// definition, since UpdateSchedule replaces every property it is not given.

import { hostname, userInfo } from 'node:os';
import {
  GetScheduleCommand,
  type GetScheduleOutput,
  ResourceNotFoundException,
  SchedulerClient,
  type ScheduleState,
  UpdateScheduleCommand,
  type UpdateScheduleInput,
} from '@aws-sdk/client-scheduler';
import {
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  QueueDoesNotExist,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { DateTime } from 'luxon';
import * as z from 'zod';
import {
  DEFAULT_STAGE,
  failureQueueName,
  RUN_MAX_AGE_SECONDS,
  RUN_RETRY_ATTEMPTS,
  SCHEDULER_RETRY_ATTEMPTS,
  STAGE_NAME,
  scheduleDescription,
  scheduleGroupName,
  scheduleName,
  stagePrefix,
} from '../../infra/job-deployment';
import type { Deps } from '../../shared/deps';
import { InputError, NotFoundError } from '../../shared/errors';
import { JOBS, type JobName } from '../../shared/jobs/registry';
import { latestRun } from '../../shared/store/job-runs';
import { formatInstant, type Instant } from '../../shared/time';
import { parseOptions } from '../framework';
import { requireRegion } from '../store';
import { fireInstants, UnsupportedScheduleExpression } from './cron';

/**
 * A schedule's state: ENABLED / DISABLED as the deployed schedule says; NOT_FOUND when the stage has no
 * such schedule; NO_SCHEDULER locally, where nothing fires (jobs run by hand with `run`).
 */
export type ScheduleView = 'ENABLED' | 'DISABLED' | 'NOT_FOUND' | 'NO_SCHEDULER';

export interface LastRun {
  asOf: Instant;
  complete: boolean;
  examined: number | null;
  changed: number | null;
  failed: number;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  attempts: number;
}

export interface ScheduleEntry {
  job: JobName;
  expression: string | null;
  timeZone: string | null;
  state: ScheduleView;
  /** The first instant it fires after now; null when it does not fire (disabled, missing, ended). */
  nextFireAt: Instant | null;
  lastRun: LastRun | null;
}

/** Where the deployed schedules are: the stage, and the names the stack gives its resources. */
export interface StageNames {
  stage: string;
  prefix: string;
  group: string;
}

export const stageNames = (stage: string): StageNames => ({
  stage,
  prefix: stagePrefix(stage),
  group: scheduleGroupName(stagePrefix(stage)),
});

/**
 * The stage the CLI looks at: `--stage`, else PROMO_JOBS_STAGE (what `cdk deploy` reads too), else the
 * stage whose default table `--table` names (`promo-jobs-prod` → prod), else dev. A warning when the
 * table is another stage's default table (the runs and the schedules would be of different stages).
 */
export function resolveCliStage(
  option: string | undefined,
  env: Record<string, string | undefined>,
  tableName: string,
): { names: StageNames; warning?: string } {
  const schema = z
    .string()
    .regex(STAGE_NAME, 'must be 1-20 lower-case letters, digits or "-", starting with a letter');
  const given = parseOptions(
    z.strictObject({ '--stage': schema.optional(), PROMO_JOBS_STAGE: schema.optional() }),
    {
      '--stage': option,
      PROMO_JOBS_STAGE: env.PROMO_JOBS_STAGE || undefined,
    },
  );
  const rest = tableName.startsWith(stagePrefix('')) ? tableName.slice(stagePrefix('').length) : '';
  const fromTable = STAGE_NAME.test(rest) ? rest : undefined;
  const stage = given['--stage'] ?? given.PROMO_JOBS_STAGE ?? fromTable ?? DEFAULT_STAGE;
  const warning =
    fromTable !== undefined && fromTable !== stage
      ? `warning: the table ${tableName} is stage ${fromTable}'s, but the schedules are stage ${stage}'s (--stage ${fromTable}?)`
      : undefined;
  return { names: stageNames(stage), ...(warning ? { warning } : {}) };
}

/** The latest recorded run of a job, as the list shows it. */
export async function lastRunOf(deps: Deps, job: JobName): Promise<LastRun | null> {
  const run = await latestRun(deps, job);
  if (!run) return null;
  const r = run.report;
  const num = (v: unknown) => (typeof v === 'number' ? v : null);
  const str = (v: unknown) => (typeof v === 'string' ? v : null);
  return {
    asOf: run.asOf,
    // A run that stopped early says so; items recorded before `complete` existed were complete.
    complete: r.complete !== false,
    examined: num(r.examined),
    changed: num(r.changed),
    failed: r.failed,
    startedAt: str(r.startedAt),
    finishedAt: str(r.finishedAt),
    durationMs: num(r.durationMs),
    attempts: run.attempts,
  };
}

/** What a schedule says about when it fires: its expression, zone and optional start and end. */
interface Timing {
  expression: string;
  timeZone: string;
  startDate?: Date;
  endDate?: Date;
}

/**
 * The next `count` instants a schedule fires after `now`, honouring its StartDate and EndDate; with a
 * problem (instead of a crash) when its expression is one this CLI cannot evaluate.
 */
export function nextFires(timing: Timing, now: DateTime, count: number): { at: Instant[]; problem?: string } {
  const start = timing.startDate
    ? DateTime.fromJSDate(timing.startDate).minus({ milliseconds: 1 })
    : undefined;
  const after = start && start > now ? start : now;
  const until = timing.endDate ? DateTime.fromJSDate(timing.endDate) : undefined;
  if (until && until <= after) return { at: [] };
  try {
    return { at: fireInstants(timing.expression, timing.timeZone, after, count, until) };
  } catch (error) {
    if (error instanceof UnsupportedScheduleExpression) return { at: [], problem: error.message };
    throw error;
  }
}

/** The registry's schedule of a job: what the stack deploys. */
export const registryTiming = (job: JobName): Timing => ({
  expression: JOBS[job].schedule.cron,
  timeZone: JOBS[job].schedule.timeZone,
});

/** What one job's schedule looks like, locally or deployed, with `count` fire instants. */
export interface ScheduleDetail {
  entry: ScheduleEntry;
  nextFireAts: Instant[];
  /** The deployed definition (--aws), if there is one. */
  deployed?: GetScheduleOutput;
  /** Something an operator should know: not deployed, drifted from the registry, not evaluated. */
  problems: string[];
}

/** A job's schedule with no scheduler: the registry's, which never fires here. */
export async function localSchedule(
  deps: Deps,
  job: JobName,
  now: DateTime,
  count: number,
): Promise<ScheduleDetail> {
  const timing = registryTiming(job);
  const fires = nextFires(timing, now, count);
  return {
    entry: {
      job,
      expression: timing.expression,
      timeZone: timing.timeZone,
      state: 'NO_SCHEDULER',
      nextFireAt: fires.at[0] ?? null,
      lastRun: await lastRunOf(deps, job),
    },
    nextFireAts: fires.at,
    problems: fires.problem ? [fires.problem] : [],
  };
}

/** The deployed schedule of a job, or undefined when the stage has none by its name. */
export async function getDeployedSchedule(
  scheduler: SchedulerClient,
  names: StageNames,
  job: JobName,
): Promise<GetScheduleOutput | undefined> {
  try {
    return await scheduler.send(
      new GetScheduleCommand({ Name: scheduleName(names.prefix, job), GroupName: names.group }),
    );
  } catch (error) {
    if (error instanceof ResourceNotFoundException || (error as Error).name === 'ResourceNotFoundException') {
      return undefined;
    }
    throw error;
  }
}

const notDeployed = (names: StageNames, job: JobName) =>
  `${job}: no schedule ${scheduleName(names.prefix, job)} in group ${names.group} (stage ${names.stage} not deployed to this account and Region, or another --stage?)`;

/** A job's deployed schedule, as the list and describe show it. */
export async function deployedSchedule(
  scheduler: SchedulerClient,
  deps: Deps,
  names: StageNames,
  job: JobName,
  now: DateTime,
  count: number,
): Promise<ScheduleDetail> {
  const [deployed, lastRun] = await Promise.all([
    getDeployedSchedule(scheduler, names, job),
    lastRunOf(deps, job),
  ]);
  if (!deployed) {
    return {
      entry: { job, expression: null, timeZone: null, state: 'NOT_FOUND', nextFireAt: null, lastRun },
      nextFireAts: [],
      problems: [notDeployed(names, job)],
    };
  }
  const problems: string[] = [];
  const expression = deployed.ScheduleExpression ?? null;
  // A schedule without a zone is evaluated in UTC (EventBridge Scheduler's default).
  const timeZone = deployed.ScheduleExpressionTimezone ?? 'UTC';
  const registry = registryTiming(job);
  if (expression !== registry.expression || timeZone !== registry.timeZone) {
    problems.push(
      `${job}: deployed as ${expression} in ${timeZone}, the registry says ${registry.expression} in ${registry.timeZone} (deploy the stack?)`,
    );
  }
  const state: ScheduleView = deployed.State === 'DISABLED' ? 'DISABLED' : 'ENABLED';
  let fires: Instant[] = [];
  if (state === 'ENABLED' && expression) {
    const next = nextFires(
      { expression, timeZone, startDate: deployed.StartDate, endDate: deployed.EndDate },
      now,
      count,
    );
    fires = next.at;
    if (next.problem) problems.push(`${job}: ${next.problem}`);
  }
  return {
    entry: { job, expression, timeZone, state, nextFireAt: fires[0] ?? null, lastRun },
    nextFireAts: fires,
    deployed,
    problems,
  };
}

export interface RetryPolicyView {
  maximumRetryAttempts: number | null;
  maximumEventAgeInSeconds: number | null;
  /** Lambda's own retries of a run that failed (the stack's setting; not read from AWS). */
  lambdaRetryAttempts: number;
  source: 'deployed schedule' | 'stack';
}

/** The stack's retry policy, or the deployed schedule's own. */
export function retryPolicyOf(deployed: GetScheduleOutput | undefined): RetryPolicyView {
  if (!deployed) {
    return {
      maximumRetryAttempts: SCHEDULER_RETRY_ATTEMPTS,
      maximumEventAgeInSeconds: RUN_MAX_AGE_SECONDS,
      lambdaRetryAttempts: RUN_RETRY_ATTEMPTS,
      source: 'stack',
    };
  }
  const policy = deployed.Target?.RetryPolicy;
  return {
    maximumRetryAttempts: policy?.MaximumRetryAttempts ?? null,
    maximumEventAgeInSeconds: policy?.MaximumEventAgeInSeconds ?? null,
    lambdaRetryAttempts: RUN_RETRY_ATTEMPTS,
    source: 'deployed schedule',
  };
}

export interface FailureQueueView {
  name: string;
  url: string | null;
  /** Messages waiting (ApproximateNumberOfMessages); null when not read. */
  depth: number | null;
  /** Messages received and not yet deleted (ApproximateNumberOfMessagesNotVisible). */
  inFlight: number | null;
  /** Why depth is null, when it is. */
  reason?: string;
}

/** The failure queue the stack names for a job, with no depth (locally there is no queue). */
export const localFailureQueue = (names: StageNames, job: JobName): FailureQueueView => ({
  name: failureQueueName(names.prefix, job),
  url: null,
  depth: null,
  inFlight: null,
  reason: `no failure queue locally: a local run is made by hand and reports its failures itself (stage ${names.stage}'s queue is read with --aws)`,
});

/**
 * The deployed failure queue of a job and its depth: the schedule's dead-letter queue (the name from its
 * ARN), else the name the stack gives it. A missing queue is reported, not thrown.
 */
export async function deployedFailureQueue(
  sqs: SQSClient,
  names: StageNames,
  job: JobName,
  deployed: GetScheduleOutput | undefined,
): Promise<FailureQueueView> {
  const arn = deployed?.Target?.DeadLetterConfig?.Arn;
  const name = arn?.split(':').at(-1) ?? failureQueueName(names.prefix, job);
  let url: string | undefined;
  try {
    url = (await sqs.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl;
  } catch (error) {
    if (!(error instanceof QueueDoesNotExist) && (error as Error).name !== 'QueueDoesNotExist') throw error;
  }
  if (!url)
    return {
      name,
      url: null,
      depth: null,
      inFlight: null,
      reason: `no queue ${name} in this account and Region`,
    };
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  const count = (v: string | undefined) => (v === undefined ? null : Number(v));
  return {
    name,
    url,
    depth: count(Attributes.ApproximateNumberOfMessages),
    inFlight: count(Attributes.ApproximateNumberOfMessagesNotVisible),
  };
}

/** What GetSchedule returns that UpdateSchedule does not take: set by the service. */
const READ_ONLY = ['Arn', 'CreationDate', 'LastModificationDate', '$metadata'] as const;
type Definition = Omit<GetScheduleOutput, (typeof READ_ONLY)[number]>;
/**
 * Every property of a schedule's definition, each carried from GetSchedule into UpdateSchedule. The
 * types make this exhaustive both ways: a property the SDK adds to GetSchedule's output fails to
 * compile until it is listed here, and so does one UpdateSchedule takes that GetSchedule does not
 * return (ClientToken aside: the SDK fills it in).
 */
const CARRIED = {
  Name: true,
  GroupName: true,
  ScheduleExpression: true,
  ScheduleExpressionTimezone: true,
  StartDate: true,
  EndDate: true,
  Description: true,
  State: true,
  KmsKeyArn: true,
  Target: true,
  FlexibleTimeWindow: true,
  ActionAfterCompletion: true,
} as const satisfies Record<keyof Definition, true>;
// Every property UpdateSchedule takes is one GetSchedule returns (and is carried).
const _UPDATE_COVERED: Record<Exclude<keyof UpdateScheduleInput, 'ClientToken'>, true> = CARRIED;
void _UPDATE_COVERED;
export const CARRIED_PROPERTIES = Object.keys(CARRIED) as (keyof Definition)[];

/**
 * The UpdateSchedule input that changes only `State` and `Description` of a schedule as GetSchedule
 * returned it: every other property carried over as it was (a deep copy), none left out.
 */
export function updateKeepingDefinition(
  current: GetScheduleOutput,
  change: { State: ScheduleState; Description: string },
): UpdateScheduleInput {
  const input: Record<string, unknown> = {};
  for (const key of CARRIED_PROPERTIES) {
    const value = current[key];
    if (value !== undefined) input[key] = structuredClone(value);
  }
  return {
    ...(input as unknown as UpdateScheduleInput),
    State: change.State,
    Description: change.Description,
  };
}

/** EventBridge Scheduler's limit on a schedule's description. */
export const MAX_DESCRIPTION = 512;

/** `paused <instant> by <who>: <reason>`: what a paused schedule's description says. */
export function pausedDescription(at: DateTime, by: string, reason: string): string {
  return `paused ${formatInstant(at)} by ${by}: ${reason}`;
}

export interface ToggleOutcome {
  job: JobName;
  schedule: string;
  group: string;
  changed: boolean;
  state: 'ENABLED' | 'DISABLED';
  previousState: 'ENABLED' | 'DISABLED';
  description: string | null;
  /** The one line that ends the command on stderr. */
  summary: string;
}

/**
 * Pauses (`DISABLED`, the reason in the description) or resumes (`ENABLED`, the stack's description
 * back) a job's deployed schedule. A schedule already so changes nothing. Throws NotFoundError when the
 * stage has no such schedule.
 */
export async function toggleSchedule(
  scheduler: SchedulerClient,
  names: StageNames,
  job: JobName,
  want: { action: 'pause'; reason: string; by: string; at: DateTime } | { action: 'resume' },
): Promise<ToggleOutcome> {
  const current = await getDeployedSchedule(scheduler, names, job);
  if (!current) throw new NotFoundError(notDeployed(names, job));
  const previousState = current.State === 'DISABLED' ? 'DISABLED' : 'ENABLED';
  const target = want.action === 'pause' ? 'DISABLED' : 'ENABLED';
  const base = {
    job,
    schedule: scheduleName(names.prefix, job),
    group: names.group,
    previousState,
  } as const;
  if (previousState === target) {
    return {
      ...base,
      changed: false,
      state: previousState,
      description: current.Description ?? null,
      summary:
        want.action === 'pause'
          ? `nothing changed: ${job} is already paused${current.Description ? ` (${current.Description})` : ''}`
          : `nothing changed: ${job} is not paused`,
    };
  }
  const description =
    want.action === 'pause' ? pausedDescription(want.at, want.by, want.reason) : scheduleDescription(job);
  if (want.action === 'pause' && description.length > MAX_DESCRIPTION) {
    const room = MAX_DESCRIPTION - (description.length - want.reason.length);
    throw new InputError(
      `--reason: must be at most ${room} characters here (the schedule's description holds ${MAX_DESCRIPTION}, with when and by whom)`,
    );
  }
  await scheduler.send(
    new UpdateScheduleCommand(updateKeepingDefinition(current, { State: target, Description: description })),
  );
  // A schedule deployed DISABLED (the stage's `paused` setting) has the stack's description, not a reason.
  const deployedPaused = want.action === 'resume' && !current.Description?.startsWith('paused ');
  return {
    ...base,
    changed: true,
    state: target,
    description,
    summary:
      want.action === 'pause'
        ? `paused ${job}`
        : `resumed ${job}${deployedPaused ? ' (it was deployed paused: the stage setting paused would pause it again at the next deploy that changes it)' : ''}`,
  };
}

/** The AWS clients the `--aws` schedules commands use (tests pass their own, or mock these). */
export interface ScheduleClients {
  scheduler: SchedulerClient;
  sqs: SQSClient;
  destroy(): void;
}

/** Scheduler and SQS clients on the standard credential chain; refuses at once when no Region is set. */
export async function openScheduleClients(): Promise<ScheduleClients> {
  const scheduler = new SchedulerClient({});
  const sqs = new SQSClient({});
  const destroy = () => {
    scheduler.destroy();
    sqs.destroy();
  };
  await requireRegion(scheduler, destroy);
  return { scheduler, sqs, destroy };
}

/** Who pauses, as the description records it: the OS user at this host. */
export function operatorName(env: Record<string, string | undefined>): string {
  let user: string | undefined;
  try {
    user = userInfo().username;
  } catch {
    user = env.USER;
  }
  return `${user || 'unknown'}@${hostname()}`;
}
