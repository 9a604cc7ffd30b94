// `status`: did every scheduled run happen, finish, and leave nothing overdue?
import { z } from 'zod';
import { parseInput } from '../shared/errors';
import { systemStatus } from '../shared/jobs/status';
import { formatInstant, instantSchema } from '../shared/time';
import { type Command, EXIT } from './framework';

export const statusCommand: Command = {
  name: 'status',
  usage: 'status [--as-of <instant>] [--days <n>]',
  summary: 'Check that nothing was missed: runs missing or unfinished, work overdue.',
  options: { 'as-of': { type: 'string' }, days: { type: 'string', default: '7' } },
  help: `
For each job, the scheduled occurrences of the last --days days up to --as-of (default: now) that have
no run recorded ("missing") or whose last run stopped early or had failed items ("incomplete"), and
how much is overdue: promotions still waiting for activation or expiry although the last run should
have handled them, cart policies not yet announced or put in force although their time has come.

  --as-of <instant>   the instant to check as of (default: now)
  --days <n>          how many days back to look for runs (default 7, at most 366)

Prints { asOf, days, jobs: { <job>: { missing, incomplete, overdue } }, ok }; exits 1 unless ok.
To repair: run the missing occurrences (run <job> --from … --to …); see docs/operations.md.`,
  async run({ values }, ctx) {
    const args = parseInput(
      z.strictObject({
        '--as-of': instantSchema.optional(),
        '--days': z.coerce.number().int('must be a whole number').min(1).max(366),
      }),
      { '--as-of': values['as-of'], '--days': values.days },
    );
    const { deps } = await ctx.store();
    const status = await systemStatus(deps, args['--as-of'] ?? formatInstant(deps.clock()), args['--days']);
    return { output: status, exitCode: status.ok ? EXIT.ok : EXIT.failed };
  },
};
