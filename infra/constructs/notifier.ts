// Notices: the table's stream → the notifier function → one SNS topic, encrypted with our own key,
// with the stage's subscriptions (filter policies on the message attributes) and subscriber accounts.
import { createHash } from 'node:crypto';
import { Duration } from 'aws-cdk-lib';
import { AccountPrincipal, Effect, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { Key } from 'aws-cdk-lib/aws-kms';
import { StartingPosition } from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Subscription, SubscriptionFilter, SubscriptionProtocol, type Topic } from 'aws-cdk-lib/aws-sns';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';
import type { NoticeSubscription } from '../stage';
import { encryptedTopic } from './encrypted-topic';
import { failureQueue } from './failure-queue';
import { PromoFunction } from './promo-function';
import type { PromoTable } from './promo-table';

/**
 * The stream mapping, explained in docs/infrastructure.md ("Notifier"):
 * - batches of 100 records: at most 100 notices, i.e. ≤ 10 PublishBatch requests, well inside the
 *   timeout; a redelivery after a partial failure repeats little;
 * - 4 concurrent batches per shard: the 00:00 and 23:59 bursts drain 4× faster, while records of one
 *   item (one merchant's promotion) stay in order, which is all the notices need;
 * - a failing batch is split until the bad record is alone, retried a bounded number of times, and
 *   then recorded in the failure queue, so one poison record cannot hold up a shard for a day;
 * - records older than 6 h go to the failure queue too, leaving 18 of the stream's 24 hours to
 *   replay them from the sequence numbers in the failure message.
 */
const STREAM_BATCH_SIZE = 100;
const STREAM_PARALLELIZATION = 4;
const STREAM_RETRY_ATTEMPTS = 10;
const STREAM_MAX_RECORD_AGE = Duration.hours(6);
/** 512 MB and 60 s: a batch is ≤ 100 small JSON messages and a few HTTPS requests with backoff. */
const NOTIFIER_MEMORY_MB = 512;
const NOTIFIER_TIMEOUT = Duration.seconds(60);

export interface NotifierProps {
  prefix: string;
  topicName: string;
  table: PromoTable;
  /** Subscriptions this stack owns (stage file `subscriptions`). */
  subscriptions?: NoticeSubscription[];
  /** Accounts whose principals may call sns:Subscribe on the topic (stage file `subscriberAccounts`). */
  subscriberAccounts?: string[];
}

const PROTOCOLS: Record<NoticeSubscription['protocol'], SubscriptionProtocol> = {
  https: SubscriptionProtocol.HTTPS,
  email: SubscriptionProtocol.EMAIL,
  'email-json': SubscriptionProtocol.EMAIL_JSON,
  sms: SubscriptionProtocol.SMS,
  sqs: SubscriptionProtocol.SQS,
  lambda: SubscriptionProtocol.LAMBDA,
};

/**
 * A subscription's construct id, from its protocol and endpoint: adding or removing another one
 * leaves it alone (an index would shift, and CloudFormation would re-create it: an e-mail or https
 * endpoint would have to confirm again). Changing its filter policy updates it in place.
 */
export const subscriptionId = ({ protocol, endpoint }: NoticeSubscription) =>
  `Subscription-${createHash('sha256').update(`${protocol} ${endpoint}`).digest('hex').slice(0, 12)}`;

export class Notifier extends Construct {
  public readonly topic: Topic;
  public readonly key: Key;
  public readonly function: PromoFunction;
  /** The stream mapping's on-failure destination (batch metadata: shard and sequence numbers). */
  public readonly failures: Queue;

  constructor(scope: Construct, id: string, props: NotifierProps) {
    super(scope, id);
    const { prefix } = props;
    ({ topic: this.topic, key: this.key } = encryptedTopic(this, 'Topic', {
      topicName: props.topicName,
      displayName: 'Promotion notices to merchants',
      keyAlias: `alias/${prefix}-notices`,
      keyDescription: `${prefix}: encrypts the notices topic`,
    }));

    for (const s of props.subscriptions ?? []) {
      new Subscription(this, subscriptionId(s), {
        topic: this.topic,
        protocol: PROTOCOLS[s.protocol],
        endpoint: s.endpoint,
        filterPolicy:
          s.filterPolicy &&
          Object.fromEntries(
            Object.entries(s.filterPolicy).map(([attribute, allowlist]) => [
              attribute,
              SubscriptionFilter.stringFilter({ allowlist }),
            ]),
          ),
      });
    }
    const accounts = props.subscriberAccounts ?? [];
    if (accounts.length > 0) {
      // Those accounts manage their own subscriptions (an SQS queue or function of theirs); they may
      // subscribe only, not publish or change the topic. Messages reach them decrypted by SNS.
      this.topic.addToResourcePolicy(
        new PolicyStatement({
          sid: 'SubscriberAccounts',
          effect: Effect.ALLOW,
          principals: accounts.map((account) => new AccountPrincipal(account)),
          actions: ['sns:Subscribe'],
          resources: [this.topic.topicArn],
        }),
      );
    }

    this.function = new PromoFunction(this, 'Function', {
      name: 'notifier',
      prefix,
      description: 'Table stream → notices → SNS PublishBatch',
      memorySize: NOTIFIER_MEMORY_MB,
      timeout: NOTIFIER_TIMEOUT,
    }).bindTopic(this.topic);

    this.failures = failureQueue(
      this,
      'Failures',
      `${prefix}-notifier-failures`,
      'stream batches the notifier could not publish within its retries and record age',
    );
    this.function.fn.addEventSource(
      new DynamoEventSource(props.table.table, {
        startingPosition: StartingPosition.TRIM_HORIZON,
        batchSize: STREAM_BATCH_SIZE,
        parallelizationFactor: STREAM_PARALLELIZATION,
        reportBatchItemFailures: true,
        bisectBatchOnError: true,
        retryAttempts: STREAM_RETRY_ATTEMPTS,
        maxRecordAge: STREAM_MAX_RECORD_AGE,
        onFailure: new SqsDlq(this.failures),
      }),
    );

    NagSuppressions.addResourceSuppressions(
      this.function.role,
      [
        {
          id: 'AwsSolutions-IAM5',
          reason:
            'kms:GenerateDataKey* (GenerateDataKey and GenerateDataKeyWithoutPlaintext) is what SNS needs to encrypt a published message; it is granted on the notices key only.',
          appliesTo: ['Action::kms:GenerateDataKey*'],
        },
      ],
      true,
    );
  }
}
