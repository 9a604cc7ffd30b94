// `report [--from <date> --to <date>]`: draw the chart of any stored state (the demo's or a real
// table's) as a self-contained HTML page, and print its path.
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import * as z from 'zod';
import { calendarDateSchema, daysBetween } from '../shared/time';
import { parseOptions, runs } from './framework';
import { drawReport } from './report/report';
import { MAX_REPORT_DAYS } from './report/state';

const optionsSchema = z
  .strictObject({
    '--from': calendarDateSchema.optional(),
    '--to': calendarDateSchema.optional(),
    '--out': z.string().trim().min(1, 'must not be empty').optional(),
  })
  .refine((o) => !o['--from'] || !o['--to'] || o['--to'] >= o['--from'], {
    message: 'must be on or after --from',
    path: ['--to'],
  })
  .refine(
    (o) =>
      !o['--from'] ||
      !o['--to'] ||
      o['--to'] < o['--from'] ||
      daysBetween(o['--from'], o['--to']).length <= MAX_REPORT_DAYS,
    { message: `must be at most ${MAX_REPORT_DAYS} days from --from`, path: ['--to'] },
  );

export function defineReport(program: Command) {
  program
    .command('report')
    .usage('[--from <date>] [--to <date>] [--out <file.html>]')
    .description(
      'Draw the chart of the stored state (any table: the demo’s or a real one) and print its path.',
    )
    .option('--from <date>', 'first day drawn (default: the first day the stored state covers)')
    .option('--to <date>', 'last day drawn (default: the last day the stored state covers)')
    .option('--out <file.html>', 'where to write the page (default: $PROMO_JOBS_HOME/report.html)')
    .addHelpText(
      'after',
      `
Reads the stored state, never a Scan: the programs and the policy calendar, every merchant through the
onboarded index and its enrolments (their histories give the active enrolments per day and the
promotion notices), each job's recorded runs (its own partition), and, locally, the policy notices
of the notice sink ($PROMO_JOBS_HOME/notices.jsonl). Without --from/--to: the days from the first to
the last recorded run or notice.

The page (inline SVG, no network) shows active enrolments per program, one panel per notice type on
its own scale, each job's scheduled runs (ok, failed, incomplete, missing) and the program and policy
dates. Prints { path, from, to, range, days, read, runs, notices }.`,
    )
    .action(
      runs(async ({ options }, ctx) => {
        const given = parseOptions(optionsSchema, {
          '--from': options.from,
          '--to': options.to,
          '--out': options.out,
        });
        const store = await ctx.store();
        const path = given['--out'] ? resolve(given['--out']) : join(store.home, 'report.html');
        const drawn = await drawReport(
          store,
          { from: given['--from'], to: given['--to'] },
          path,
          ctx.config.snsTopicArn ? { snsTopicArn: ctx.config.snsTopicArn } : {},
        );
        const missing = Object.values(drawn.runs).reduce((a, r) => a + (r.missing ?? 0), 0);
        const failed = Object.values(drawn.runs).reduce(
          (a, r) => a + (r.failed ?? 0) + (r.incomplete ?? 0),
          0,
        );
        ctx.progress(
          `report: ${drawn.from} … ${drawn.to} (${drawn.days} days, ${drawn.read.merchants} merchants, ${drawn.read.jobRuns} runs; ${missing} scheduled runs missing, ${failed} failed or incomplete): ${path}`,
        );
        return { output: drawn };
      }),
    );
}
