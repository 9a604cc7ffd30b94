// `failures list <queue>` and `failures replay <queue>` (--aws): read a deployed failure queue without
// deleting anything, or re-drive each message after a fix, deleting it only once it was handled
// (cli/failures/queues.ts). There are no failure queues locally: the local CLI runs everything in-process.

import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { QueueDoesNotExist, SQSClient } from '@aws-sdk/client-sqs';
import type { Command } from 'commander';
import * as z from 'zod';
import { InputError, NotFoundError, unlessMissing } from '../shared/errors';
import { JOB_NAMES } from '../shared/jobs/registry';
import {
  type FailureQueue,
  failureQueueOf,
  listFailures,
  QUEUE_OWNERS,
  queueUrlOf,
  replayFailures,
} from './failures/queues';
import { type CommandContext, EXIT, group, outputOption, parseOptions, runs } from './framework';
import { requireRegion } from './store';

const DEFAULT_MAX = 1000;

const QUEUES_HELP = `
<queue> is one of ${QUEUE_OWNERS.join(', ')} (the queue <prefix>-<queue>-failures, prefix
promo-jobs-<stage>: --stage, else PROMO_JOBS_STAGE, else dev), or a failure queue's URL.
  <job>-failures     scheduler dead letters (the body is the job's input { scheduledTime }) and the
                     job function's on-failure records (requestPayload: the input; the error)
  notifier-failures  stream batches the notifier gave up on (DDBStreamBatchInfo: shard, sequence numbers)
  recorder-failures  merchant events the rule could not deliver (the event), or the recorder's
                     on-failure records (requestPayload: the event)`;

const optionsSchema = z.strictObject({
  '<queue>': z.string().min(1, 'must not be empty'),
  '--stage': z
    .string()
    .regex(/^[a-z][a-z0-9-]{0,19}$/, 'must be a stage name (1-20 lower-case letters, digits or "-")')
    .optional(),
  '--max': z.coerce
    .number({ error: unlessMissing('must be a whole number') })
    .int('must be a whole number')
    .min(1, 'must be at least 1')
    .max(100_000, 'must be at most 100000')
    .default(DEFAULT_MAX),
});

interface Target {
  queue: FailureQueue;
  max: number;
  sqs: SQSClient;
  queueUrl: string;
}

/** The queue the arguments name, in AWS; locally there is none (exit 2). */
async function targetOf(
  args: (string | undefined)[],
  options: Record<string, unknown>,
  ctx: CommandContext,
): Promise<Target> {
  const given = parseOptions(optionsSchema, {
    '<queue>': args[0],
    '--stage': options.stage,
    '--max': options.max,
  });
  if (ctx.config.target !== 'aws') {
    throw new InputError(
      'failures: there are no failure queues locally (local commands run the jobs, the notifier and the recorder in-process, and fail where you see them); use --aws for the deployed ones',
    );
  }
  const stage = given['--stage'] ?? (ctx.env.PROMO_JOBS_STAGE || 'dev');
  const queue = failureQueueOf(given['<queue>'], `promo-jobs-${stage}`);
  const sqs = new SQSClient({});
  await requireRegion(sqs, () => sqs.destroy());
  try {
    return { queue, max: given['--max'], sqs, queueUrl: await queueUrlOf(sqs, queue) };
  } catch (error) {
    sqs.destroy();
    if (error instanceof QueueDoesNotExist)
      throw new NotFoundError(`no queue ${queue.name} (is the stage deployed? --stage)`);
    throw error;
  }
}

export function defineFailures(program: Command) {
  const failures = group(program, 'failures', 'Read and re-drive the deployed failure queues (--aws).');
  failures
    .command('list')
    .addOption(outputOption())
    .usage(`<${QUEUE_OWNERS.join('|')}|queue-url> [--stage <stage>] [--max <n>]`)
    .description('List the messages of a failure queue, deleting nothing.')
    .argument('<queue>')
    .option('--stage <stage>', 'the deployed stage (default: PROMO_JOBS_STAGE, else dev)')
    .option('--max <n>', `at most n messages (default ${DEFAULT_MAX})`)
    .addHelpText(
      'after',
      `${QUEUES_HELP}

Receives every message (hidden for a few seconds while it reads) and makes each visible again at once;
nothing is deleted. Receiving counts as a receive (receiveCount goes up).
Prints one line per message: { messageId, sentAt, receiveCount, kind, summary, body }
kind: scheduler-dead-letter, lambda-failure, stream-batch, merchant-event or unknown.
Locally: exit 2 (there are no failure queues).`,
    )
    .action(
      runs(async ({ args, options }, ctx) => {
        const { sqs, queueUrl, max } = await targetOf(args, options, ctx);
        try {
          const messages = await listFailures(sqs, queueUrl, max);
          return { output: messages, columns: ['messageId', 'sentAt', 'receiveCount', 'kind', 'summary'] };
        } finally {
          sqs.destroy();
        }
      }),
    );

  failures
    .command('replay')
    .addOption(outputOption())
    .usage(`<${QUEUE_OWNERS.join('|')}|queue-url> [--stage <stage>] [--max <n>]`)
    .description('Re-drive each message of a failure queue after a fix; delete it once it was handled.')
    .argument('<queue>')
    .option('--stage <stage>', 'the deployed stage (default: PROMO_JOBS_STAGE, else dev)')
    .option('--max <n>', `at most n messages (default ${DEFAULT_MAX})`)
    .addHelpText(
      'after',
      `${QUEUES_HELP}

Each message, one at a time, is handled again by the function it was meant for, invoked synchronously
(lambda:InvokeFunction on <prefix>-<${JOB_NAMES.join('|')}|notifier|recorder>):
  a job's:       its input again ({ scheduledTime }, or the requestPayload: { asOf } / { from, to });
                 a run changes only what is still due, so a run that had happened meanwhile changes nothing
  the recorder's: the merchant event again (recording is idempotent; a stale one changes nothing)
  the notifier's: the batch's records, read back from the table's stream (kept 24 h), as { Records };
                 the notices keep their eventIds, so a repeat is dropped by subscribers. Records older
                 than 24 h are gone: the message stays; use "notices resend --merchant <id>".
A message is deleted only once its invocation succeeded; one that failed is made visible again and
stays in the queue. Prints one line per message: { messageId, kind, summary, outcome, error? }, and one
summary line on stderr. Exits 1 if any failed. Locally: exit 2 (there are no failure queues).`,
    )
    .action(
      runs(async ({ args, options }, ctx) => {
        const { sqs, queueUrl, queue, max } = await targetOf(args, options, ctx);
        const lambda = new LambdaClient({});
        const streams = new DynamoDBStreamsClient({});
        try {
          const lines = await replayFailures(sqs, queueUrl, queue, { lambda, streams }, max, (line) => {
            if (line.outcome === 'failed')
              ctx.progress(`failed: ${line.messageId} (${line.summary}): ${line.error}`);
          });
          const failed = lines.filter((l) => l.outcome === 'failed').length;
          ctx.progress(
            lines.length === 0
              ? `nothing to replay: ${queue.name} is empty`
              : `replayed ${lines.length - failed} of ${lines.length} messages from ${queue.name} (deleted)${failed > 0 ? `; ${failed} failed and stay in the queue` : ''}`,
          );
          return {
            output: lines,
            exitCode: failed > 0 ? EXIT.failed : EXIT.ok,
            columns: ['messageId', 'kind', 'outcome', 'summary', 'error'],
          };
        } finally {
          sqs.destroy();
          lambda.destroy();
          streams.destroy();
        }
      }),
    );
}
