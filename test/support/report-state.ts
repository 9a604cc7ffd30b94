// A small stored state for the report's tests, made through the CLI as an operator would: three
// merchants (two with third-party products in live carts), a cart policy, the jobs run day by day over
// 2020-05-06 … 2020-06-10 with the cart-policies job missing 05-15 … 05-17, a revocation, and one
// run with failed items and one that stopped early (as their job-run items record them).
import { expect } from 'vitest';
import type { Deps } from '../../shared/deps';
import { occurrenceOn } from '../../shared/jobs/input';
import { readRun, recordRun } from '../../shared/store/job-runs';
import type { CliResult } from './cli';

export const REPORT_STATE = {
  FROM: '2020-05-06',
  TO: '2020-06-10',
  merchants: [
    { merchantId: 'r-a', onboardedAt: '2020-05-06', categories: ['cosmetics'], liveCartSources: ['taobao'] },
    { merchantId: 'r-b', onboardedAt: '2020-05-10', categories: ['food'], liveCartSources: ['shop'] },
    { merchantId: 'r-c', onboardedAt: '2020-05-20', categories: ['home'], liveCartSources: ['shop', 'jd'] },
  ],
  policy: {
    policyId: 'test-xingtu-only',
    title: '直播间第三方商品需通过星图',
    announcedOn: '2020-05-20',
    effectiveAt: '2020-06-01',
    scope: { channel: 'live', categories: 'ALL' },
    thirdPartyProducts: 'XINGTU_ONLY',
  },
} as const;

export async function seedReportState(
  deps: Deps,
  cli: (...args: string[]) => Promise<CliResult>,
  file: (name: string, text: string) => string,
): Promise<{ failedAt: string; stoppedAt: string }> {
  const { FROM, TO, merchants, policy } = REPORT_STATE;
  const ok = async (...args: string[]) => {
    const result = await cli(...args);
    expect(result.status, `${args.join(' ')}: ${result.stderr}`).toBe(0);
  };
  await ok('merchants', 'import', file('m.jsonl', merchants.map((m) => JSON.stringify(m)).join('\n')));
  await ok('policies', 'announce', file('p.json', JSON.stringify(policy)));
  await ok('run', 'activate', '--from', FROM, '--to', '2020-05-24');
  await ok('run', 'expire', '--from', FROM, '--to', '2020-05-24');
  await ok('run', 'cart-policies', '--from', FROM, '--to', '2020-05-14');
  await ok('run', 'cart-policies', '--from', '2020-05-18', '--to', '2020-05-24');
  await ok('merchants', 'revoke', 'r-b', '--at', '2020-05-25T12:00:00+08:00', '--reason', '刷单');
  for (const job of ['activate', 'expire', 'cart-policies'])
    await ok('run', job, '--from', '2020-05-25', '--to', TO);
  const failedAt = occurrenceOn('activate', '2020-06-03');
  const stoppedAt = occurrenceOn('expire', '2020-06-04');
  const failedRun = await readRun(deps, 'activate', failedAt);
  const stoppedRun = await readRun(deps, 'expire', stoppedAt);
  await recordRun(deps, { job: 'activate', asOf: failedAt, report: { ...failedRun?.report, failed: 2 } });
  await recordRun(deps, {
    job: 'expire',
    asOf: stoppedAt,
    report: { ...stoppedRun?.report, failed: 0, complete: false },
  });
  return { failedAt, stoppedAt };
}
