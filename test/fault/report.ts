// `npm run reliability [-- --runs N] [-- --seed S]`: the model-based fault-injection property of
// test/fault, run long, and its figures written to docs/reliability.md.
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import fc from 'fast-check';
import { startDynamoDbLocal } from '../../shared/local/dynamodb-local';
import { createDynamoClients } from '../../shared/store/client';
import { ensureTable } from '../../shared/store/table';
import { clearTable } from '../support/dynamo';
import { CI_FAULTS, emptyStats, runScenario, scenarioArbitrary } from './harness';

const { values } = parseArgs({
  options: { runs: { type: 'string', default: '100' }, seed: { type: 'string' } },
});
const runs = Number(values.runs);
const seed = values.seed === undefined ? Date.now() % 2 ** 31 : Number(values.seed);
const TABLE = 'reliability';

// Node.js 20 is what these machines run; the SDK's notice about it is noise in a report.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const local = await startDynamoDbLocal();
const clients = createDynamoClients(local.endpoint);
await ensureTable(clients.raw, TABLE);
const reset = () => clearTable(clients.doc, TABLE);

const stats = emptyStats();
const started = Date.now();
let result = 'passed';
let failure = '';
try {
  await fc.assert(
    fc.asyncProperty(scenarioArbitrary(CI_FAULTS), async (scenario) => {
      const problems = await runScenario(
        { endpoint: local.endpoint, tableName: TABLE, reset },
        scenario,
        stats,
      );
      if (problems.length > 0) throw new Error(problems.join('\n'));
      if (stats.scenarios % 10 === 0) process.stderr.write(`${stats.scenarios} schedules…\n`);
    }),
    { numRuns: runs, seed },
  );
} catch (error) {
  result = 'FAILED';
  failure = error instanceof Error ? error.message : String(error);
} finally {
  clients.raw.destroy();
  await local.stop();
}
const minutes = ((Date.now() - started) / 60_000).toFixed(1);
const injected = Object.entries(stats.injected).sort(([a], [b]) => a.localeCompare(b));
const describe: Record<string, string> = {
  throttle: 'DynamoDB throttling (inside the SDK’s retries)',
  serverError: 'DynamoDB 500s (inside the SDK’s retries)',
  hardError: 'DynamoDB calls failing outright (past the SDK’s retries)',
  crash: 'process deaths after the k-th write of a run (lease left behind)',
  unprocessed: '`BatchGetItem` answers with unprocessed keys',
  snsFailed: 'SNS `PublishBatch` entries listed in `Failed`',
  snsThrottled: 'SNS requests throttled',
  notifierCrash: 'notifier deaths after publishing, before acknowledging',
};

const report = `# Reliability report

Produced by \`npm run reliability -- --runs ${runs} --seed ${seed}\` on ${new Date().toISOString().slice(0, 10)}
(${cpus().length} cores, Node.js ${process.version}, DynamoDB Local). Re-run that command to reproduce it
exactly; the CI-sized run of the same property is \`test/fault/fault-injection.test.ts\` (8 schedules).

**Result: ${result}** — ${stats.scenarios} random schedules in ${minutes} min.

## What was tried

Each schedule is a random population (merchants onboarded so that windows start, remind and end within
the schedule; with and without third-party products in live carts, in one or two categories), up to
two cart policies, up to two violations, and 3–8 days of the scheduled runs — each occurrence on time,
skipped, late (after the next day's runs), run twice, run twice at once, or as a dry run — sometimes
followed by an operator's backfill of the whole range. Faults are injected at the SDK boundary while
it runs; every failed run is retried (as the scheduler and Lambda would) until it succeeds, and the
stream is redelivered until the notifier has acknowledged everything.

| | count |
| --- | --- |
| schedules | ${stats.scenarios} |
| steps (runs, revocations, deliveries) | ${stats.steps} |
| run attempts, retries included | ${stats.runAttempts} |
${injected.map(([kind, n]) => `| ${describe[kind] ?? kind} | ${n} |`).join('\n')}
| invariants checked | ${stats.invariants} |
| notices delivered twice (always with the same \`eventId\`, only after a redelivery) | ${stats.duplicatesDelivered} |

## The invariants

After every schedule, once recovered, compared with the reference model (\`test/fault/model.ts\`,
written from SPEC.md, not from the job code):

- every promotion's status, its history of transitions (status, effective instant, the asOf of the run
  that made it) and its "ends soon" reminder;
- every merchant × policy notice state, every policy's status (and whether its announcement was
  skipped because it was reached late), every stored flag with the history of its values;
- every notice the model says must have been sent was delivered, no other notice was, and a notice
  delivered twice carries the same \`eventId\` and happens only where a batch was redelivered;
- every dry run left the table as it was.

## Defects this property has found

- A cart-policy step (announce, put in force, withdraw) was marked done on the policy even when one
  merchant's notice state had failed to be written, so the retry skipped that merchant, who was never
  told. Now a step is marked done only when its whole audience was written
  (\`shared/jobs/cart-policies.ts\`; regression test in \`test/integration/cart-policies.test.ts\`).
${failure ? `\n## Failure\n\n\`\`\`\n${failure.slice(0, 6000)}\n\`\`\`\n` : ''}`;
writeFileSync(resolve(import.meta.dirname, '../../docs/reliability.md'), report);
process.stdout.write(report);
process.exitCode = result === 'passed' ? 0 : 1;
