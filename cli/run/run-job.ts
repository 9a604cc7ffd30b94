// What `run <job>` does once its options are checked: one occurrence (`--as-of`, or `--now`: the
// schedule's latest occurrence at or before the wall clock), or a backfill of any length (cli/run/backfill.ts).
// Each report is printed on stdout as its occurrence finishes; progress goes to stderr (a bar on a
// terminal, plain lines otherwise) and the command ends with one line saying what it changed.
import { hostname } from 'node:os';
import { SingleBar } from 'cli-progress';
import { type JobInput, latestOccurrence, MAX_RANGE_DAYS } from '../../shared/jobs/input';
import { describeHolder } from '../../shared/jobs/lease';
import type { JobName } from '../../shared/jobs/registry';
import { type RunOptions, type RunReport, runJob } from '../../shared/jobs/run';
import { type CalendarDate, formatInstant } from '../../shared/time';
import { type CommandContext, type CommandResult, EXIT } from '../framework';
import { type BackfillPlan, runBackfill } from './backfill';

export type RunRequest =
  | { kind: 'input'; input: JobInput }
  | { kind: 'now'; dryRun: boolean }
  | { kind: 'range'; from: CalendarDate; to: CalendarDate; dryRun: boolean };

/** One report as a progress line. */
const reportLine = (r: RunReport) =>
  `${r.job} as of ${r.asOf}${r.dryRun ? ' (dry run)' : ''}: examined ${r.examined}, changed ${r.changed}, already done ${r.alreadyDone}, failed ${r.failed}`;

/** What a run changed, for its last line: `changed 3 (ACTIVE 2, EXPIRED 1)`, or `nothing changed`. */
export function changedText(changed: number, transitions: Record<string, number>, dryRun: boolean): string {
  if (changed === 0) return 'nothing changed';
  const kinds = Object.entries(transitions)
    .filter(([, n]) => n > 0)
    .map(([kind, n]) => `${kind} ${n}`)
    .join(', ');
  return `${dryRun ? 'nothing changed; would change' : 'changed'} ${changed}${kinds ? ` (${kinds})` : ''}`;
}

export async function runFromCli(
  ctx: CommandContext,
  job: JobName,
  request: RunRequest,
): Promise<CommandResult> {
  const { deps } = await ctx.store();
  let quiet = 0;
  let failed = 0;
  const options: RunOptions = {
    leaseOwner: `cli:${hostname()}:${process.pid}`,
    leaseTtlMs: ctx.config.leaseTtlMs,
    onLeaseWait: (holder) =>
      ctx.progress(`waiting for lease of ${job} ${describeHolder(holder, deps.clock())}`),
  };
  const emit = (r: RunReport) => {
    failed += r.failed;
    ctx.emit(r);
  };
  // Every run that changed something, and a line every 10 quiet ones.
  const line = (r: RunReport) =>
    (r.changed > 0 || r.failed > 0 || ++quiet % 10 === 0) && ctx.progress(reportLine(r));

  if (request.kind !== 'range') {
    let input: JobInput;
    if (request.kind === 'now') {
      const now = deps.clock();
      const asOf = latestOccurrence(job, now);
      ctx.progress(
        `run ${job} --now: its latest scheduled occurrence at or before now (${formatInstant(now)}) is ${asOf}`,
      );
      input = { kind: 'asOf', asOf, dryRun: request.dryRun };
    } else {
      input = request.input;
    }
    const { reports } = await runJob(deps, job, input, {
      ...options,
      onReport: (r) => {
        line(r);
        emit(r);
      },
    });
    const changed = reports.reduce((n, r) => n + r.changed, 0);
    const transitions: Record<string, number> = {};
    for (const r of reports)
      for (const [kind, n] of Object.entries(r.transitions)) transitions[kind] = (transitions[kind] ?? 0) + n;
    const what = reports.length === 1 ? `as of ${reports[0]?.asOf}` : `${reports.length} occurrences`;
    return {
      output: undefined,
      exitCode: failed > 0 ? EXIT.failed : EXIT.ok,
      summary: `run ${job} ${what}${input.dryRun ? ' (dry run)' : ''}: ${changedText(changed, transitions, input.dryRun)}${failed > 0 ? `, ${failed} failed` : ''}`,
    };
  }

  const tty = ctx.stderr.isTTY === true;
  let bar: SingleBar | undefined;
  let changedSoFar = 0;
  const result = await runBackfill(
    deps,
    job,
    request,
    {
      onPlan: (plan) => {
        ctx.progress(planLine(plan));
        if (!tty || plan.chunks.length === 0) return;
        bar = new SingleBar({
          stream: ctx.stderr as unknown as NodeJS.WritableStream,
          format: `${job} [{bar}] {value}/{total} days | {day} | changed {changed} | ETA {eta_formatted}`,
          barsize: 30,
          etaBuffer: 30,
          hideCursor: null,
          // Ctrl-C must still end the command: the bar's own handler would swallow it.
          gracefulExit: false,
        });
        bar.start(plan.days, plan.skipped, { day: plan.from, changed: 0 });
      },
      onReport: (r, done) => {
        emit(r);
        changedSoFar += r.changed;
        if (bar) bar.update(done, { day: r.asOf.slice(0, 10), changed: changedSoFar });
        else line(r);
      },
      onChunk: (chunk, index, plan) => {
        if (bar || plan.chunks.length === 1) return;
        ctx.progress(`${job}: chunk ${index + 1}/${plan.chunks.length} (${chunk.from} … ${chunk.to}) done`);
      },
    },
    options,
  );
  bar?.stop();
  const { plan } = result;
  const skipped = plan.skipped > 0 ? `, ${plan.skipped} already done by an earlier run` : '';
  const summary = `run ${job} ${plan.from} … ${plan.to}${plan.dryRun ? ' (dry run)' : ''}: ${result.ran} of ${plan.days} days run${skipped}; ${changedText(result.changed, result.transitions, plan.dryRun)}${result.failed > 0 ? `, ${result.failed} failed` : ''}${result.complete ? '' : '; stopped early: run it again to continue'}`;
  return {
    output: undefined,
    exitCode: result.failed > 0 || !result.complete ? EXIT.failed : EXIT.ok,
    summary,
  };
}

/** What a backfill is about to do, before it starts. */
function planLine(plan: BackfillPlan): string {
  const chunks =
    plan.chunks.length > 1 ? ` in ${plan.chunks.length} chunks of at most ${MAX_RANGE_DAYS} days` : '';
  const head = `run ${plan.job} ${plan.from} … ${plan.to}${plan.dryRun ? ' (dry run)' : ''}: ${plan.days} days${chunks}`;
  if (plan.resumedAfter === undefined) return head;
  if (plan.chunks.length === 0)
    return `${head}; every day was done by an earlier run of the same command: nothing left to run`;
  return `${head}; resuming after ${plan.resumedAfter} (${plan.skipped} days done by an earlier run of the same command)`;
}
