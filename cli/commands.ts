// The operator's commands, on commander. Each validates its values with zod, calls the shared domain,
// and returns JSON.
import { existsSync, statSync } from 'node:fs';
import { type Command, Option } from 'commander';
import * as z from 'zod';
import { InputError, NotFoundError, unlessMissing } from '../shared/errors';
import { jobNameSchema, MAX_RANGE_DAYS, parseJobInput } from '../shared/jobs/input';
import { LEASE_TTL_MS } from '../shared/jobs/lease';
import { JOB_NAMES, JOBS } from '../shared/jobs/registry';
import { merchantRecordSchema, recordMerchant, revokePromotion } from '../shared/merchants/record';
import {
  LENGTH_DAYS,
  onboardedAtSchema,
  onboardingDate,
  promotionWindow,
  START_OFFSET_DAYS,
} from '../shared/promotion/window';
import { merchantIdSchema } from '../shared/store/keys';
import { getMerchant } from '../shared/store/merchants';
import { readPrograms } from '../shared/store/programs';
import { readEnrolments } from '../shared/store/promotions';
import { CLOCK_SKEW_TEXT, calendarDateSchema, instantSchema } from '../shared/time';
import { defineCapabilities } from './capabilities-command';
import { defineDemo } from './demo-command';
import { defineFailures } from './failures-command';
import {
  changeSummary,
  EXIT,
  group,
  inOptionTerms,
  listOf,
  parseOptions,
  reasonSchema,
  runs,
} from './framework';
import { importMerchants } from './import/import';
import { formatOf, type ImportFormat } from './import/import-file';
import { REINDEX_SEGMENTS, reindexMerchants } from './import/reindex';
import { defineLeases } from './leases-command';
import { defineLocal } from './local-command';
import { merchantOutput } from './merchant-view';
import { defineMerchantsList } from './merchants-list-command';
import { defineNotices } from './notices-command';
import { defineFlags, definePolicies } from './policies-command';
import { orderSourceSchema, quoteAcross, standardRateSchema } from './pricing/quote';
import { definePrograms } from './programs-command';
import { defineReport } from './report-command';
import { runFromCli } from './run/run-job';
import { defineRuns } from './runs-command';
import { defineSchedules } from './schedules-command';
import { defineStatus } from './status-command';
import { defineXingtuFee } from './xingtu-fee-command';

/** The source's worked example (rules §1), for the help. */
const EXAMPLE = promotionWindow('2020-05-06');

function defineWindow(program: Command) {
  program
    .command('window')
    .usage('<date|instant> [--program-start <date>]')
    .description('Compute the promotion window for an onboarding date T (or an onboarding instant).')
    .argument('<date|instant>', 'the onboarding date T (Asia/Shanghai) or instant (with offset)')
    .option(
      '--program-start <date>',
      'merchants onboarded before it are not eligible (default: PROGRAM_START or 2020-05-01)',
    )
    .addHelpText(
      'after',
      `
The window is [T+${START_OFFSET_DAYS} 00:00, T+${START_OFFSET_DAYS + LENGTH_DAYS} 00:00) Asia/Shanghai: the whole of days T+${START_OFFSET_DAYS} … T+${START_OFFSET_DAYS + LENGTH_DAYS - 1}, ${LENGTH_DAYS} days.
An instant must carry its offset (Z or ±hh:mm); it maps to its Asia/Shanghai date.

Prints { onboardedOn, eligible, startsAt, endsBefore, lastDay, days }.
Example: window ${EXAMPLE.onboardedOn}   → startsAt ${EXAMPLE.startsAt}, lastDay ${EXAMPLE.lastDay}`,
    )
    .action(
      runs(async ({ args, options }, ctx) => {
        const given = parseOptions(
          z.strictObject({
            '<date|instant>': onboardedAtSchema,
            '--program-start': calendarDateSchema.optional(),
          }),
          { '<date|instant>': args[0], '--program-start': options.programStart },
        );
        const programStart = given['--program-start'] ?? ctx.config.programStart;
        return { output: promotionWindow(onboardingDate(given['<date|instant>']), programStart) };
      }),
    );
}

