// `demo` (what `npm start` runs): replay 2020 on the embedded DynamoDB Local and show what happened.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { InputError, parseInput } from '../shared/errors';
import { calendarDateSchema } from '../shared/time';
import { renderChart } from './demo/chart';
import { type ReplaySummary, replay } from './demo/replay';
import type { Command } from './framework';

const DEFAULTS = { from: '2020-04-25', to: '2020-11-15', merchants: 3000, seed: 2020 };

const optionsSchema = z
  .strictObject({
    '--from': calendarDateSchema,
    '--to': calendarDateSchema,
    '--merchants': z.coerce.number().int('must be a whole number').min(1).max(200_000),
    '--seed': z.coerce
      .number()
      .int('must be a whole number')
      .min(0)
      .max(2 ** 32 - 1),
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

function table(summary: ReplaySummary, chartPath: string): string {
  return [
    '',
    `Replayed ${summary.from} … ${summary.to}: ${summary.merchants} merchants (seed ${summary.seed}), ${summary.runs} job runs in ${(summary.durationMs / 1000).toFixed(1)} s`,
    `Imported: ${summary.imported.created} created, ${summary.imported.updated} updated, ${summary.imported.unchanged} unchanged; cart policies: ${summary.policies.created} created, ${summary.policies.unchanged} unchanged`,
    '',
    ...section('changes by kind', summary.transitions),
    ...section('notices by type', summary.notices),
    ...section('promotions by status', summary.statuses),
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

export const demoCommand: Command = {
  name: 'demo',
  usage: 'demo [--from <date>] [--to <date>] [--merchants <n>] [--seed <n>]',
  summary: 'Replay 2020 on the embedded DynamoDB Local with a generated population (what npm start runs).',
  options: {
    from: { type: 'string', default: DEFAULTS.from },
    to: { type: 'string', default: DEFAULTS.to },
    merchants: { type: 'string', default: String(DEFAULTS.merchants) },
    seed: { type: 'string', default: String(DEFAULTS.seed) },
  },
  help: `
Generates --merchants merchants onboarding from late April to October 2020 (deterministic for --seed),
imports them through the real import path, loads the cart-policy calendar, then runs the jobs day by
day as the schedules would: 00:00 activate and cart-policies, violations as they happen, 23:59
expire; each day's notices are delivered through the table's stream to the local sink.

  --from <date>      first day replayed (default ${DEFAULTS.from})
  --to <date>        last day replayed (default ${DEFAULTS.to})
  --merchants <n>    population size (default ${DEFAULTS.merchants})
  --seed <n>         population seed (default ${DEFAULTS.seed})

Progress and a summary table go to stderr, the summary as JSON to stdout, and a chart of active
promotions and notices per day to $PROMO_JOBS_HOME/demo/report.html.
State stays under PROMO_JOBS_HOME: inspect it afterwards, e.g. "merchant demo-000001".`,
  async run({ values }, ctx) {
    const options = parseInput(optionsSchema, {
      '--from': values.from,
      '--to': values.to,
      '--merchants': values.merchants,
      '--seed': values.seed,
    });
    if (ctx.config.target === 'aws')
      throw new InputError('demo: runs only on a local DynamoDB, never on the deployed table');
    const store = await ctx.store();
    const tty = ctx.stderr.isTTY === true;
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
        deliver: () => store.deliverNotices(),
        onDay: (index, total, day) => {
          const done = index + 1;
          if (tty) ctx.stderr.write(`\r${bar(done, total)} ${day.day}${done === total ? '\n' : ''}`);
          else if (done === total || done % Math.max(1, Math.ceil(total / 10)) === 0)
            ctx.progress(`${bar(done, total)} ${day.day}`);
        },
      },
    );
    const chartPath = join(store.home, 'demo', 'report.html');
    writeFileSync(chartPath, renderChart(summary));
    ctx.stderr.write(table(summary, chartPath));
    const { days: _days, ...rest } = summary;
    return { output: { ...rest, chart: chartPath } };
  },
};
