import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The default `forks` pool: each test file gets its own process (and its own DynamoDB Local).
    pool: 'forks',
    // Two files at once on the 2-core machines this runs on: much of a file's time is spent waiting on
    // its DynamoDB Local or on child processes, so two overlap well (the suite takes about half as long).
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  },
});
