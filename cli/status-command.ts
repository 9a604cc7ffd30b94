// `status`: did every scheduled run happen, finish, and leave nothing overdue?
import type { Command } from 'commander';
import * as z from 'zod';
import { formatInstant, instantSchema } from '../shared/time';
import { EXIT, parseOptions, runs } from './framework';
import { statusLines, systemStatus } from './status/status';

export function defineStatus(program: Command) {
  program
    .command('status')
    .usage('[--as-of <instant>] [--days <n>]')
    .description('Check that nothing was missed: runs missing or unfinished, work overdue.')
    .option('--as-of <instant>', 'the instant to check as of (default: now)')
    .option('--days <n>', 'how many days back to look for runs (at most 366)', '7')
    .addHelpText(
      'after',
      `
For each job, the scheduled occurrences of the last --days days up to --as-of (default: now) that have
no run recorded ("missing") or whose last run stopped early or had failed items ("incomplete"), and
how much is overdue: promotions still waiting for activation or expiry although the last run should
have handled them, cart policies not yet announced or put in force although their time has come.

Prints { asOf, days, jobs: { <job>: { missing, incomplete, overdue } }, ok }; exits 1 unless ok.
To repair: run the missing occurrences (run <job> --from … --to …); see docs/operations.md.`,
    )
    .action(
      runs(async ({ options }, ctx) => {
        const args = parseOptions(
          z.strictObject({
            '--as-of': instantSchema.optional(),
            '--days': z.coerce
              .number({ error: 'must be a number' })
              .int('must be a whole number')
              .min(1, 'must be at least 1')
              .max(366, 'must be at most 366'),
          }),
          { '--as-of': options.asOf, '--days': options.days },
        );
        const { deps } = await ctx.store();
        const status = await systemStatus(
          deps,
          args['--as-of'] ?? formatInstant(deps.clock()),
          args['--days'],
        );
        for (const line of await statusLines(deps, status)) ctx.progress(line);
        return { output: status, exitCode: status.ok ? EXIT.ok : EXIT.failed };
      }),
    );
}
