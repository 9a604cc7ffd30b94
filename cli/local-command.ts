// `local stop` and `local status`: the home's own DynamoDB Local, which the first command on a home
// starts and the next ones reuse (cli/local/local-server.ts). Neither opens the store.
import type { Command } from 'commander';
import { group, runs } from './framework';
import { DEFAULT_IDLE_SECONDS, IDLE_SETTING, localServerStatus, stopLocalServer } from './local/local-server';
import { homeDirectory } from './store';

export function defineLocal(program: Command) {
  const local = group(program, 'local', "The home's DynamoDB Local, kept running between commands.");
  local
    .command('stop')
    .description("Stop the home's DynamoDB Local (the next command starts a new one).")
    .addHelpText(
      'after',
      `
The first command on a home (PROMO_JOBS_HOME, default ./.promo-jobs) starts a DynamoDB Local for it and
leaves it running for the next commands; it stops itself after ${IDLE_SETTING} (default
${DEFAULT_IDLE_SECONDS}) seconds with no command using it. This stops it now and waits until it is gone.

Prints { stopped: true, pid, endpoint }, or { stopped: false } when none was running (exit 0 both ways).`,
    )
    .action(
      runs(async (_input, ctx) => {
        const outcome = await stopLocalServer(homeDirectory(ctx.env), ctx.log);
        ctx.progress(
          outcome.stopped
            ? `stopped DynamoDB Local (process ${outcome.pid}) at ${outcome.endpoint}`
            : 'no DynamoDB Local was running for this home: nothing changed',
        );
        return { output: outcome };
      }),
    );
  local
    .command('status')
    .description("Whether the home's DynamoDB Local is running, where, and when it stops itself.")
    .addHelpText(
      'after',
      `
Prints { running: true, home, pid, endpoint, started, lastUsed, idleSeconds, stopsAfter } or
{ running: false, home }. Looking does not count as using it.`,
    )
    .action(runs(async (_input, ctx) => ({ output: localServerStatus(homeDirectory(ctx.env)) })));
}
