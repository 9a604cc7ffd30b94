// The operator's commands. Each validates its arguments, calls the shared domain, and returns JSON.
import { existsSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { z } from 'zod';
import { InputError, NotFoundError, parseInput, unlessMissing } from '../shared/errors';
import { JOB_NAMES, jobNameSchema, parseJobInput } from '../shared/jobs/input';
import { describeHolder, LEASE_TTL_MS } from '../shared/jobs/lease';
import { type RunResult, runJob } from '../shared/jobs/run';
import { merchantRecordSchema, recordMerchant, revokePromotion } from '../shared/merchants/record';
import { orderSourceSchema, quoteOrder, standardRateSchema } from '../shared/promotion/quote';
import { onboardedAtSchema, onboardingDate, promotionWindow } from '../shared/promotion/window';
import { merchantIdSchema } from '../shared/store/keys';
import { getMerchant } from '../shared/store/merchants';
import { calendarDateSchema, instantSchema } from '../shared/time';
import { demoCommand } from './demo-command';
import { type Command, EXIT, renameFields } from './framework';
import { importMerchants } from './import/import';
import { formatOf, type ImportFormat } from './import/import-file';
import { LEASE_COMMANDS } from './leases-command';
import { noticesCommand } from './notices-command';
import { POLICY_COMMANDS } from './policies-command';
import { statusCommand } from './status-command';

const list = (text: string | boolean | undefined) =>
  typeof text === 'string'
    ? text
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : undefined;

const windowCommand: Command = {
  name: 'window',
  usage: 'window <date|instant> [--program-start <date>]',
  summary: 'Compute the promotion window for an onboarding date T (or an onboarding instant).',
  positionals: ['date|instant'],
  options: { 'program-start': { type: 'string' } },
  help: `
The window is [T+2 00:00, T+32 00:00) Asia/Shanghai: the whole of days T+2 … T+31, 30 days.
An instant must carry its offset (Z or ±hh:mm); it maps to its Asia/Shanghai date.

  --program-start <date>   merchants onboarded before it are not eligible (default: PROGRAM_START or 2020-05-01)

Prints { onboardedOn, eligible, startsAt, endsBefore, lastDay, days }.
Example: window 2020-05-06   → startsAt 2020-05-08T00:00:00.000+08:00, lastDay 2020-06-06`,
  async run({ positionals, values }, ctx) {
    const args = parseInput(
      z.strictObject({
        '<date|instant>': onboardedAtSchema,
        '--program-start': calendarDateSchema.optional(),
      }),
      { '<date|instant>': positionals[0], '--program-start': values['program-start'] },
    );
    const programStart = args['--program-start'] ?? ctx.config.programStart;
    return { output: promotionWindow(onboardingDate(args['<date|instant>']), programStart) };
  },
};

const importCommand: Command = {
  name: 'merchants import',
  usage: 'merchants import <file> [--format jsonl|csv]',
  summary: 'Record merchants in bulk from a JSON Lines or CSV file.',
  positionals: ['file'],
  options: { format: { type: 'string' } },
  help: `
Each line is one merchant:
  JSON Lines: {"merchantId":"m-1","onboardedAt":"2020-05-06","categories":["cosmetics"],"liveCartSources":["shop","taobao"]}
  CSV:        a header "merchantId,onboardedAt,categories,liveCartSources"; lists as "cosmetics;apparel"
onboardedAt is a date (Asia/Shanghai) or an instant with an offset. Recording the same T again changes
nothing; a different T corrects the window and the next job run reconciles the state. An optional
occurredAt (an instant; a CSV column too) says when the record was made: a line older than what is
recorded for its merchant is stale and changes nothing; without it, a line counts as made now.

  --format jsonl|csv   default: from the file extension (.jsonl/.ndjson/.json or .csv)

Prints { created, updated, unchanged, stale, rejected: [{ line, error }], rejectedCount }.
Valid lines are stored even when others are rejected; exits 1 if any line was rejected.`,
  async run({ positionals, values }, ctx) {
    const path = positionals[0] as string;
    if (!existsSync(path) || !statSync(path).isFile()) throw new InputError(`<file>: no such file: ${path}`);
    const format: ImportFormat = values.format
      ? parseInput(
          z.enum(['jsonl', 'csv'], { error: unlessMissing('must be jsonl or csv') }),
          values.format,
          '--format',
        )
      : formatOf(path);
    const { deps } = await ctx.store();
    const summary = await importMerchants(deps, path, format, (s) =>
      ctx.progress(`imported ${s.created + s.updated + s.unchanged} lines (${s.rejectedCount} rejected)`),
    );
    return { output: summary, exitCode: summary.rejectedCount > 0 ? EXIT.failed : EXIT.ok };
  },
};

const recordCommand: Command = {
  name: 'merchants record',
  usage:
    'merchants record <merchantId> --onboarded-at <date|instant> [--categories a,b] [--live-cart-sources shop,taobao]',
  summary: 'Record one merchant, or correct its onboarding date.',
  positionals: ['merchantId'],
  options: {
    'onboarded-at': { type: 'string' },
    categories: { type: 'string' },
    'live-cart-sources': { type: 'string' },
  },
  help: `
The same as one line of "merchants import". Prints { merchantId, outcome: created|updated|unchanged|stale }. It counts as made now.`,
  async run({ positionals, values }, ctx) {
    let record: z.output<typeof merchantRecordSchema>;
    try {
      record = parseInput(merchantRecordSchema, {
        merchantId: positionals[0],
        onboardedAt: values['onboarded-at'],
        categories: list(values.categories),
        liveCartSources: list(values['live-cart-sources']),
      });
    } catch (error) {
      throw renameFields(error, {
        merchantId: '<merchantId>',
        onboardedAt: '--onboarded-at',
        categories: '--categories',
        liveCartSources: '--live-cart-sources',
      });
    }
    const { deps } = await ctx.store();
    return { output: { merchantId: record.merchantId, outcome: await recordMerchant(deps, record) } };
  },
};

const revokeCommand: Command = {
  name: 'merchants revoke',
  usage: 'merchants revoke <merchantId> --at <instant> --reason <text>',
  summary: "Revoke a merchant's promotion for a violation, effective at an instant.",
  positionals: ['merchantId'],
  options: { at: { type: 'string' }, reason: { type: 'string' } },
  help: `
Orders created before --at keep the promotional rate; orders from --at on pay the standard rate.
Revoking again at the same instant changes nothing; a promotion that ended before --at cannot be revoked.
Prints { merchantId, changed, status, revokedAt, reason }; exits 1 if the merchant is unknown or the
revocation contradicts its state.`,
  async run({ positionals, values }, ctx) {
    const args = parseInput(
      z.strictObject({
        '<merchantId>': merchantIdSchema,
        '--at': instantSchema,
        '--reason': z
          .string({ message: 'is required' })
          .trim()
          .min(1, 'must not be empty')
          .max(500, 'must be at most 500 characters'),
      }),
      { '<merchantId>': positionals[0], '--at': values.at, '--reason': values.reason },
    );
    const { deps } = await ctx.store();
    return { output: await revokePromotion(deps, args['<merchantId>'], args['--at'], args['--reason']) };
  },
};

const merchantCommand: Command = {
  name: 'merchant',
  usage: 'merchant <merchantId>',
  summary: 'Show a merchant and its promotion, with the history of transitions.',
  positionals: ['merchantId'],
  help: `
Prints { merchantId, onboardedOn, …, promotion: { status, startsAt, endsBefore, history: [{ status, effectiveAt, processedAt }] } }.
Exits 1 if there is no such merchant.`,
  async run({ positionals }, ctx) {
    const merchantId = parseInput(merchantIdSchema, positionals[0], '<merchantId>');
    const { deps } = await ctx.store();
    const view = await getMerchant(deps, merchantId);
    if (!view) throw new NotFoundError(`no merchant ${merchantId}`);
    const { version: _version, ...profile } = view.profile;
    return { output: { ...profile, promotion: view.promotion, cartPolicies: view.cartPolicies } };
  },
};

const runCommand: Command = {
  name: 'run',
  usage: `run <${JOB_NAMES.join('|')}> (--as-of <instant> | --from <date> --to <date>) [--dry-run]`,
  summary: 'Run a job as of an instant, or once per scheduled occurrence over a range of days.',
  positionals: ['job'],
  options: {
    'as-of': { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    'dry-run': { type: 'boolean' },
  },
  help: `
Jobs (Asia/Shanghai):
  activate   00:00 daily: SCHEDULED promotions whose start has come become ACTIVE (a window already
             over goes on to EXPIRED in the same write)
  expire     23:59 daily: ACTIVE promotions whose last day is that day (or earlier) become EXPIRED;
             promotions entering their last 3 days are marked for the "ends soon" notice
  cart-policies  00:00 daily: announces cart policies to the merchants they affect on their
             announcement day, and puts them in force (flags, then merchants' notices) at their instant

  --as-of <instant>        the instant the run works as of (with offset, e.g. 2020-05-08T00:00:00+08:00)
  --from <date> --to <date> one run per day at the job's scheduled time, in order (at most 366 days)
  --dry-run                report what would change, change nothing (over a range, each day as the real
                           run would see it after the days before)

A real run may not work as of more than 1 hour past the wall clock (exit 2); a dry run may look ahead.
A real run holds the job's lease (see: leases list). If another run holds it, the command says so on
stderr ("waiting for lease of <job> held by <owner>, heartbeat <n>s ago, lapses at <instant>") and
waits while it lapses (a killed run's lease lapses within ${LEASE_TTL_MS / 1000} s); if the holder's heartbeat moves on,
the holder is alive and the command fails (exit 1, LeaseHeldError naming it).

Prints one run report per occurrence (JSON Lines):
  { job, asOf, dryRun, examined, changed, alreadyDone, failed, transitions, … }
Exits 1 if any item failed (the failed items stay due and are picked up by the next run).`,
  async run({ positionals, values }, ctx) {
    const job = parseInput(jobNameSchema, positionals[0], '<job>');
    const raw: Record<string, unknown> = { dryRun: values['dry-run'] === true };
    if (values['as-of'] !== undefined) raw.asOf = values['as-of'];
    if (values.from !== undefined) raw.from = values.from;
    if (values.to !== undefined) raw.to = values.to;
    if (raw.asOf !== undefined && (raw.from !== undefined || raw.to !== undefined)) {
      throw new InputError('--as-of: give either --as-of or --from and --to, not both');
    }
    if (raw.asOf === undefined && raw.from === undefined && raw.to === undefined) {
      throw new InputError('--as-of: required (or --from and --to)');
    }
    if (raw.from !== undefined && raw.to === undefined) throw new InputError('--to: required with --from');
    if (raw.to !== undefined && raw.from === undefined) throw new InputError('--from: required with --to');
    const fields = { asOf: '--as-of', from: '--from', to: '--to' };
    let input: ReturnType<typeof parseJobInput>;
    try {
      input = parseJobInput(raw);
    } catch (error) {
      throw renameFields(error, fields);
    }
    const { deps } = await ctx.store();
    let quiet = 0;
    let result: RunResult;
    try {
      result = await runJob(deps, job, input, {
        leaseOwner: `cli:${hostname()}:${process.pid}`,
        leaseTtlMs: ctx.config.leaseTtlMs,
        onLeaseWait: (holder) =>
          ctx.progress(`waiting for lease of ${job} ${describeHolder(holder, deps.clock())}`),
        // Every run that changed something, and a line every 10 quiet ones.
        onReport: (r) =>
          (r.changed > 0 || r.failed > 0 || ++quiet % 10 === 0) &&
          ctx.progress(
            `${r.job} as of ${r.asOf}${r.dryRun ? ' (dry run)' : ''}: examined ${r.examined}, changed ${r.changed}, already done ${r.alreadyDone}, failed ${r.failed}`,
          ),
      });
    } catch (error) {
      throw renameFields(error, fields); // e.g. `to:` of a run too far ahead of the clock
    }
    const { reports } = result;
    return { output: reports, exitCode: reports.some((r) => r.failed > 0) ? EXIT.failed : EXIT.ok };
  },
};

const quoteCommand: Command = {
  name: 'quote',
  usage: 'quote --merchant <id> --created-at <instant> --source <ad|alliance|other> --standard-rate <r>',
  summary: "Quote the technical service fee rate of one of a merchant's orders.",
  options: {
    merchant: { type: 'string' },
    'created-at': { type: 'string' },
    source: { type: 'string' },
    'standard-rate': { type: 'string' },
  },
  help: `
A non-ad order (alliance or other; paid online or cash on delivery) created inside the window and
before any revocation pays min(1%, standard rate); every other order pays the standard rate.
The decision uses the window and the revocation instant, never the stored status.

  --merchant <id>          the merchant
  --created-at <instant>   when the order was created (with offset)
  --source <s>             ad (ad-traffic order), alliance (Selected Alliance), other (any other non-ad order)
  --standard-rate <r>      the category's standard rate as a fraction, e.g. 0.05

Prints { rate, promotion, reason, standardRate }.`,
  async run({ values }, ctx) {
    const args = parseInput(
      z.strictObject({
        '--merchant': merchantIdSchema,
        '--created-at': instantSchema,
        '--source': orderSourceSchema,
        '--standard-rate': standardRateSchema,
      }),
      {
        '--merchant': values.merchant,
        '--created-at': values['created-at'],
        '--source': values.source,
        '--standard-rate': values['standard-rate'],
      },
    );
    const { deps } = await ctx.store();
    const view = await getMerchant(deps, args['--merchant']);
    if (!view?.promotion) throw new NotFoundError(`no merchant ${args['--merchant']}`);
    const quote = quoteOrder(view.promotion, {
      createdAt: args['--created-at'],
      source: args['--source'],
      standardRate: args['--standard-rate'],
    });
    return {
      output: {
        merchantId: args['--merchant'],
        createdAt: args['--created-at'],
        source: args['--source'],
        ...quote,
      },
    };
  },
};

export const COMMANDS: Command[] = [
  windowCommand,
  importCommand,
  recordCommand,
  revokeCommand,
  merchantCommand,
  runCommand,
  ...LEASE_COMMANDS,
  quoteCommand,
  ...POLICY_COMMANDS,
  statusCommand,
  noticesCommand,
  demoCommand,
];
