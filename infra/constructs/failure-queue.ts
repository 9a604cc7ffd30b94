// Where work that could not be done is parked for an operator: every dead-letter queue and failure
// destination in this app is one of these, and each has an alarm (infra/constructs/operations.ts).
import { Duration } from 'aws-cdk-lib';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { NagSuppressions } from 'cdk-nag';
import type { Construct } from 'constructs';

export function failureQueue(scope: Construct, id: string, queueName: string, purpose: string): Queue {
  const queue = new Queue(scope, id, {
    queueName,
    // SQS-managed keys: EventBridge Scheduler, EventBridge and Lambda can all send without key grants.
    encryption: QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    // The longest SQS keeps anything: time to investigate, fix and redrive.
    retentionPeriod: Duration.days(14),
  });
  NagSuppressions.addResourceSuppressions(queue, [
    {
      id: 'AwsSolutions-SQS3',
      reason: `This queue is itself the dead-letter queue (${purpose}); a DLQ of a DLQ would only move the problem. It is alarmed at depth > 0.`,
    },
  ]);
  return queue;
}
