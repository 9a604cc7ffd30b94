// How upstream systems record merchants: MerchantOnboarded / MerchantViolation events on our own
// event bus → a rule → the recorder function (shared/lambda/recorder-handler.ts).
import { Duration } from 'aws-cdk-lib';
import { EventBus, Rule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { AccountPrincipal, AnyPrincipal, Effect, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { MERCHANT_EVENT_SOURCE, MERCHANT_EVENT_TYPES } from '../../shared/merchants/upstream-events';
import type { TableAccess } from '../../shared/store/access';
import { failureQueue } from './failure-queue';
import { PromoFunction } from './promo-function';
import type { PromoTable } from './promo-table';

/**
 * Recording is idempotent and a late record is still right (the next activate run catches up), so
 * delivery is retried for up to a day before the event is parked in the failure queue.
 */
const DELIVERY_MAX_AGE = Duration.hours(24);
const DELIVERY_RETRY_ATTEMPTS = 50;
/** Lambda's retries of a failed event (1 and 2 minutes later): time for an out-of-order onboarding to land. */
const RECORDER_RETRY_ATTEMPTS = 2;
/** How long an event may wait in Lambda's own queue (throttling) before it is parked: Lambda's maximum. */
const RECORDER_QUEUE_MAX_AGE = Duration.hours(6);
/** 256 MB and 30 s: one event is a handful of DynamoDB calls; SDK backoff under throttling fits. */
const RECORDER_MEMORY_MB = 256;
const RECORDER_TIMEOUT = Duration.seconds(30);
/** Kept for replay (`aws events start-replay`) after a fix. */
const ARCHIVE_RETENTION = Duration.days(30);

/** An IAM role that may put events on the bus, and the account it lives in. */
export interface MerchantProducer {
  roleArn: string;
  account: string;
}

export interface MerchantRecorderProps {
  prefix: string;
  /** Who may put events on the bus; everyone else is refused by the bus policy. */
  producers: MerchantProducer[];
  table: PromoTable;
  access: TableAccess;
  environment?: Record<string, string>;
}

export class MerchantRecorder extends Construct {
  public readonly bus: EventBus;
  public readonly rule: Rule;
  public readonly function: PromoFunction;
  /** Rule DLQ (events EventBridge could not deliver) and Lambda on-failure destination in one. */
  public readonly failures: Queue;

  constructor(scope: Construct, id: string, props: MerchantRecorderProps) {
    super(scope, id);
    const { prefix } = props;
    this.bus = new EventBus(this, 'Bus', {
      eventBusName: `${prefix}-merchants`,
      description: 'Merchant events from the merchant system (source marketplace.merchants)',
    });
    this.allowOnly(props.producers);
    const pattern = { source: [MERCHANT_EVENT_SOURCE], detailType: [...MERCHANT_EVENT_TYPES] };
    this.bus.archive('Archive', {
      archiveName: `${prefix}-merchants`,
      description: 'Merchant events, for replay after a fix',
      eventPattern: pattern,
      retention: ARCHIVE_RETENTION,
    });

    this.function = new PromoFunction(this, 'Function', {
      name: 'recorder',
      prefix,
      description: 'MerchantOnboarded / MerchantViolation events → merchants recorded, promotions revoked',
      memorySize: RECORDER_MEMORY_MB,
      timeout: RECORDER_TIMEOUT,
      environment: props.environment,
    }).bindTable(props.table, props.access);

    this.failures = failureQueue(
      this,
      'Failures',
      `${prefix}-recorder-failures`,
      'merchant events that could not be delivered, did not validate, or failed after retries',
    );
    this.function.fn.configureAsyncInvoke({
      retryAttempts: RECORDER_RETRY_ATTEMPTS,
      maxEventAge: RECORDER_QUEUE_MAX_AGE,
      onFailure: new SqsDestination(this.failures),
    });

    this.rule = new Rule(this, 'Rule', {
      ruleName: `${prefix}-merchant-events`,
      description: 'Merchant events → recorder',
      eventBus: this.bus,
      eventPattern: pattern,
      targets: [
        new LambdaFunction(this.function.fn, {
          deadLetterQueue: this.failures,
          retryAttempts: DELIVERY_RETRY_ATTEMPTS,
          maxEventAge: DELIVERY_MAX_AGE,
        }),
      ],
    });
  }

  /**
   * The bus policy: the named roles may put events (an Allow is what a role in another account
   * needs), and every other principal is refused (a Deny is what stops one of this account, whose
   * identity policy alone would do). AWS services are left out of the Deny: none is allowed to put
   * events here either, and archive replays are EventBridge's own.
   */
  private allowOnly(producers: MerchantProducer[]): void {
    if (producers.length === 0) throw new Error('the merchant bus needs at least one producer');
    const roleArns = producers.map((p) => p.roleArn);
    this.bus.addToResourcePolicy(
      new PolicyStatement({
        sid: 'AllowNamedProducers',
        effect: Effect.ALLOW,
        principals: [...new Set(producers.map((p) => p.account))].map((a) => new AccountPrincipal(a)),
        actions: ['events:PutEvents'],
        resources: [this.bus.eventBusArn],
        conditions: { ArnEquals: { 'aws:PrincipalArn': roleArns } },
      }),
    );
    this.bus.addToResourcePolicy(
      new PolicyStatement({
        sid: 'DenyOtherProducers',
        effect: Effect.DENY,
        principals: [new AnyPrincipal()],
        actions: ['events:PutEvents'],
        resources: [this.bus.eventBusArn],
        conditions: {
          ArnNotEquals: { 'aws:PrincipalArn': roleArns },
          Bool: { 'aws:PrincipalIsAWSService': 'false' },
        },
      }),
    );
  }
}
