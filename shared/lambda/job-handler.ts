// The handler every scheduled job shares: validate the event, run the job for each occurrence,
// log one structured line and emit metrics per run, and return the reports.
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { type JobInput, type JobName, parseJobInput } from '../jobs/input';
import { type RunReport, runJob } from '../jobs/run';
import { parseInstant } from '../time';
import { parseEvent } from './middleware';
import { createRuntime, type LambdaRuntime } from './runtime';

export interface JobResult {
  job: JobName;
  reports: RunReport[];
}

export function createJobHandler(job: JobName, runtime: LambdaRuntime = createRuntime()) {
  const { deps, logger, metrics } = runtime;
  // A default dimension, not addDimensions: Powertools clears added dimensions after each flush, so a
  // warm container's second invocation would publish its metrics without `job` (and miss the alarms).
  metrics.setDefaultDimensions({ job });
  return middy<JobInput, JobResult, Error, Context>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics, { captureColdStartMetric: true }))
    .use(parseEvent<JobInput, JobResult>(parseJobInput))
    .handler(async (input) => {
      logger.appendKeys({ job, trigger: input.kind, dryRun: input.dryRun });
      const reports = await runJob(deps, job, input, {
        onReport: (report) => {
          if (report.dryRun) return;
          metrics.addMetric('Runs', MetricUnit.Count, 1);
          metrics.addMetric('Examined', MetricUnit.Count, report.examined);
          metrics.addMetric('Transitions', MetricUnit.Count, report.changed);
          metrics.addMetric('Failed', MetricUnit.Count, report.failed);
          if (input.kind === 'scheduled') {
            // How far behind its schedule this run finished: late invocations and slow runs show here.
            const lag = parseInstant(report.finishedAt).diff(parseInstant(report.asOf)).as('seconds');
            metrics.addMetric('LagSeconds', MetricUnit.Seconds, Math.max(0, lag));
          }
        },
      });
      return { job, reports };
    });
}
