// What every Lambda function sets up once, at cold start: validated configuration, one client per
// service at module scope, Powertools Logger and Metrics.
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DateTime } from 'luxon';
import { loadConfig } from '../config';
import type { Deps } from '../deps';
import { createDynamoClients } from '../store/client';

export const SERVICE_NAME = 'promo-jobs';
export const METRICS_NAMESPACE = 'PromoJobs';

export interface LambdaRuntime {
  deps: Deps;
  logger: Logger;
  metrics: Metrics;
}

export function createRuntime(env: Record<string, string | undefined> = process.env): LambdaRuntime {
  const config = loadConfig(env); // throws at cold start on bad configuration: fail fast
  const logger = new Logger({ serviceName: SERVICE_NAME });
  const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME });
  const { doc } = createDynamoClients(config.dynamodbEndpoint);
  const deps: Deps = {
    db: doc,
    tableName: config.tableName,
    clock: () => DateTime.now(),
    programStart: config.programStart,
    writeConcurrency: config.writeConcurrency,
    log: {
      info: (message, attributes) => logger.info(message, attributes ?? {}),
      warn: (message, attributes) => logger.warn(message, attributes ?? {}),
      error: (message, attributes) => logger.error(message, attributes ?? {}),
    },
  };
  return { deps, logger, metrics };
}
