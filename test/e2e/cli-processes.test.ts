// The CLI as real processes meet it on a bad night (issue 12): several commands delivering the
// notices of one home at once, output into a pipe whose reader has gone.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { acquireLock } from '../../cli/local/lock-file';
import { parseJobInput } from '../../shared/jobs/input';
import { runJob } from '../../shared/jobs/run';
import { merchantRecordSchema, recordMerchants } from '../../shared/merchants/record';
import type { Notice } from '../../shared/notices/notice';
import { collect, startCli, TSX } from '../support/cli';
import { TEST_TABLE, useLocalDynamo } from '../support/dynamo';
import { useHomes } from '../support/homes';
import { eventually } from '../support/processes';
import { sh } from '../support/promotions';

const db = useLocalDynamo(); // for the DYNAMODB_ENDPOINT cases

// The home's own DynamoDB Local under kill -9 (of a command, the JVM, its supervisor) is in
// local-server.test.ts; the cases here use the test's DynamoDB through DYNAMODB_ENDPOINT.
const newHome = useHomes();

/** A home on the test's DynamoDB whose stream checkpoint is at the stream's current end. */
async function endpointHome() {
  const home = newHome();
  await db.drainStream(join(home, `stream-checkpoint.${TEST_TABLE}.json`), async () => ({
    batchItemFailures: [],
  }));
  const env = {
    DYNAMODB_ENDPOINT: db.endpoint,
    TABLE_NAME: TEST_TABLE,
    PROMO_JOBS_HOME: home,
    SNS_TOPIC_ARN: undefined,
  };
  const sink = (): Notice[] =>
    readFileSync(join(home, 'notices.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Notice);
  return { home, env, sink };
}

describe('notices delivered by concurrent commands (DYNAMODB_ENDPOINT)', () => {
  it('four concurrent `notices` on one home with 600 undelivered notices deliver each exactly once', async () => {
    await db.reset();
    const { env, sink } = await endpointHome();
    const merchants = Array.from({ length: 600 }, (_, i) => `conc-${String(i).padStart(4, '0')}`);
    await recordMerchants(
      db.deps(),
      merchants.map((merchantId) => merchantRecordSchema.parse({ merchantId, onboardedAt: '2020-05-06' })),
    );
    await runJob(db.deps(), 'activate', parseJobInput({ asOf: sh('2020-05-08 00:00') }));

    const results = await Promise.all([1, 2, 3, 4].map(() => startCli(['notices'], env).result));
    const delivered = sink();
    expect(delivered).toHaveLength(merchants.length);
    expect(new Set(delivered.map((n) => n.eventId)).size).toBe(merchants.length);
    expect(delivered.map((n) => n.merchantId).sort()).toEqual(merchants);
    expect(new Set(delivered.map((n) => n.type))).toEqual(new Set(['PROMOTION_ACTIVATED']));
    for (const result of results) {
      expect(result.status).toBe(0);
      expect(result.json).toHaveLength(merchants.length); // each listed only after everything was delivered
      expect(result.stderr.match(/waiting for process/g)?.length ?? 0).toBeLessThanOrEqual(1); // one line
    }
  });

  it('a command waits for the process delivering, saying so on one line, then delivers what is left', async () => {
    const { home, env, sink } = await endpointHome();
    const lock = await acquireLock(join(home, 'delivery.lock'), {
      doing: 'delivering (the test)',
      log: { info() {}, warn() {}, error() {} },
    });
    await recordMerchants(db.deps(), [
      merchantRecordSchema.parse({ merchantId: 'wait-1', onboardedAt: '2020-05-06' }),
    ]);
    await runJob(db.deps(), 'activate', parseJobInput({ asOf: sh('2020-05-08 00:00') }));
    const started = startCli(['notices', '--merchant', 'wait-1'], env);
    await eventually(() => started.stderr().includes('waiting for process'), 'the waiting line', 30_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(() => sink()).toThrow(/ENOENT/); // nothing delivered while we hold the lock
    lock.release();
    const result = await started.result;
    expect(result.status).toBe(0);
    expect(result.stderr).toBe(
      `[warn] waiting for process ${process.pid}, which is delivering the notices of ${home}\n`,
    );
    expect(result.json).toEqual([
      expect.objectContaining({ type: 'PROMOTION_ACTIVATED', merchantId: 'wait-1' }),
    ]);
    expect(sink()).toHaveLength(1);
  });
});

describe('output into a pipe whose reader has gone', () => {
  it('`notices | head -1`: the command stops writing and exits 0, with no stack trace', async () => {
    const { home, env } = await endpointHome();
    const lines = Array.from({ length: 3000 }, (_, i) =>
      JSON.stringify({
        eventId: `e-${i}`,
        type: 'PROMOTION_ACTIVATED',
        merchantId: `m-${i}`,
        text: '活动已开始'.repeat(20),
      }),
    );
    writeFileSync(join(home, 'notices.jsonl'), `${lines.join('\n')}\n`); // ~700 KB: far more than a pipe holds

    const started = startCli(['notices'], env);
    started.child.stdout.on('data', (chunk: Buffer) => {
      if (chunk.includes('\n')) started.child.stdout.destroy(); // read one line, then go away
    });
    const result = await started.result;
    expect([result.status, result.stderr]).toEqual([0, '']);

    // The same through a shell, stderr too into the closed pipe; pipefail reports the CLI's status.
    const shell = await collect(
      'bash',
      ['-c', `set -o pipefail; '${TSX}' cli/main.ts notices 2>&1 | head -1`],
      env,
    );
    expect(shell.status).toBe(0);
    expect(shell.stdout.trim().split('\n')).toEqual([lines[0]]);
  });
});
