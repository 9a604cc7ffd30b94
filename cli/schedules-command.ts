// `schedules list|describe|pause|resume`: the jobs' schedules, when they fire next and what they last
// did; with `--aws` the deployed EventBridge Scheduler schedules, which pause and resume change.
import type { Command } from 'commander';
import { DateTime } from 'luxon';
import * as z from 'zod';
import { scheduleDescription, scheduleName } from '../infra/job-deployment';
import { InputError } from '../shared/errors';
import { jobNameSchema } from '../shared/jobs/input';
import { JOB_NAMES, type JobName } from '../shared/jobs/registry';
import { instantSchema, parseInstant } from '../shared/time';
import {
  type CommandContext,
  EXIT,
  group,
  type Invocation,
  outputOption,
  parseOptions,
  reasonSchema,
  runs,
} from './framework';
import {
  deployedFailureQueue,
  deployedSchedule,
  localFailureQueue,
  localSchedule,
  openScheduleClients,
  operatorName,
  resolveCliStage,
  retryPolicyOf,
  type ScheduleClients,
  type ScheduleDetail,
  type StageNames,
  toggleSchedule,
} from './schedules/schedules';

/** How many fire instants `describe` shows. */
const DESCRIBE_FIRES = 5;
const JOBS_TEXT = JOB_NAMES.join('|');

const STAGE_HELP =
  'with --aws: the stage whose schedules to read (PROMO_JOBS_STAGE; default: the stage of --table promo-jobs-<stage>, else dev)';
const AT_HELP = 'compute the next fire instants from this instant instead of now';

const jobOf = (args: Invocation['args']): JobName =>
  parseOptions(z.strictObject({ '<job>': jobNameSchema }), { '<job>': args[0] })['<job>'];

/** The stage, told on stderr with --aws (and warned about when --table is another stage's). */
function stageOf(options: Invocation['options'], ctx: CommandContext): StageNames {
  const { names, warning } = resolveCliStage(
    options.stage as string | undefined,
    ctx.env,
    ctx.config.tableName,
  );
  if (ctx.config.target === 'aws') {
    if (warning) ctx.progress(warning);
    ctx.progress(`schedules of stage ${names.stage} (group ${names.group})`);
  }
  return names;
}

/** `--at`, or the store's clock (the process clock). */
function nowOf(options: Invocation['options'], clock: () => DateTime): DateTime {
  const at = parseOptions(z.strictObject({ '--at': instantSchema.optional() }), { '--at': options.at })[
    '--at'
  ];
  return at ? parseInstant(at) : clock();
}

/** Each job's schedule (or one job's), with `count` fire instants; problems go to stderr. */
async function readSchedules(
  jobs: readonly JobName[],
  options: Invocation['options'],
  ctx: CommandContext,
  count: number,
  openClients: () => Promise<ScheduleClients>,
  then: (
    details: ScheduleDetail[],
    names: StageNames,
    clients: ScheduleClients | undefined,
  ) => Promise<unknown>,
) {
  const names = stageOf(options, ctx);
  const clients = ctx.config.target === 'aws' ? await openClients() : undefined;
  try {
    const { deps } = await ctx.store();
    const now = nowOf(options, deps.clock);
    const details = await Promise.all(
      jobs.map((job) =>
        clients
          ? deployedSchedule(clients.scheduler, deps, names, job, now, count)
          : localSchedule(deps, job, now, count),
      ),
    );
    for (const problem of details.flatMap((d) => d.problems)) ctx.progress(problem);
    const output = await then(details, names, clients);
    const missing = details.some((d) => d.entry.state === 'NOT_FOUND');
    return { output, exitCode: missing ? EXIT.failed : EXIT.ok };
  } finally {
    clients?.destroy();
  }
}

