// Synthesizing the app the way `cdk synth` does (infra/promo-jobs-app.ts: cdk.json's context, a
// stage file), into a temporary folder, and reading the template back in terms a test can assert on.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
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

/** The context `cdk` gives the app from cdk.json (the feature flags): the tests synthesize with it too. */
export function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'cdk.json'), 'utf8'));
  return cdkJson.context;
}

/** A folder holding one stage file per entry (`<stage>.json`, JSON or text as given). */
export function stagesDir(files: Record<string, unknown>): string {
  const dir = mkdtempSync(join(tmpdir(), 'promo-jobs-stages-'));
  mkdirSync(dir, { recursive: true });
  for (const [stage, content] of Object.entries(files)) {
    writeFileSync(
      join(dir, `${stage}.json`),
      typeof content === 'string' ? content : JSON.stringify(content),
    );
  }
  return dir;
}

export interface SynthOptions {
  /** Bundle the functions' code (slow); without it, assertions on the template stay fast. */
  bundle?: boolean;
  /** The stage file of stage `test` (infra/stages/<stage>.json's form); default: no settings. */
  stageFile?: Record<string, unknown>;
}

/**
 * One synth of stage `test` with cdk.json's context, the given stage file and CDK context, and no
 * environment variables (so nothing on the host leaks in).
 */
export function synth(context: Record<string, string> = {}, options: SynthOptions = {}): Synth {
  const outdir = mkdtempSync(join(tmpdir(), 'promo-jobs-cdk-'));
  const app = new App({
    outdir,
    context: {
      ...cdkJsonContext(),
      stage: 'test',
      stagesDir: stagesDir({ test: options.stageFile ?? {} }),
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
  /** The statement's Condition, values as readable text (asText); absent when it has none. */
  conditions?: Conditions;
}

/** operator → condition key → values. */
export type Conditions = Record<string, Record<string, string[]>>;

const list = (value: unknown): unknown[] =>
  Array.isArray(value) ? value : value === undefined ? [] : [value];

function readConditions(condition: unknown): Conditions | undefined {
  if (condition === undefined) return undefined;
  return Object.fromEntries(
    Object.entries(condition as Record<string, Record<string, unknown>>).map(([operator, keys]) => [
      operator,
      Object.fromEntries(Object.entries(keys).map(([key, values]) => [key, list(values).map(asText)])),
    ]),
  );
}

/** Every statement of the identity policies attached to a role, normalised and sorted. */
export function roleStatements(template: Template, roleId: string): Statement[] {
  const statements: Statement[] = [];
  for (const policy of Object.values(resourcesOfType(template, 'AWS::IAM::Policy'))) {
    const roles = list(policy.Properties?.Roles).map(asText);
    if (!roles.includes(roleId)) continue;
    const document = policy.Properties?.PolicyDocument as { Statement: Record<string, unknown>[] };
    for (const s of document.Statement) {
      const conditions = readConditions(s.Condition);
      statements.push({
        effect: String(s.Effect),
        actions: list(s.Action).map(String).sort(),
        resources: list(s.Resource).map(asText).sort(),
        ...(conditions ? { conditions } : {}),
      });
    }
  }
  return statements.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
}

/**
 * What statements allow (or deny), one line per action × resource with its conditions, sorted and
 * without repeats: how IAM reads them, however they are grouped. CDK's `@aws-cdk/aws-iam:minimizePolicies`
 * merges statements that differ only in actions or resources; comparing grants keeps the tests about
 * what a role may do, and lets an expectation keep one statement per reason.
 */
export function grants(statements: Statement[]): string[] {
  const lines = statements.flatMap(({ effect, actions, resources, conditions }) =>
    actions.flatMap((action) =>
      resources.map(
        (resource) =>
          `${effect} ${action} on ${resource}${conditions ? ` if ${JSON.stringify(conditions)}` : ''}`,
      ),
    ),
  );
  return [...new Set(lines)].sort();
}

/** A statement of a resource policy (key, topic, queue, bus), principals as readable text. */
export interface ResourceStatement {
  /** The logical id of the resource (or policy resource) it is in, and its type. */
  where: string;
  type: string;
  effect: string;
  /** AWS principals (ARNs, `*` for anyone) and service principals. */
  aws: string[];
  services: string[];
  actions: string[];
  conditions: Conditions;
}

/** Every statement of every resource policy in the template (identity policies excluded). */
export function resourcePolicyStatements(template: Template): ResourceStatement[] {
  const found: ResourceStatement[] = [];
  const { Resources } = template.toJSON() as { Resources: Resources };
  for (const [where, resource] of Object.entries(Resources)) {
    if (resource.Type === 'AWS::IAM::Policy') continue;
    const props = resource.Properties ?? {};
    const document = (props.KeyPolicy ?? props.PolicyDocument) as { Statement?: unknown } | undefined;
    const statements =
      resource.Type === 'AWS::Events::EventBusPolicy' ? [props.Statement] : list(document?.Statement);
    for (const s of statements as Record<string, unknown>[]) {
      const principal = s.Principal === '*' ? { AWS: '*' } : (s.Principal as Record<string, unknown>);
      found.push({
        where,
        type: resource.Type,
        effect: String(s.Effect),
        aws: list(principal.AWS).map(asText),
        services: list(principal.Service).map(asText),
        actions: list(s.Action).map(String),
        conditions: readConditions(s.Condition) ?? {},
      });
    }
  }
  return found;
}

/**
 * Whether a statement's conditions hold for a request context (condition key → its values; a key
 * absent from the context is absent from the request). Only the operators this app uses are known:
 * any other throws, so a new one cannot pass a test unread. Multivalued keys use ForAllValues (every
 * value in the request must match one in the policy; true for none, which is why `Null` is there).
 */
export function conditionsHold(
  conditions: Conditions | undefined,
  context: Record<string, string[]>,
): boolean {
  const glob = (pattern: string) =>
    new RegExp(
      `^${pattern
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*/g, '.*')
        .replace(/\?/g, '.')}$`,
    );
  const matchers: Record<string, (value: string, pattern: string) => boolean> = {
    StringEquals: (v, p) => v === p,
    StringLike: (v, p) => glob(p).test(v),
    ArnEquals: (v, p) => v === p,
    ArnLike: (v, p) => glob(p).test(v),
  };
  return Object.entries(conditions ?? {}).every(([operator, keys]) =>
    Object.entries(keys).every(([key, policyValues]) => {
      const values = context[key];
      if (operator === 'Null') return (values === undefined) === (policyValues[0] === 'true');
      if (operator === 'Bool') return values !== undefined && values[0] === policyValues[0];
      const [qualifier, base] = operator.includes(':') ? operator.split(':') : [undefined, operator];
      const negated = base?.includes('Not') ?? false;
      const match = matchers[(base ?? '').replace('Not', '')];
      if (!match || (qualifier && qualifier !== 'ForAllValues'))
        throw new Error(`unknown operator ${operator}`);
      const matches = (value: string) => policyValues.some((p) => match(value, p));
      if (qualifier === 'ForAllValues') return (values ?? []).every(matches);
      if (values === undefined) return negated; // a negated operator holds for a missing key
      return negated ? !values.some(matches) : values.some(matches);
    }),
  );
}