function defineMerchants(program: Command) {
  const merchants = group(program, 'merchants', 'Record, import, revoke, reindex and list merchants.');
  merchants
    .command('import')
    .usage('<file> [--format jsonl|csv]')
    .description('Record merchants in bulk from a JSON Lines or CSV file.')
    .argument('<file>', 'a JSON Lines or CSV file, one merchant a line')
    .option('--format <jsonl|csv>', 'default: from the file extension (.jsonl/.ndjson/.json or .csv)')
    .addHelpText(
      'after',
      `
Each line is one merchant:
  JSON Lines: {"merchantId":"m-1","onboardedAt":"2020-05-06","categories":["cosmetics"],"liveCartSources":["shop","taobao"]}
  CSV:        a header "merchantId,onboardedAt,categories,liveCartSources"; lists as "cosmetics;apparel"
              (RFC 4180 quoting: a quoted cell may hold commas, quotes written "" and line breaks)
onboardedAt is a date (Asia/Shanghai) or an instant with an offset. Recording the same T again changes
nothing; a different T corrects the window and the next job run reconciles the state. An optional
occurredAt (an instant; a CSV column too) says when the record was made: a line older than what is
recorded for its merchant is stale and changes nothing; without it, a line counts as made now.

Prints { created, updated, unchanged, stale, rejected: [{ line, error }], rejectedCount }.
Valid lines are stored even when others are rejected; exits 1 if any line was rejected.`,
    )
    .action(
      runs(async ({ args, options }, ctx) => {
        const path = args[0] as string;
        if (!existsSync(path) || !statSync(path).isFile()) {
          throw new InputError(`<file>: no such file: ${path}`);
        }
        const format: ImportFormat =
          options.format === undefined
            ? formatOf(path)
            : parseOptions(
                z.strictObject({
                  '--format': z.enum(['jsonl', 'csv'], { error: unlessMissing('must be jsonl or csv') }),
                }),
                { '--format': options.format },
              )['--format'];
        const { deps } = await ctx.store();
        const summary = await importMerchants(deps, path, format, (s) =>
          ctx.progress(`imported ${s.created + s.updated + s.unchanged} lines (${s.rejectedCount} rejected)`),
        );
        const { created, updated, unchanged, stale, rejectedCount: rejected } = summary;
        return {
          output: summary,
          exitCode: summary.rejectedCount > 0 ? EXIT.failed : EXIT.ok,
          summary: changeSummary('merchants import', { created, updated, unchanged, stale, rejected }, [
            'unchanged',
            'stale',
            'rejected',
          ]),
        };
      }),
    );

  merchants
    .command('record')
    .usage('<merchantId> --onboarded-at <date|instant> [--categories a,b] [--live-cart-sources shop,taobao]')
    .description('Record one merchant, or correct its onboarding date.')
    .argument('<merchantId>')
    .requiredOption('--onboarded-at <date|instant>', 'the onboarding date T (Asia/Shanghai) or instant')
    .option('--categories <a,b>', 'the product categories it sells in')
    .option('--live-cart-sources <shop,taobao>', 'where the products in its live-room cart come from')
    .addHelpText(
      'after',
      `
The same as one line of "merchants import". Prints { merchantId, outcome: created|updated|unchanged|stale }. It counts as made now.`,
    )
    .action(
      runs(async ({ args, options }, ctx) => {
        const fields = merchantRecordSchema.shape;
        const given = parseOptions(
          z.strictObject({
            '<merchantId>': fields.merchantId,
            '--onboarded-at': fields.onboardedAt,
            '--categories': z.preprocess(listOf, fields.categories),
            '--live-cart-sources': z.preprocess(listOf, fields.liveCartSources),
          }),
          {
            '<merchantId>': args[0],
            '--onboarded-at': options.onboardedAt,
            '--categories': options.categories,
            '--live-cart-sources': options.liveCartSources,
          },
        );
        const record = {
          merchantId: given['<merchantId>'],
          onboardedAt: given['--onboarded-at'],
          categories: given['--categories'],
          liveCartSources: given['--live-cart-sources'],
        };
        const { deps } = await ctx.store();
        const outcome = await recordMerchant(deps, record);
        return {
          output: { merchantId: record.merchantId, outcome },
          summary:
            outcome === 'created' || outcome === 'updated'
              ? `merchants record: ${record.merchantId} ${outcome}`
              : `merchants record: nothing changed; ${record.merchantId} ${outcome}`,
        };
      }),
    );

  merchants
    .command('revoke')
    .usage('<merchantId> --at <instant> --reason <text>')
    .description("Revoke a merchant's promotion for a violation, effective at an instant.")
    .argument('<merchantId>')
    .requiredOption('--at <instant>', 'when the revocation takes effect (with offset)')
    .requiredOption('--reason <text>', 'why (at most 500 characters)')
    .addHelpText(
      'after',
      `
Orders created before --at keep the promotional rate; orders from --at on pay the standard rate.
Revoking again at the same instant changes nothing; a promotion that ended before --at cannot be revoked.
Prints { merchantId, changed, status, revokedAt, reason }; exits 1 if the merchant is unknown or the
revocation contradicts its state.`,
    )
    .action(
      runs(async ({ args, options }, ctx) => {
        const given = parseOptions(
          z.strictObject({
            '<merchantId>': merchantIdSchema,
            '--at': instantSchema,
            '--reason': reasonSchema,
          }),
          { '<merchantId>': args[0], '--at': options.at, '--reason': options.reason },
        );
        const { deps } = await ctx.store();
        const revocation = await revokePromotion(
          deps,
          given['<merchantId>'],
          given['--at'],
          given['--reason'],
        );
        const revoked = revocation.enrolments.filter((e) => e.changed).map((e) => e.programId);
        return {
          output: revocation,
          summary: revocation.changed
            ? `merchants revoke: ${revocation.merchantId} revoked at ${revocation.revokedAt} in ${revoked.join(', ')}`
            : `merchants revoke: nothing changed; ${revocation.merchantId} already revoked at ${revocation.revokedAt}`,
        };
      }),
    );

  merchants
    .command('reindex')
    .usage('[--dry-run]')
    .description('Put the merchants recorded before the onboarded index existed into it (run once).')
    .option('--dry-run', 'count the merchants it would put in the index, writing nothing')
    .addHelpText(
      'after',
      `
A one-off migration, run once after deploying the release that added the onboarded index and before
the first activate run: programs announced later find their merchants through that index. It scans
the table (${REINDEX_SEGMENTS} segments in parallel) for merchant profiles without the index key and gives each its key
with a conditional write; merchants recorded since have it already, and a repeat finds nothing.

Prints { examined, reindexed, alreadyDone, failed, failures: [{ pk, error }], dryRun }; with --dry-run,
reindexed counts what would be reindexed. Exits 1 if any profile failed (run it again).`,
    )
    .action(
      runs(async ({ options }, ctx) => {
        const dryRun = options.dryRun === true;
        const { deps } = await ctx.store();
        let pages = 0;
        const summary = await reindexMerchants(deps, {
          dryRun,
          // A line every 20 pages: a big table takes minutes.
          onPage: (s) => ++pages % 20 === 0 && ctx.progress(`reindex: examined ${s.examined} so far`),
        });
        const { examined, reindexed, alreadyDone, failed } = summary;
        return {
          output: summary,
          exitCode: summary.failed > 0 ? EXIT.failed : EXIT.ok,
          summary: dryRun
            ? `merchants reindex (dry run): nothing changed; examined ${examined}, would reindex ${reindexed}, already done ${alreadyDone}`
            : changeSummary(
                'merchants reindex',
                { examined, reindexed, 'already done': alreadyDone, failed },
                ['examined', 'already done', 'failed'],
              ),
        };
      }),
    );

  defineMerchantsList(merchants);
}

