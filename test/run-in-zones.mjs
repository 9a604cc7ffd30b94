#!/usr/bin/env node
// Runs the test suite under several host time zones: no result may depend on the machine's zone.
// The whole suite runs in America/New_York (DST, 12-13 h from Shanghai); the tests where dates and
// instants are computed run again in UTC (where Lambda runs) and Asia/Shanghai (where a mistake that
// reads the host zone would pass unnoticed). The rest exercises the same code paths with explicit
// instants and runs once, to keep the suite short.
// Usage: node test/run-in-zones.mjs        (TEST_ZONES=UTC to run a single zone, everything)
import { spawnSync } from 'node:child_process';

// Where dates and instants are computed and compared: the pure time rules, and the jobs that apply them.
// (The fee policies' and the onboarded index's date bounds are unit-tested here, in test/unit; their
// DynamoDB Local tests pass explicit instants and run once, to keep the suite well under 10 minutes.)
const ZONE_SENSITIVE = [
  'test/unit',
  'test/integration/promotion-jobs.test.ts',
  'test/integration/cart-policies.test.ts',
  'test/integration/job-handlers.test.ts',
  'test/integration/notices.test.ts',
  'test/integration/job-registry.test.ts',
  'test/integration/late-enrolment.test.ts',
];
const plan = process.env.TEST_ZONES
  ? process.env.TEST_ZONES.split(',').map((zone) => [zone, []])
  : [
      ['America/New_York', []],
      ['UTC', ZONE_SENSITIVE],
      ['Asia/Shanghai', ZONE_SENSITIVE],
    ];
for (const [zone, filters] of plan) {
  process.stderr.write(`\n=== vitest with TZ=${zone} ${filters.join(' ') || '(all)'} ===\n`);
  const result = spawnSync('npx', ['vitest', 'run', ...filters], {
    stdio: 'inherit',
    env: { ...process.env, TZ: zone },
  });
  if (result.status !== 0) {
    process.stderr.write(`\ntests failed with TZ=${zone}\n`);
    process.exit(result.status ?? 1);
  }
}
