// cdk-nag AwsSolutions on the whole app (as every `cdk synth` runs it): no unsuppressed error or
// warning, and every suppression is specific and explains itself. This file's synth has an alarm
// e-mail, named merchant producers, notice subscriptions and subscriber accounts (from its stage
// file), so the subscriptions and the configured bus and topic policies (stack.test.ts's synth has
// none of them) are asserted here too.
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { subscriptionId } from '../../infra/constructs/notifier';
import type { NoticeSubscription } from '../../infra/stage';
import { resourcePolicyStatements, resourcesOfType, synth } from './support';

const PRODUCERS = [
  'arn:aws:iam::123456789012:role/merchant-system',
  'arn:aws:iam::210987654321:role/merchant-replay',
];
const SUBSCRIPTIONS: NoticeSubscription[] = [
  {
    protocol: 'sqs',
    endpoint: 'arn:aws:sqs:ap-east-1:210987654321:merchant-messages',
    filterPolicy: { type: ['PROMOTION_ACTIVATED', 'PROMOTION_EXPIRED'], programId: ['SEED_PLAN_2020'] },
  },
  {
    protocol: 'https',
    endpoint: 'https://live-rooms.example.com/sns',
    filterPolicy: { type: ['CART_POLICY_IN_FORCE'] },
  },
  {
    protocol: 'email',
    endpoint: 'merchant-a-watch@example.com',
    filterPolicy: { merchantId: ['merchant-a'] },
  },
  { protocol: 'lambda', endpoint: 'arn:aws:lambda:ap-east-1:123456789012:function:audit' },
];
const SUBSCRIBER_ACCOUNTS = ['210987654321', '345678901234'];
// With an alarm e-mail and two producers (one in another account) from context, subscriptions and
// subscriber accounts from the stage file, so all of them are checked too.
const { stack, template, idOf } = synth(
  { alarmEmail: 'ops@example.com', merchantProducers: PRODUCERS.join(',') },
  { stageFile: { subscriptions: SUBSCRIPTIONS, subscriberAccounts: SUBSCRIBER_ACCOUNTS } },
);
const annotations = Annotations.fromStack(stack);
const nag = Match.stringLikeRegexp('AwsSolutions-.*');

interface Suppression {
  id: string;
  reason: string;
  applies_to?: unknown[];
}
type NagMetadata = { cdk_nag?: { rules_to_suppress: Suppression[] } } | undefined;

/** Every suppression written into the template: per resource, and stack-wide. */
function suppressions(): { where: string; rule: Suppression }[] {
  const json = template.toJSON() as {
    Metadata?: NagMetadata;
    Resources: Record<string, { Metadata?: NagMetadata }>;
  };
  const found = (json.Metadata?.cdk_nag?.rules_to_suppress ?? []).map((rule) => ({ where: 'stack', rule }));
  for (const [id, resource] of Object.entries(json.Resources)) {
    for (const rule of resource.Metadata?.cdk_nag?.rules_to_suppress ?? []) found.push({ where: id, rule });
  }
  return found;
}

describe('cdk-nag AwsSolutions', () => {
  it('reports no unsuppressed errors', () => {
    expect(annotations.findError('*', nag).map((a) => `${a.id}: ${a.entry.data}`)).toEqual([]);
  });

  it('reports no unsuppressed warnings', () => {
    expect(annotations.findWarning('*', nag).map((a) => `${a.id}: ${a.entry.data}`)).toEqual([]);
  });

  it('suppresses only the reviewed rules, each with a reason, wildcard findings one by one', () => {
    const all = suppressions();
    // A new kind of suppression must be added here on purpose, after review.
    expect([...new Set(all.map((s) => s.rule.id))].sort()).toEqual([
      'AwsSolutions-IAM5',
      'AwsSolutions-L1',
      'AwsSolutions-SQS3',
    ]);
    for (const { where, rule } of all) {
      expect(rule.reason.length, `${where} ${rule.id}`).toBeGreaterThan(60);
      if (rule.id === 'AwsSolutions-IAM5') expect(rule.applies_to, `${where} ${rule.id}`).toHaveLength(1);
    }
    // Stack-wide only the runtime pin; everything else is on the resource it is about.
    expect(all.filter((s) => s.where === 'stack').map((s) => s.rule.id)).toEqual(['AwsSolutions-L1']);
  });
});

describe('with an alarm e-mail', () => {
  it('subscribes it to the operators topic, and nothing else', () => {
    const onOperations = Object.values(resourcesOfType(template, 'AWS::SNS::Subscription')).filter(
      (s) => JSON.stringify(s.Properties?.TopicArn) === JSON.stringify({ Ref: idOf(stack.operations.topic) }),
    );
    expect(onOperations.map((s) => s.Properties)).toEqual([
      { Protocol: 'email', Endpoint: 'ops@example.com', TopicArn: { Ref: idOf(stack.operations.topic) } },
    ]);
  });
});

