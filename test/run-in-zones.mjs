#!/usr/bin/env node
// Runs the test suite under several host time zones: no result may depend on the machine's zone.
// The whole suite runs in America/New_York (DST, 12-13 h from Shanghai); the tests where dates and
// instants are computed run again in UTC (where Lambda runs) and Asia/Shanghai (where a mistake that
// reads the host zone would pass unnoticed). The rest exercises the same code paths with explicit
// instants and runs once, to keep the suite short.
// Usage: node test/run-in-zones.mjs        (TEST_ZONES=UTC to run a single zone, everything)
// The two extra zones run at once, beside each other: about 75 s for both instead of 150 s.
import { spawn } from 'node:child_process';

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
const run = (zone, filters, extra, stdio) =>
  new Promise((resolve) => {
    const child = spawn('npx', ['vitest', 'run', ...extra, ...filters], {
      stdio: ['ignore', stdio, stdio],
      env: { ...process.env, TZ: zone },
    });
    let output = '';
    child.stdout?.on('data', (chunk) => {
      output += chunk;
    });
    child.stderr?.on('data', (chunk) => {
      output += chunk;
    });
    child.on('close', (status) => resolve({ zone, status, output }));
  });
const heading = (zone, filters) => `\n=== vitest with TZ=${zone} ${filters.join(' ') || '(all)'} ===\n`;

if (process.env.TEST_ZONES) {
  for (const zone of process.env.TEST_ZONES.split(',')) {
    process.stderr.write(heading(zone, []));
    const { status } = await run(zone, [], [], 'inherit');
    if (status !== 0) fail(zone, status);
  }
} else {
  // Everything in New York (two files at a time, vitest.config.ts); then UTC and Shanghai side by side,
  // one file at a time each, their output printed whole as each ends.
  process.stderr.write(heading('America/New_York', []));
  const all = await run('America/New_York', [], [], 'inherit');
  if (all.status !== 0) fail(all.zone, all.status);
  const zones = ['UTC', 'Asia/Shanghai'];
  const results = await Promise.all(
    zones.map((zone) =>
      run(zone, ZONE_SENSITIVE, ['--maxWorkers=1'], 'pipe').then((result) => {
        process.stderr.write(`${heading(zone, ZONE_SENSITIVE)}${result.output}`);
        return result;
      }),
    ),
  );
  for (const { zone, status } of results) if (status !== 0) fail(zone, status);
}

function fail(zone, status) {
  process.stderr.write(`\ntests failed with TZ=${zone}\n`);
  process.exit(status ?? 1);
}