function defineMerchant(program: Command) {
  program
    .command('merchant')
    .usage('<merchantId>')
    .description('Show a merchant and its promotion, with the history of transitions, and its enrolments.')
    .argument('<merchantId>')
    .addHelpText(
      'after',
      `
Prints { merchantId, onboardedOn, …, promotion: { status, startsAt, endsBefore, history: [{ status, effectiveAt, processedAt }] },
         cartPolicies, enrolments: [{ programId, status, startsAt, endsBefore, history, recorded, … }] }.
promotion is the NEW_MERCHANT_FEE enrolment. enrolments has one entry per program (see: programs list):
the stored enrolment (recorded: true), or where there is none what the rules give (recorded: false,
history: []): SCHEDULED if the merchant is eligible and the program not withdrawn (the next activate
run enrols it), else INELIGIBLE.
cartPolicies and feePolicies: its notice state for each cart policy and each Xingtu fee policy that reached it.
Exits 1 if there is no such merchant.`,
    )
    .action(
      runs(async ({ args }, ctx) => {
        const merchantId = parseOptions(z.strictObject({ '<merchantId>': merchantIdSchema }), {
          '<merchantId>': args[0],
        })['<merchantId>'];
        const { deps } = await ctx.store();
        const view = await getMerchant(deps, merchantId);
        if (!view) throw new NotFoundError(`no merchant ${merchantId}`);
        return { output: merchantOutput(view, await readPrograms(deps)) };
      }),
    );
}

