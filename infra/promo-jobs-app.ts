// One stage of the system in a CDK app: settings resolved (infra/stage.ts), the stack, its tags, and
// the AWS Solutions checks. infra/app.ts uses it for `cdk synth/deploy`; the tests use it too.
import { type App, Aspects, Tags } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { PromoJobsStack } from './promo-jobs-stack';
import { resolveStage } from './stage';

export function addPromoJobsStage(
  app: App,
  env: Record<string, string | undefined> = process.env,
): PromoJobsStack {
  const config = resolveStage(app.node, env);
  const tags = { project: 'promo-jobs', stage: config.stage };
  const stack = new PromoJobsStack(app, `PromoJobs-${config.stage}`, {
    config,
    env: { account: config.account, region: config.region },
    description: `promo-jobs (${config.stage}): scheduled promotion jobs, notices and merchant recording`,
    terminationProtection: config.stage === 'prod',
    // The stack's own tags (CloudFormation gives them to every resource it can tag). Given here, not
    // by Tags.of(stack): with @aws-cdk/core:explicitStackTags that only tags the template's resources.
    tags,
  });
  for (const [key, value] of Object.entries(tags)) Tags.of(stack).add(key, value);
  // Every synth is checked against the AWS Solutions rules; an unsuppressed finding fails it.
  Aspects.of(app).add(new AwsSolutionsChecks());
  return stack;
}
