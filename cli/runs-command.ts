// `runs list` and `runs show`: the runs recorded on the job-run items (what ran, when, how long, what
// it changed, what failed), for operators checking a schedule or a backfill.
import type { Command } from 'commander';
import * as z from 'zod';
import { NotFoundError } from '../shared/errors';
import { jobNameSchema, occurrenceOn } from '../shared/jobs/input';
import { JOB_NAMES } from '../shared/jobs/registry';
import {
  boundedText,
  calendarDateSchema,
  dateOrInstantProblem,
  normaliseInstant,
  tryParseDate,
} from '../shared/time';
import { group, outputOption, parseOptions, runs } from './framework';
import { listRecordedRuns, RUN_COLUMNS, showRecordedRun } from './run/recorded-runs';

const listSchema = z
  .strictObject({
    '--job': jobNameSchema.optional(),
    '--from': calendarDateSchema.optional(),
    '--to': calendarDateSchema.optional(),
  })
  .refine((o) => o['--from'] === undefined || o['--to'] === undefined || o['--to'] >= o['--from'], {
    message: 'must be on or after --from',
    path: ['--to'],
  });

export function defineRuns(program: Command) {
  const runsGroup = group(
    program,
    'runs',
    'The runs recorded for each job (what ran, when, what it changed).',
  );
  runsGroup
    .command('list')
    .usage(`[--job <${JOB_NAMES.join('|')}>] [--from <date>] [--to <date>] [--output table]`)
    .description('The recorded runs of the jobs, by asOf then job.')
    .option('--job <job>', `only this job (${JOB_NAMES.join(', ')}); default: every job`)
    .option('--from <date>', 'only runs as of this Asia/Shanghai day or later')
    .option('--to <date>', 'only runs as of this Asia/Shanghai day or earlier')
    .addOption(outputOption())
    .addHelpText(
      'after',
      `
Every occurrence that ran (scheduled, by hand, or in a backfill) has one job-run item with its latest
report; dry runs are never recorded. Read with one Query per job, never a Scan.

Prints one line per recorded run (JSON Lines), ordered by asOf then job:
  { job, asOf, complete, examined, changed, alreadyDone, failed, startedAt, finishedAt, duration, durationMs, attempts }
startedAt and finishedAt are the wall clock of the run's latest invocation (null on runs recorded
before they were); duration is finishedAt − startedAt as an ISO 8601 duration (PT1M2.345S), durationMs
the same in milliseconds. complete is false while an occurrence that stopped early waits for its
continuation; attempts counts the invocations that reported it. See: runs show <job> <asOf>.`,
    )
    .action(
      runs(async ({ options }, ctx) => {
        const given = parseOptions(listSchema, {
          '--job': options.job,
          '--from': options.from,
          '--to': options.to,
        });
        const { deps } = await ctx.store();
        const output = await listRecordedRuns(deps, {
          jobs: given['--job'] ? [given['--job']] : JOB_NAMES,
          from: given['--from'],
          to: given['--to'],
        });
        return { output, columns: RUN_COLUMNS };
      }),
    );

  runsGroup
    .command('show')
    .usage(`<${JOB_NAMES.join('|')}> <asOf>`)
    .description('One recorded run, with its failed items and their errors.')
    .argument('<job>', `one of ${JOB_NAMES.join(', ')}`)
    .argument(
      '<asOf>',
      'the instant it ran as of (with offset), or a day: the job’s scheduled occurrence that day',
    )
    .addHelpText(
      'after',
      `
Prints { job, asOf, complete, examined, changed, alreadyDone, failed, startedAt, finishedAt, duration,
durationMs, attempts, transitions, failures: [{ merchantId, error }] } (see: runs list --help).
An instant is matched in any offset (2020-05-07T16:00:00Z is 2020-05-08T00:00:00+08:00).
Exits 1 if the job has no run recorded as of it.`,
    )
    .action(
      runs(async ({ args }, ctx) => {
        const given = parseOptions(
          z.strictObject({ '<job>': jobNameSchema, '<asOf>': boundedText(dateOrInstantProblem) }),
          { '<job>': args[0], '<asOf>': args[1] },
        );
        const job = given['<job>'];
        const text = given['<asOf>'];
        const asOf = tryParseDate(text) ? occurrenceOn(job, text) : normaliseInstant(text);
        const { deps } = await ctx.store();
        const run = await showRecordedRun(deps, job, asOf);
        if (!run) throw new NotFoundError(`no run of ${job} as of ${asOf}`);
        return { output: run };
      }),
    );
}