export function defineSchedules(
  program: Command,
  openClients: () => Promise<ScheduleClients> = openScheduleClients,
) {
  const schedules = group(
    program,
    'schedules',
    "The jobs' schedules: when each fires next, its last run; pause and resume the deployed ones.",
  );

  schedules
    .command('list')
    .usage('[--at <instant>] [--stage <stage>] [--output table]')
    .description("Each job's schedule: its expression, state, next fire instant and latest recorded run.")
    .option('--at <instant>', AT_HELP)
    .option('--stage <stage>', STAGE_HELP)
    .addOption(outputOption())
    .addHelpText(
      'after',
      `
Prints one line per job (JSON Lines): { job, expression, timeZone, state, nextFireAt, lastRun }
  expression, timeZone  the EventBridge Scheduler cron(…) and its zone: the registry's (shared/jobs/registry.ts),
                        or with --aws the deployed schedule's
  state                 NO_SCHEDULER locally (nothing fires here: run jobs by hand with run <job>);
                        with --aws ENABLED or DISABLED (paused), or NOT_FOUND (exit 1)
  nextFireAt            the first instant it fires after now (or --at); null when it does not fire
  lastRun               the latest recorded run { asOf, complete, examined, changed, failed, startedAt,
                        finishedAt, durationMs, attempts }, or null`,
    )
    .action(
      runs(async ({ options }, ctx) =>
        readSchedules(JOB_NAMES, options, ctx, 1, openClients, async (details) =>
          details.map((d) => d.entry),
        ),
      ),
    );

  schedules
    .command('describe')
    .usage(`<${JOBS_TEXT}> [--at <instant>] [--stage <stage>]`)
    .description("One job's schedule: its next 5 fire instants, retry policy and failure queue depth.")
    .argument('<job>', `one of ${JOB_NAMES.join(', ')}`)
    .option('--at <instant>', AT_HELP)
    .option('--stage <stage>', STAGE_HELP)
    .addHelpText(
      'after',
      `
Prints the list's entry and
  nextFireAts    the next ${DESCRIBE_FIRES} fire instants
  schedule       { name, group, description } (the description holds a pause's reason)
  retryPolicy    { maximumRetryAttempts, maximumEventAgeInSeconds, lambdaRetryAttempts, source }:
                 the deployed schedule's with --aws, else the stack's
  failureQueue   { name, url, depth, inFlight, reason }: with --aws the queue's ApproximateNumberOfMessages
                 (depth) and ApproximateNumberOfMessagesNotVisible (inFlight); locally null, with the reason`,
    )
    .action(
      runs(async ({ args, options }, ctx) => {
        const job = jobOf(args);
        return readSchedules(
          [job],
          options,
          ctx,
          DESCRIBE_FIRES,
          openClients,
          async ([detail], names, clients) => {
            if (!detail) return undefined;
            const { deployed } = detail;
            return {
              ...detail.entry,
              nextFireAts: detail.nextFireAts,
              schedule: {
                name: deployed?.Name ?? scheduleName(names.prefix, job),
                group: deployed?.GroupName ?? names.group,
                description: clients ? (deployed?.Description ?? null) : scheduleDescription(job),
              },
              retryPolicy: deployed || !clients ? retryPolicyOf(deployed) : null,
              failureQueue: clients
                ? await deployedFailureQueue(clients.sqs, names, job, deployed)
                : localFailureQueue(names, job),
            };
          },
        );
      }),
    );

  const toggle = (action: 'pause' | 'resume') =>
    runs(async ({ args, options }, ctx) => {
      const job = jobOf(args);
      const reason =
        action === 'pause'
          ? parseOptions(z.strictObject({ '--reason': reasonSchema }), { '--reason': options.reason })[
              '--reason'
            ]
          : undefined;
      if (ctx.config.target !== 'aws') {
        throw new InputError(
          `there is no local scheduler: nothing fires locally, so there is nothing to ${action}; run the job by hand when you want it (run ${job} --as-of <instant>), or ${action} the deployed schedule with --aws`,
        );
      }
      const names = stageOf(options, ctx);
      const clients = await openClients();
      try {
        const outcome = await toggleSchedule(
          clients.scheduler,
          names,
          job,
          reason === undefined
            ? { action: 'resume' }
            : { action: 'pause', reason, by: operatorName(ctx.env), at: DateTime.now() },
        );
        const { summary, ...output } = outcome;
        ctx.progress(summary);
        return { output };
      } finally {
        clients.destroy();
      }
    });

  schedules
    .command('pause')
    .usage(`<${JOBS_TEXT}> --reason <text> [--stage <stage>]`)
    .description("Pause a job's deployed schedule (--aws), keeping the rest of its definition.")
    .argument('<job>', `one of ${JOB_NAMES.join(', ')}`)
    .requiredOption('--reason <text>', 'why (kept in the schedule description, with when and by whom)')
    .option('--stage <stage>', STAGE_HELP)
    .addHelpText(
      'after',
      `
Sets the schedule DISABLED through EventBridge Scheduler (GetSchedule, then UpdateSchedule with every
other property as it was) and its description to "paused <instant> by <user>@<host>: <reason>".
A schedule already paused is left as it is (exit 0). Locally there is no scheduler: exit 2.
The function can still be run by hand meanwhile. A deploy that changes the schedule resets it to the
stack's state; to keep a job paused across deploys, deploy with -c paused=<job> (docs/operations.md).

Prints { job, schedule, group, changed, state, previousState, description }.`,
    )
    .action(toggle('pause'));

  schedules
    .command('resume')
    .usage(`<${JOBS_TEXT}> [--stage <stage>]`)
    .description("Resume a job's paused deployed schedule (--aws), keeping the rest of its definition.")
    .argument('<job>', `one of ${JOB_NAMES.join(', ')}`)
    .option('--stage <stage>', STAGE_HELP)
    .addHelpText(
      'after',
      `
Sets the schedule ENABLED and its description back to the stack's ("<job> at hh:mm Asia/Shanghai every
day"), every other property as it was. A schedule not paused is left as it is (exit 0). It fires next at
its next scheduled instant; the occurrences missed while paused are not run by this: run them with
run <job> --from <date> --to <date> (status shows them). Locally there is no scheduler: exit 2.

Prints { job, schedule, group, changed, state, previousState, description }.`,
    )
    .action(toggle('resume'));
}
