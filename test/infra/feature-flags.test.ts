// CDK's recommended feature flags: cdk.json sets every one that aws-cdk-lib recommends (as `cdk init`
// does), and a synth with cdk.json's context (the tests' too) leaves none unconfigured — the check the
// CDK CLI makes after each synth ("N feature flags are not configured"). After an aws-cdk-lib upgrade
// that recommends new flags, this fails until they are reviewed and added (docs/decisions.md).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { FeatureFlags } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { cdkJsonContext, synth } from './support';

const recommended: Record<string, unknown> = JSON.parse(
  readFileSync(createRequire(import.meta.url).resolve('aws-cdk-lib/recommended-feature-flags.json'), 'utf8'),
);

interface FlagReport {
  recommendedValue?: unknown;
  userValue?: unknown;
  unconfiguredBehavesLike?: { v2?: unknown };
}

describe("CDK's recommended feature flags", () => {
  it("are all in cdk.json's context, each with its recommended value", () => {
    const context = cdkJsonContext();
    const differing = Object.entries(recommended)
      .filter(([flag, value]) => JSON.stringify(context[flag]) !== JSON.stringify(value))
      .map(
        ([flag, value]) => `${flag}: ${JSON.stringify(context[flag])}, recommended ${JSON.stringify(value)}`,
      );
    expect(differing).toEqual([]);
    expect(Object.keys(recommended).length).toBeGreaterThan(80);
  });

  const { app, stack } = synth();

  it('apply to the tests’ synth as to `cdk synth` (support.ts reads cdk.json)', () => {
    for (const flag of ['@aws-cdk/aws-iam:minimizePolicies', '@aws-cdk/core:explicitStackTags']) {
      expect(FeatureFlags.of(stack).isEnabled(flag), flag).toBe(true);
    }
  });

  it('leave none unconfigured in the synthesized feature-flag report (what the CDK CLI warns about)', () => {
    const artifacts = Object.values(app.synth().manifest.artifacts ?? {});
    const report = artifacts.find((artifact) => artifact.type === 'cdk:feature-flag-report');
    const flags = (report?.properties as { flags?: Record<string, FlagReport> } | undefined)?.flags ?? {};
    expect(Object.keys(flags).length).toBeGreaterThan(80);
    // The CLI's rule: a flag needs attention when unset and its unset behaviour is not the recommended.
    const unconfigured = Object.entries(flags)
      .filter(([, f]) => f.userValue === undefined)
      .filter(([, f]) => (f.unconfiguredBehavesLike?.v2 ?? false) !== f.recommendedValue)
      .map(([name]) => name);
    expect(unconfigured).toEqual([]);
  });

  it('keep the stack tagged: with explicitStackTags, the stack gets its tags from its props', () => {
    expect(stack.tags.tagValues()).toEqual({ project: 'promo-jobs', stage: 'test' });
  });
});
