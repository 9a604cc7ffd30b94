// `demo` (what `npm start` runs): replay 2020 on the embedded DynamoDB Local and show what happened.
import { join } from 'node:path';
import type { Command } from 'commander';
import * as z from 'zod';
import { InputError } from '../shared/errors';
import { NOTICE_TYPES } from '../shared/notices/notice';
import { PROMOTION_STATUSES } from '../shared/promotion/lifecycle';
import { calendarDateSchema } from '../shared/time';
import { type ByProgram, type ReplaySummary, replay } from './demo/replay';
import { createStageClock, type StageFigures } from './demo/stages';
import { parseOptions, runs } from './framework';
import { drawReport } from './report/report';

const DEFAULTS = { from: '2020-04-25', to: '2020-11-15', merchants: 3000, seed: 2020 };

const optionsSchema = z
  .strictObject({
    '--from': calendarDateSchema,
    '--to': calendarDateSchema,
    '--merchants': z.coerce
      .number({ error: 'must be a number' })
      .int('must be a whole number')
      .min(1, 'must be at least 1')
      .max(200_000, 'must be at most 200000'),
    '--seed': z.coerce
      .number({ error: 'must be a number' })
      .int('must be a whole number')
      .min(0, 'must be at least 0')
      .max(2 ** 32 - 1, `must be at most ${2 ** 32 - 1}`),
  })
  .refine((o) => o['--to'] >= o['--from'], { message: 'must be on or after --from', path: ['--to'] });