/** Each job of the registry, its schedule and what it does, for `run --help`. */
function jobList(): string {
  const width = Math.max(...JOB_NAMES.map((job) => job.length));
  const time = (n: number) => String(n).padStart(2, '0');
  return JOB_NAMES.map((job) => {
    const { schedule, summary } = JOBS[job];
    return `  ${job.padEnd(width)}  ${time(schedule.hour)}:${time(schedule.minute)} daily (${schedule.timeZone}): ${summary}`;
  }).join('\n');
}

/** The option that says what a job input's field says, to name it in the job input's errors. */
const JOB_INPUT_OPTIONS: Record<string, string> = { asOf: '--as-of', from: '--from', to: '--to' };

/** A job input's error in the run command's terms: `to` is `--to`, with the value given. */
function jobInputError(error: unknown, given: Record<string, string | undefined>): unknown {
  if (!(error instanceof InputError) || error.problems.length === 0) return error;
  return inOptionTerms(error.problems, given, (field) => JOB_INPUT_OPTIONS[field]);
}

function defineRun(program: Command) {
  program
    .command('run')
    .usage(`<${JOB_NAMES.join('|')}> (--as-of <instant> | --now | --from <date> --to <date>) [--dry-run]`)
    .description('Run a job as of an instant, or once per scheduled occurrence over a range of days.')
    .argument('<job>', `one of ${JOB_NAMES.join(', ')}`)
    .addOption(
      new Option(
        '--as-of <instant>',
        'the instant the run works as of (with offset, e.g. 2020-05-08T00:00:00+08:00)',
      ).conflicts(['from', 'to']),
    )
    .addOption(
      new Option(
        '--now',
        'the job’s latest scheduled occurrence at or before the wall clock (what its schedule fired, or should have)',
      ).conflicts(['asOf', 'from', 'to']),
    )
    .option('--from <date>', 'with --to: one run per day at the job’s scheduled time, in order')
    .option(
      '--to <date>',
      `the last day of the range (any length: run in chunks of at most ${MAX_RANGE_DAYS} days; resumable)`,
    )
    .option(
      '--dry-run',
      'report what would change, change nothing (over a range, each day as the real run would see it after the days before)',
    )
    .addHelpText(
      'after',
      () => `
Jobs:
${jobList()}

A real run may not work as of more than ${CLOCK_SKEW_TEXT} past the wall clock (exit 2); a dry run may look ahead.
A real run holds the job's lease (see: leases list). If another run holds it, the command says so on
stderr ("waiting for lease of <job> held by <owner>, heartbeat <n>s ago, lapses at <instant>") and
waits while it lapses (a killed run's lease lapses within LEASE_TTL_SECONDS, default ${LEASE_TTL_MS / 1000} s); if the holder's heartbeat moves on,
the holder is alive and the command fails (exit 1, LeaseHeldError naming it).

A range longer than ${MAX_RANGE_DAYS} days runs in chunks of at most ${MAX_RANGE_DAYS} days, in order, with a progress bar on
stderr (plain lines when stderr is not a terminal). A real range run is resumable: the same command
again after an interruption (even kill -9) continues after the last day whose run finished with
nothing failed (see: runs list); a day cut short is run again. Dry runs never record nor resume.

Prints one run report per occurrence (JSON Lines, each as its occurrence finishes):
  { job, asOf, dryRun, examined, changed, alreadyDone, failed, transitions, … }
and ends with one line on stderr saying what changed.
Exits 1 if any item failed (the failed items stay due and are picked up by the next run).`,
    )
    .action(
      runs(async ({ args, options }, ctx) => {
        const job = parseOptions(z.strictObject({ '<job>': jobNameSchema }), { '<job>': args[0] })['<job>'];
        const given = {
          '--as-of': options.asOf as string | undefined,
          '--from': options.from as string | undefined,
          '--to': options.to as string | undefined,
        };
        const dryRun = options.dryRun === true;
        if (options.now === true) return runFromCli(ctx, job, { kind: 'now', dryRun });
        if (given['--as-of'] === undefined && given['--from'] === undefined && given['--to'] === undefined) {
          throw new InputError('--as-of: required (or --now, or --from and --to)');
        }
        if (given['--from'] !== undefined && given['--to'] === undefined) {
          throw new InputError('--to: required with --from');
        }
        if (given['--to'] !== undefined && given['--from'] === undefined) {
          throw new InputError('--from: required with --to');
        }
        try {
          if (given['--as-of'] !== undefined) {
            const input = parseJobInput({ asOf: given['--as-of'], dryRun });
            return await runFromCli(ctx, job, { kind: 'input', input });
          }
          const range = parseOptions(rangeSchema, { '--from': given['--from'], '--to': given['--to'] });
          return await runFromCli(ctx, job, {
            kind: 'range',
            from: range['--from'],
            to: range['--to'],
            dryRun,
          });
        } catch (error) {
          throw jobInputError(error, given); // a real run too far ahead of the clock names its `asOf` or `to`
        }
      }),
    );
}

