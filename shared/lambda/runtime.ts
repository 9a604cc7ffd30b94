// What every Lambda function sets up once, at cold start: validated configuration, one client per
// service at module scope, Powertools Logger and Metrics.
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { type AppConfig, loadConfig } from '../config';
import { createDeps, type Deps, type Log } from '../deps';
import { createDynamoClients } from '../store/client';

export const SERVICE_NAME = 'promo-jobs';
export const METRICS_NAMESPACE = 'PromoJobs';

export interface Observability {
  logger: Logger;
  metrics: Metrics;
  log: Log;
}

export function createObservability(): Observability {
  const logger = new Logger({ serviceName: SERVICE_NAME });
  const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: SERVICE_NAME });
  const log: Log = {
    info: (message, attributes) => logger.info(message, attributes ?? {}),
    warn: (message, attributes) => logger.warn(message, attributes ?? {}),
    error: (message, attributes) => logger.error(message, attributes ?? {}),
  };
  return { logger, metrics, log };
}

export interface LambdaRuntime extends Observability {
  config: AppConfig;
  deps: Deps;
}

/** For functions that work on the table. Throws at cold start on bad configuration: fail fast. */
export function createRuntime(env: Record<string, string | undefined> = process.env): LambdaRuntime {
  const config = loadConfig(env);
  const observability = createObservability();
  const { doc } = createDynamoClients(config.dynamodbEndpoint);
  return { ...observability, config, deps: createDeps(config, doc, observability.log) };
}
