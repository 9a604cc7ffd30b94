// `leases list` and `leases release`: the jobs' leases (one run of a job at a time), for operators.
import type { Command } from 'commander';
import * as z from 'zod';
import { jobNameSchema } from '../shared/jobs/input';
import { heartbeatInterval, LEASE_TTL_MS, leaseView, readLease, releaseLease } from '../shared/jobs/lease';
import { JOB_NAMES } from '../shared/jobs/registry';
import { group, outputOption, parseOptions, runs } from './framework';

const TTL_S = LEASE_TTL_MS / 1000;

export function defineLeases(program: Command) {
  const leases = group(program, 'leases', "The jobs' leases (one run of a job at a time).");
  leases
    .command('list')
    .addOption(outputOption())
    .description("The jobs' leases: which run holds each, and whether its heartbeat is fresh.")
    .addHelpText(
      'after',
      `
A real run holds its job's lease while it runs and renews it with a heartbeat; a run that died (kill -9)
stops beating and its lease lapses ${TTL_S} s after its last heartbeat. The next run takes a lapsed lease
by itself; "run" waits for a lapsing one.

Prints one line per lease (JSON Lines; nothing when no job is running):
  { job, owner, asOf, acquiredAt, heartbeatAt, expiresAt, state, heartbeatAgeMs }
state is "held" (the heartbeat is fresh: the run is alive) or "lapsed" (its run died).`,
    )
    .action(
      runs(async (_input, ctx) => {
        const { deps } = await ctx.store();
        const now = deps.clock();
        const holders = await Promise.all(JOB_NAMES.map((job) => readLease(deps, job)));
        return { output: holders.flatMap((holder) => (holder ? [leaseView(holder, now)] : [])) };
      }),
    );

  leases
    .command('release')
    .usage(`<${JOB_NAMES.join('|')}> [--force]`)
    .description("Delete a job's lease left by a run that died.")
    .argument('<job>', `one of ${JOB_NAMES.join(', ')}`)
    .option('--force', 'release a lease that is held (only when you know its process is dead)')
    .addHelpText(
      'after',
      `
Deletes the lease if it has lapsed. A lease whose holder's heartbeat is fresh belongs to a live run and
is refused (exit 1) unless --force; a run whose lease was released stops writing at its next heartbeat
(at most ${heartbeatInterval(LEASE_TTL_MS) / 1000} s later) and fails. There is rarely a need: a lapsed lease is taken by the next run.

Prints { job, released: true, owner, state, forced }, or { job, released: false, reason: "no lease" }
(exit 0) when no run holds the job's lease.`,
    )
    .action(
      runs(async ({ args, options }, ctx) => {
        const job = parseOptions(z.strictObject({ '<job>': jobNameSchema }), { '<job>': args[0] })['<job>'];
        const { deps } = await ctx.store();
        const outcome = await releaseLease(deps, job, options.force === true);
        if (outcome.released && outcome.forced) {
          ctx.progress(
            `released the lease of ${job} held by ${outcome.owner}: if that run is alive, it stops writing`,
          );
        }
        return {
          output: outcome,
          summary: outcome.released
            ? `leases release: released the lease of ${job}`
            : `leases release: nothing changed; ${job} has no lease`,
        };
      }),
    );
}
