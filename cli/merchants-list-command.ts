// `merchants list`: merchants' enrolments as JSON Lines, through the onboarded or the due index
// (cli/merchants-list.ts), filtered by status, program and due instant, with a --limit.
import type { Command } from 'commander';
import * as z from 'zod';
import { unlessMissing } from '../shared/errors';
import { programIdSchema } from '../shared/programs/program';
import { PROMOTION_STATUSES } from '../shared/promotion/lifecycle';
import { instantSchema } from '../shared/time';
import { outputOption, parseOptions, runs } from './framework';
import { listMerchants } from './merchants-list';

const COLUMNS = ['merchantId', 'onboardedOn', 'programId', 'status', 'startsAt', 'endsBefore', 'nextDueAt'];

export function defineMerchantsList(merchants: Command) {
  merchants
    .command('list')
    .addOption(outputOption())
    .usage('[--status <status>] [--program <programId>] [--due-before <instant>] [--limit <n>]')
    .description("List merchants' enrolments through an index (never a Scan), as JSON Lines.")
    .option('--status <status>', `only enrolments in this status: ${PROMOTION_STATUSES.join(', ')}`)
    .option('--program <programId>', 'only enrolments in this program (default: every program)')
    .option('--due-before <instant>', 'only enrolments waiting for a job step due at or before this instant')
    .option('--limit <n>', 'at most n lines (the reading stops there)')
    .addHelpText(
      'after',
      `
Prints one line per merchant and program it has an enrolment in:
  { merchantId, onboardedOn, programId, status, startsAt, endsBefore, nextDueAt }
nextDueAt is when the enrolment's job next acts on it (activate at its start; expire at its
reminder, then at its end), null when it waits for nothing.

Without --due-before it reads the onboarded index (every merchant profile, 16 shards, each by
onboarding date) a page at a time, and each page's enrolments by BatchGet: lines come shard by
shard, by onboarding date within a shard. With --due-before it reads the due index (what the jobs
read): SCHEDULED enrolments wait there to be activated, ACTIVE ones to be reminded and expired; other
statuses wait for nothing and are never due. Profiles recorded before the onboarded index existed
appear only after "merchants reindex".`,
    )
    .action(
      runs(async ({ options }, ctx) => {
        const given = parseOptions(
          z.strictObject({
            '--status': z
              .enum(PROMOTION_STATUSES, {
                error: unlessMissing(`must be one of ${PROMOTION_STATUSES.join(', ')}`),
              })
              .optional(),
            '--program': programIdSchema.optional(),
            '--due-before': instantSchema.optional(),
            '--limit': z.coerce
              .number({ error: unlessMissing('must be a whole number') })
              .int('must be a whole number')
              .min(1, 'must be at least 1')
              .optional(),
          }),
          {
            '--status': options.status,
            '--program': options.program,
            '--due-before': options.dueBefore,
            '--limit': options.limit,
          },
        );
        const { deps } = await ctx.store();
        const lines = await listMerchants(deps, {
          status: given['--status'],
          programId: given['--program'],
          dueBefore: given['--due-before'],
          limit: given['--limit'],
        });
        return { output: lines, columns: COLUMNS };
      }),
    );
}
