// The handler every scheduled job shares: validate the event, run the job for each occurrence under
// the job's lease, stop before the invocation's time runs out and hand the rest to a follow-up
// invocation, log one structured line and emit metrics per run, and return the reports.
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { type JobInput, parseJobInput } from '../jobs/input';
import type { JobName } from '../jobs/registry';
import { type Continuation, type RunReport, runJob } from '../jobs/run';
import { parseInstant } from '../time';
import { parseEvent } from './middleware';
import { createRuntime, type LambdaRuntime } from './runtime';

export interface JobResult {
  job: JobName;
  reports: RunReport[];
  /** The event of the follow-up invocation that finishes the work, when this one ran out of time. */
  continuation?: Record<string, unknown>;
}

/** The event that continues a stopped run: the job input as an operator would write it. */
export function continuationEvent(continuation: Continuation): Record<string, unknown> {
  const { kind: _kind, ...event } = continuation;
  return event;
}

export interface JobHandlerOptions {
  /** Stop reading new work when less than this is left of the invocation (default: 60 s). */
  stopMarginMs?: number;
  /** Starts the follow-up invocation (default: this function, invoked asynchronously). */
  invokeContinuation?: (event: Record<string, unknown>, context: Context) => Promise<void>;
  /** The job lease's time to live (default: the configuration's LEASE_TTL_SECONDS); its heartbeat runs for the whole invocation. */
  leaseTtlMs?: number;
}

let lambda: LambdaClient | undefined;
async function invokeSelf(event: Record<string, unknown>, context: Context): Promise<void> {
  lambda ??= new LambdaClient({});
  await lambda.send(
    new InvokeCommand({
      FunctionName: context.invokedFunctionArn,
      InvocationType: 'Event',
      Payload: Buffer.from(JSON.stringify(event)),
    }),
  );
}

export function createJobHandler(
  job: JobName,
  runtime: LambdaRuntime = createRuntime(),
  options: JobHandlerOptions = {},
) {
  const { deps, logger, metrics } = runtime;
  const stopMarginMs = options.stopMarginMs ?? runtime.config.stopMarginMs;
  const invokeContinuation = options.invokeContinuation ?? invokeSelf;
  // A default dimension, not addDimensions: Powertools clears added dimensions after each flush, so a
  // warm container's second invocation would publish its metrics without `job` (and miss the alarms).
  metrics.setDefaultDimensions({ job });
  return middy<JobInput, JobResult, Error, Context>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics, { captureColdStartMetric: true }))
    .use(parseEvent<JobInput, JobResult>(parseJobInput))
    .handler(async (input, context) => {
      logger.appendKeys({
        job,
        trigger: input.kind,
        dryRun: input.dryRun,
        resumed: input.resume !== undefined,
      });
      // A held lease is refused at once (no waiting): Lambda's asynchronous retries try again later.
      const result = await runJob(deps, job, input, {
        leaseOwner: `lambda:${context.awsRequestId}`,
        leaseTtlMs: options.leaseTtlMs ?? runtime.config.leaseTtlMs,
        shouldStop: () => context.getRemainingTimeInMillis() < stopMarginMs,
        onReport: (report) => {
          if (report.dryRun) return;
          if (report.complete) metrics.addMetric('Runs', MetricUnit.Count, 1);
          metrics.addMetric('Examined', MetricUnit.Count, report.examined);
          metrics.addMetric('Transitions', MetricUnit.Count, report.changed);
          metrics.addMetric('Failed', MetricUnit.Count, report.failed);
          if (input.kind === 'scheduled' && report.complete) {
            // How far behind its schedule this run finished: late invocations and slow runs show here.
            const lag = parseInstant(report.finishedAt).diff(parseInstant(report.asOf)).as('seconds');
            metrics.addMetric('LagSeconds', MetricUnit.Seconds, Math.max(0, lag));
          }
        },
      });
      if (!result.continuation) return { job, reports: result.reports };
      const event = continuationEvent(result.continuation);
      metrics.addMetric('Continuations', MetricUnit.Count, 1);
      logger.info('ran out of time: continuing in a new invocation', {
        continuesAt: result.continuation.resume.asOf,
      });
      await invokeContinuation(event, context);
      return { job, reports: result.reports, continuation: event };
    });
}