describe('with notice subscriptions in the stage file', () => {
  const topic = { Ref: idOf(stack.notifier.topic) };

  it('subscribes each endpoint to the notices topic with its filter policy on the message attributes', () => {
    const subscriptions = Object.values(resourcesOfType(template, 'AWS::SNS::Subscription'))
      .map((s) => s.Properties)
      .filter((p) => JSON.stringify(p?.TopicArn) === JSON.stringify(topic));
    // SNS's filter policy: attribute → the values one of which a message must carry (no scope: the
    // message attributes, which is where the publisher puts type, merchantId and programId).
    expect(subscriptions).toEqual([
      {
        Protocol: 'sqs',
        Endpoint: 'arn:aws:sqs:ap-east-1:210987654321:merchant-messages',
        TopicArn: topic,
        FilterPolicy: { type: ['PROMOTION_ACTIVATED', 'PROMOTION_EXPIRED'], programId: ['SEED_PLAN_2020'] },
      },
      {
        Protocol: 'https',
        Endpoint: 'https://live-rooms.example.com/sns',
        TopicArn: topic,
        FilterPolicy: { type: ['CART_POLICY_IN_FORCE'] },
      },
      {
        Protocol: 'email',
        Endpoint: 'merchant-a-watch@example.com',
        TopicArn: topic,
        FilterPolicy: { merchantId: ['merchant-a'] },
      },
      {
        Protocol: 'lambda',
        Endpoint: 'arn:aws:lambda:ap-east-1:123456789012:function:audit',
        TopicArn: topic,
      },
    ]);
  });

  it('names each subscription by its protocol and endpoint, so removing another one leaves it in place', () => {
    const ids = SUBSCRIPTIONS.map((s) => stack.notifier.node.findChild(subscriptionId(s)).node.id);
    expect(new Set(ids).size).toBe(SUBSCRIPTIONS.length);
    const [first, ...rest] = SUBSCRIPTIONS as [NoticeSubscription, ...NoticeSubscription[]];
    expect(subscriptionId({ ...first, filterPolicy: { type: ['PROMOTION_REVOKED'] } })).toBe(
      subscriptionId(first),
    );
    expect(rest.map(subscriptionId)).not.toContain(subscriptionId(first));
  });
});

describe('with subscriber accounts in the stage file', () => {
  const onTopic = () =>
    resourcePolicyStatements(template).filter(
      (s) => s.type === 'AWS::SNS::TopicPolicy' && s.where === topicPolicyId(),
    );
  const topicPolicyId = () => {
    const [id] = Object.entries(resourcesOfType(template, 'AWS::SNS::TopicPolicy'))
      .filter(
        ([, p]) =>
          JSON.stringify(p.Properties?.Topics) === JSON.stringify([{ Ref: idOf(stack.notifier.topic) }]),
      )
      .map(([logicalId]) => logicalId);
    return id;
  };

  it('the notices topic policy lets those accounts subscribe, nothing else, and still refuses requests without TLS', () => {
    expect(
      onTopic().map(({ effect, aws, services, actions, conditions }) => ({
        effect,
        aws,
        services,
        actions,
        conditions,
      })),
    ).toEqual([
      // encrypted-topic.ts's statement, kept.
      {
        effect: 'Deny',
        aws: ['*'],
        services: [],
        actions: ['sns:Publish'],
        conditions: { Bool: { 'aws:SecureTransport': ['false'] } },
      },
      {
        effect: 'Allow',
        aws: SUBSCRIBER_ACCOUNTS.map((a) => `arn:AWS::Partition:iam::${a}:root`),
        services: [],
        actions: ['sns:Subscribe'],
        conditions: {},
      },
    ]);
  });

  it('on the notices topic only (the alarm topic has no subscriber accounts), which stays KMS-encrypted', () => {
    const subscribe = resourcePolicyStatements(template).filter((s) => s.actions.includes('sns:Subscribe'));
    expect(subscribe.map((s) => s.where)).toEqual([topicPolicyId()]);
    template.hasResourceProperties('AWS::SNS::Topic', {
      TopicName: 'promo-jobs-test-notices',
      KmsMasterKeyId: { 'Fn::GetAtt': [idOf(stack.notifier.key), 'Arn'] },
    });
  });
});

describe('with named merchant producers', () => {
  it('the bus policy allows exactly those roles, from their accounts, and refuses everyone else', () => {
    const bus = resourcePolicyStatements(template).filter((s) => s.type === 'AWS::Events::EventBusPolicy');
    expect(bus.map(({ effect, aws, conditions }) => ({ effect, aws, conditions }))).toEqual([
      {
        effect: 'Allow',
        // Each producer's account (AccountPrincipal: the partition is resolved at deploy).
        aws: ['arn:AWS::Partition:iam::123456789012:root', 'arn:AWS::Partition:iam::210987654321:root'],
        conditions: { ArnEquals: { 'aws:PrincipalArn': PRODUCERS } },
      },
      {
        effect: 'Deny',
        aws: ['*'],
        conditions: {
          ArnNotEquals: { 'aws:PrincipalArn': PRODUCERS },
          Bool: { 'aws:PrincipalIsAWSService': ['false'] },
        },
      },
    ]);
  });
});
