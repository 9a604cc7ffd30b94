// One job run in its own process, for the benchmark: the figures it reports (time, requests by kind,
// peak RSS) are this process's alone. Usage: node --import tsx job-worker.ts <endpoint> <table> <job> <asOf>
import { readFileSync } from 'node:fs';
import { DateTime } from 'luxon';
import { silentLog } from '../../shared/deps';
import { type JobName, parseJobInput } from '../../shared/jobs/input';
import { runJob } from '../../shared/jobs/run';
import { createDynamoClients } from '../../shared/store/client';

const [endpoint, tableName, job, asOf] = process.argv.slice(2) as [string, string, JobName, string];
const clients = createDynamoClients(endpoint);
const requests: Record<string, number> = {};
clients.raw.middlewareStack.add(
  (next, context) => async (args) => {
    const name = String(context.commandName).replace(/Command$/, '');
    requests[name] = (requests[name] ?? 0) + 1;
    return next(args);
  },
  { step: 'initialize', name: 'countRequests' },
);

/** Peak resident set size of this process so far (Linux), in MiB. */
function peakRssMib(): number {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return match ? Number(match[1]) / 1024 : process.memoryUsage().rss / 2 ** 20;
}

// Live memory: the heap still in use after a collection, sampled through the run. Streaming pages
// keeps it flat however large the cohort; RSS also reflects how lazily V8 collects.
const gc = (globalThis as { gc?: () => void }).gc;
let peakLiveHeap = 0;
const sampler = setInterval(() => {
  gc?.();
  peakLiveHeap = Math.max(peakLiveHeap, process.memoryUsage().heapUsed);
}, 250);

const startedAt = Date.now();
const { reports } = await runJob(
  {
    db: clients.doc,
    tableName,
    clock: () => DateTime.now(),
    programStart: '2020-05-01',
    writeConcurrency: Number(process.env.WRITE_CONCURRENCY ?? 32),
    pageSize: Number(process.env.QUERY_PAGE_SIZE ?? 500),
    log: silentLog,
  },
  job,
  parseJobInput({ asOf }),
);
const finishedAt = Date.now();
clearInterval(sampler);
const peakLiveHeapMib = peakLiveHeap / 2 ** 20;
process.stdout.write(
  `${JSON.stringify({ startedAt, finishedAt, report: reports[0], requests, peakRssMib: peakRssMib(), peakLiveHeapMib })}\n`,
);
clients.raw.destroy();
