// cdk-nag AwsSolutions on the whole app (as every `cdk synth` runs it): no unsuppressed error or
// warning, and every suppression is specific and explains itself. This file's synth has an alarm
// e-mail and named merchant producers, so the e-mail subscription and the configured bus policy
// (stack.test.ts's synth has neither) are asserted here too.
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { resourcePolicyStatements, synth } from './support';

const PRODUCERS = [
  'arn:aws:iam::123456789012:role/merchant-system',
  'arn:aws:iam::210987654321:role/merchant-replay',
];
// With an alarm e-mail and two producers (one in another account), so both are checked too.
const { stack, template, idOf } = synth({
  alarmEmail: 'ops@example.com',
  merchantProducers: PRODUCERS.join(','),
});
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
    template.resourceCountIs('AWS::SNS::Subscription', 1);
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
      TopicArn: { Ref: idOf(stack.operations.topic) },
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
