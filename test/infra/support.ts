// Synthesizing the app the way `cdk synth` does (infra/promo-jobs-app.ts), into a temporary folder,
// and reading the template back in terms a test can assert on.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, type CfnElement, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { addPromoJobsStage } from '../../infra/promo-jobs-app';
import type { PromoJobsStack } from '../../infra/promo-jobs-stack';

export interface Synth {
  app: App;
  stack: PromoJobsStack;
  template: Template;
  outdir: string;
  /** The CloudFormation logical id of a construct (or of its default child). */
  idOf(construct: IConstruct): string;
}

/**
 * One synth of stage `test` with the given CDK context and no environment variables (so nothing on
 * the host leaks in). Without `bundle`, the functions' code is not bundled: assertions on the
 * template do not need it, and they stay fast.
 */
export function synth(context: Record<string, string> = {}, options: { bundle?: boolean } = {}): Synth {
  const outdir = mkdtempSync(join(tmpdir(), 'promo-jobs-cdk-'));
  const app = new App({
    outdir,
    context: {
      stage: 'test',
      ...context,
      ...(options.bundle ? {} : { 'aws:cdk:bundling-stacks': [] }),
    },
  });
  const stack = addPromoJobsStage(app, {});
  const template = Template.fromStack(stack);
  const idOf = (construct: IConstruct) => {
    const element = (construct.node.defaultChild ?? construct) as CfnElement;
    return Stack.of(construct).getLogicalId(element);
  };
  return { app, stack, template, outdir, idOf };
}

export type Resources = Record<
  string,
  { Type: string; Properties?: Record<string, unknown>; [key: string]: unknown }
>;

export function resourcesOfType(template: Template, type: string): Resources {
  return template.findResources(type) as Resources;
}

/**
 * A resource reference as readable text: `{ "Fn::GetAtt": ["Table", "Arn"] }` → `Table.Arn`,
 * `{ Ref: "Topic" }` → `Topic`, an `Fn::Join` → its parts joined.
 */
export function asText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && value !== null) {
    const token = value as Record<string, unknown>;
    if (Array.isArray(token['Fn::GetAtt'])) return (token['Fn::GetAtt'] as string[]).join('.');
    if (typeof token.Ref === 'string') return token.Ref;
    if (Array.isArray(token['Fn::Join'])) {
      const [separator, parts] = token['Fn::Join'] as [string, unknown[]];
      return parts.map(asText).join(separator);
    }
  }
  return JSON.stringify(value);
}

export interface Statement {
  effect: string;
  actions: string[];
  resources: string[];
}

const list = (value: unknown): unknown[] =>
  Array.isArray(value) ? value : value === undefined ? [] : [value];

/** Every statement of the identity policies attached to a role, normalised and sorted. */
export function roleStatements(template: Template, roleId: string): Statement[] {
  const statements: Statement[] = [];
  for (const policy of Object.values(resourcesOfType(template, 'AWS::IAM::Policy'))) {
    const roles = list(policy.Properties?.Roles).map(asText);
    if (!roles.includes(roleId)) continue;
    const document = policy.Properties?.PolicyDocument as { Statement: Record<string, unknown>[] };
    for (const s of document.Statement) {
      statements.push({
        effect: String(s.Effect),
        actions: list(s.Action).map(String).sort(),
        resources: list(s.Resource).map(asText).sort(),
      });
    }
  }
  return statements.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
}
