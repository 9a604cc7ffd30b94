// The notifier's handler: a batch of stream records in, notices published, the records to redeliver
// reported as batch-item failures (the event source mapping has ReportBatchItemFailures on).
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { SNSClient } from '@aws-sdk/client-sns';
import middy from '@middy/core';
import type { Context, DynamoDBBatchResponse } from 'aws-lambda';
import type * as z from 'zod';
import { loadConfig, requireTopicArn } from '../config';
import { parseInput } from '../errors';
import { notifyFromStream, streamEventSchema } from '../notices/notifier';
import { type NoticePublisher, snsPublisher } from '../notices/publisher';
import { parseEvent } from './middleware';
import { createObservability, type Observability } from './runtime';

type StreamEvent = z.infer<typeof streamEventSchema>;

export function createNotifierHandler(
  observability: Observability = createObservability(),
  publisher: NoticePublisher = snsPublisher(
    new SNSClient({}),
    requireTopicArn(loadConfig()),
    observability.log,
  ),
) {
  const { logger, metrics, log } = observability;
  return middy<StreamEvent, DynamoDBBatchResponse, Error, Context>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(logMetrics(metrics))
    .use(parseEvent<StreamEvent, DynamoDBBatchResponse>((event) => parseInput(streamEventSchema, event)))
    .handler(async (event) => {
      const result = await notifyFromStream(event.Records, publisher, log);
      metrics.addMetric('StreamRecords', MetricUnit.Count, event.Records.length);
      metrics.addMetric('NoticesPublished', MetricUnit.Count, result.published);
      metrics.addMetric('NoticesFailed', MetricUnit.Count, result.failed);
      logger.info('stream batch', { records: event.Records.length, ...result });
      return { batchItemFailures: result.batchItemFailures };
    });
}
