#!/usr/bin/env node
// Runs the test suite under several host time zones: no result may depend on the machine's zone.
// America/New_York has DST and sits 12-13 h from Shanghai; UTC is where Lambda runs; Asia/Shanghai
// is where a mistake that reads the host zone would pass unnoticed, so it must not be the only one.
// Usage: node test/run-in-zones.mjs [vitest args…]
import { spawnSync } from 'node:child_process';

const ZONES = (process.env.TEST_ZONES ?? 'America/New_York,UTC,Asia/Shanghai').split(',');
for (const zone of ZONES) {
  process.stderr.write(`\n=== vitest with TZ=${zone} ===\n`);
  const result = spawnSync('npx', ['vitest', 'run', ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, TZ: zone },
  });
  if (result.status !== 0) {
    process.stderr.write(`\ntests failed with TZ=${zone}\n`);
    process.exit(result.status ?? 1);
  }
}