/** A backfill's days (any length: cli/run/backfill.ts splits it into job inputs of at most MAX_RANGE_DAYS). */
const rangeSchema = z
  .strictObject({ '--from': calendarDateSchema, '--to': calendarDateSchema })
  .refine((r) => r['--to'] >= r['--from'], { message: 'must be on or after from', path: ['--to'] });

function defineQuote(program: Command) {
  program
    .command('quote')
    .usage('--merchant <id> --created-at <instant> --source <ad|alliance|other> --standard-rate <r>')
    .description("Quote the technical service fee rate of one of a merchant's orders.")
    .requiredOption('--merchant <id>', 'the merchant')
    .requiredOption('--created-at <instant>', 'when the order was created (with offset)')
    .requiredOption(
      '--source <s>',
      'ad (ad-traffic order), alliance (Selected Alliance), other (any other non-ad order)',
    )
    .requiredOption('--standard-rate <r>', "the category's standard rate as a fraction, e.g. 0.05")
    .addHelpText(
      'after',
      `
A non-ad order (alliance or other; paid online or cash on delivery) created inside the window and
before any revocation pays min(1%, standard rate); every other order pays the standard rate.
The decision uses the window and the revocation instant, never the stored status.
With several programs (e.g. NEW_MERCHANT_FEE and SEED_PLAN_2020) nothing stacks: the lowest fee cap
among the enrolments whose window holds the order wins (equal caps: the earlier window start, then
the lower programId), and programId names it (null when the standard rate applies).

Prints { rate, promotion, reason, standardRate, programId }.`,
    )
    .action(
      runs(async ({ options }, ctx) => {
        const given = parseOptions(
          z.strictObject({
            '--merchant': merchantIdSchema,
            '--created-at': instantSchema,
            '--source': orderSourceSchema,
            '--standard-rate': standardRateSchema,
          }),
          {
            '--merchant': options.merchant,
            '--created-at': options.createdAt,
            '--source': options.source,
            '--standard-rate': options.standardRate,
          },
        );
        const { deps } = await ctx.store();
        const enrolments = await readEnrolments(deps, given['--merchant']);
        if (enrolments.length === 0) throw new NotFoundError(`no merchant ${given['--merchant']}`);
        const quote = quoteAcross(enrolments, {
          createdAt: given['--created-at'],
          source: given['--source'],
          standardRate: given['--standard-rate'],
        });
        return {
          output: {
            merchantId: given['--merchant'],
            createdAt: given['--created-at'],
            source: given['--source'],
            ...quote,
          },
        };
      }),
    );
}

/** Every command, in the order the overview lists them. */
export function defineCommands(program: Command): void {
  defineWindow(program);
  defineMerchants(program);
  defineMerchant(program);
  defineRun(program);
  defineRuns(program);
  defineLeases(program);
  defineQuote(program);
  defineCapabilities(program);
  defineXingtuFee(program);
  definePolicies(program);
  defineFlags(program);
  definePrograms(program);
  defineStatus(program);
  defineSchedules(program);
  defineNotices(program);
  defineFailures(program);
  defineDemo(program);
  defineReport(program);
  defineLocal(program);
}