function bar(done: number, total: number, width = 30): string {
  const filled = Math.round((done / total) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`;
}

function section(title: string, record: Record<string, number>): string[] {
  const rows = Object.entries(record).sort(([a], [b]) => a.localeCompare(b));
  return [
    `  ${title.padEnd(24)} count`,
    ...rows.map(([kind, n]) => `  ${kind.padEnd(24)} ${String(n).padStart(6)}`),
    '',
  ];
}

/** Rows per program, a column per kind that occurs (in the given order). */
function grid(title: string, byProgram: ByProgram, kinds: readonly string[]): string[] {
  const programs = Object.keys(byProgram).sort();
  const columns = kinds.filter((k) => programs.some((p) => byProgram[p]?.[k]));
  const width = (k: string) => Math.max(k.length, 6);
  return [
    `  ${title.padEnd(24)} ${columns.map((k) => k.padStart(width(k))).join(' ')}`,
    ...programs.map(
      (p) =>
        `  ${p.padEnd(24)} ${columns.map((k) => String(byProgram[p]?.[k] ?? 0).padStart(width(k))).join(' ')}`,
    ),
    '',
  ];
}

function programDates(summary: ReplaySummary): string[] {
  return [
    '  programs (onboarded merchants eligible)',
    ...summary.programs.map(
      (p) =>
        `  ${p.programId.padEnd(24)} from ${p.from}${p.until ? ` until ${p.until}` : ''}${p.dateAssumed ? ' (date assumed)' : ''}  ${p.name}${p.status === 'ANNOUNCED' ? '' : `  ${p.status}`}`,
    ),
    '  fee policies',
    ...(summary.feePolicies.length === 0
      ? ['  none on the calendar']
      : summary.feePolicies.map(
          (f) =>
            `  from  ${f.effectiveAt.slice(0, 16)}  ${f.policyId}${f.dateAssumed ? ' (date assumed)' : ''}`,
        )),
    '',
  ];
}

function table(summary: ReplaySummary, chartPath: string): string {
  return [
    '',
    `Replayed ${summary.from} … ${summary.to}: ${summary.merchants} merchants (seed ${summary.seed}), ${summary.runs} job runs in ${(summary.durationMs / 1000).toFixed(1)} s`,
    `Imported: ${summary.imported.created} created, ${summary.imported.updated} updated, ${summary.imported.unchanged} unchanged; cart policies: ${summary.policies.created} created, ${summary.policies.unchanged} unchanged`,
    '',
    ...section('changes by kind', summary.transitions),
    ...section('notices by type', summary.notices),
    ...section('promotions by status', summary.statuses),
    ...grid('enrolments by program', summary.statusesByProgram, PROMOTION_STATUSES),
    ...grid('notices by program', summary.noticesByProgram, NOTICE_TYPES),
    ...programDates(summary),
    '  live-room cart flag (third-party products)',
    ...(summary.flagTimeline.length === 0
      ? ['  ALLOWED throughout']
      : [
          `  until ${summary.flagTimeline[0]?.since.slice(0, 16)}  ALLOWED`,
          ...summary.flagTimeline.map(
            (f) => `  from  ${f.since.slice(0, 16)}  ${f.value}  (${f.scope}; ${f.policyId})`,
          ),
        ]),
    '  short videos: ALLOWED throughout',
    '',
    summary.alreadyReplayed
      ? 'Nothing changed: this range was already replayed with this population (the jobs are idempotent), and no notice was sent twice.'
      : 'Run it again and nothing changes: every job is idempotent.',
    `Chart: ${chartPath}`,
    '',
  ].join('\n');
}

/** Each stage's share of the demo's time, the DynamoDB requests it sent and the items they wrote. */
function stageTable(stages: Record<string, StageFigures>, totalMs: number): string {
  const rows = Object.entries(stages);
  const other = totalMs - rows.reduce((sum, [, f]) => sum + f.ms, 0);
  const sum = (key: 'requests' | 'writes') => String(rows.reduce((n, [, f]) => n + f[key], 0));
  const line = (name: string, ms: number, requests: string, writes: string) =>
    `  ${name.padEnd(24)} ${(ms / 1000).toFixed(1).padStart(6)} s ${((100 * ms) / totalMs).toFixed(0).padStart(4)} % ${requests.padStart(9)} ${writes.padStart(7)}`;
  return [
    `  ${'where the time went'.padEnd(24)} ${'time'.padStart(8)} ${'share'.padStart(6)} ${'requests'.padStart(9)} ${'writes'.padStart(7)}`,
    ...rows.map(([name, f]) => line(name, f.ms, String(f.requests), String(f.writes))),
    line('other (start, output)', Math.max(0, other), '', ''),
    line('total', totalMs, sum('requests'), sum('writes')),
    '',
  ].join('\n');
}

export function defineDemo(program: Command) {
  program
    .command('demo')
    .usage('[--from <date>] [--to <date>] [--merchants <n>] [--seed <n>]')
    .description(
      'Replay 2020 on the embedded DynamoDB Local with a generated population (what npm start runs).',
    )
    .option('--from <date>', 'first day replayed', DEFAULTS.from)
    .option('--to <date>', 'last day replayed', DEFAULTS.to)
    .option('--merchants <n>', 'population size', String(DEFAULTS.merchants))
    .option('--seed <n>', 'population seed', String(DEFAULTS.seed))
    .addHelpText(
      'after',
      `
Generates --merchants merchants onboarding from late April to October 2020 (deterministic for --seed),
imports them through the real import path, loads the cart-policy calendar, then runs the jobs day by
day as the schedules would: 00:00 activate and cart-policies, violations as they happen, 23:59
expire; each day's notices are delivered through the table's stream to the local sink.

Progress and a summary table go to stderr (with enrolments and notices by program), the summary as
JSON to stdout, and the chart of the range (what "report --from --to" draws from the stored state:
active enrolments per program, notices per day, the scheduled runs, the program and policy dates) to
$PROMO_JOBS_HOME/demo/report.html.
State stays under PROMO_JOBS_HOME: inspect it afterwards, e.g. "merchant demo-000001".`,
    )
    .action(
      runs(async ({ options: given }, ctx) => {
        const options = parseOptions(optionsSchema, {
          '--from': given.from,
          '--to': given.to,
          '--merchants': given.merchants,
          '--seed': given.seed,
        });
        if (ctx.config.target === 'aws')
          throw new InputError('demo: runs only on a local DynamoDB, never on the deployed table');
        const started = Date.now(); // the stage table's total: the store's start is part of the wait
        const store = await ctx.store();
        const tty = ctx.stderr.isTTY === true;
        const stages = createStageClock(store.deps.db);
        ctx.progress(
          `Replaying ${options['--from']} … ${options['--to']} on DynamoDB Local at ${store.endpoint}`,
        );
        const summary = await replay(
          store.deps,
          {
            from: options['--from'],
            to: options['--to'],
            merchants: options['--merchants'],
            seed: options['--seed'],
            home: store.home,
          },
          {
            stages,
            deliver: () => store.deliverNotices(),
            onDay: (index, total, day) => {
              const done = index + 1;
              if (tty) ctx.stderr.write(`\r${bar(done, total)} ${day.day}${done === total ? '\n' : ''}`);
              else if (done === total || done % Math.max(1, Math.ceil(total / 10)) === 0)
                ctx.progress(`${bar(done, total)} ${day.day}`);
            },
          },
        );
        // The chart is drawn from the stored state, as `report` draws it: a repeated replay, which
        // changes nothing, still shows everything the range holds.
        const chartPath = join(store.home, 'demo', 'report.html');
        await stages.time('chart', () =>
          drawReport(store, { from: options['--from'], to: options['--to'] }, chartPath, {
            title: 'promo-jobs demo',
            ...(ctx.config.snsTopicArn ? { snsTopicArn: ctx.config.snsTopicArn } : {}),
          }),
        );
        const figures = stages.figures();
        ctx.stderr.write(table(summary, chartPath));
        ctx.stderr.write(stageTable(figures, Date.now() - started));
        const { days: _days, ...rest } = summary;
        return { output: { ...rest, chart: chartPath, stages: figures } };
      }),
    );
}
