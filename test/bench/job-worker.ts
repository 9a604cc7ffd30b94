// One job run in its own process, for the benchmark: the figures it reports (time, requests by kind,
// peak RSS) are this process's alone. Usage: node --import tsx job-worker.ts <endpoint> <table> <job> <asOf>
import { readFileSync } from 'node:fs';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { loadConfig } from '../../shared/config';
import { createDeps, silentLog } from '../../shared/deps';
import { parseJobInput } from '../../shared/jobs/input';
import type { JobName } from '../../shared/jobs/registry';
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

// Live memory: the heap still in use right after each full (mark-compact) collection V8 chose to
// make during the run, and after one forced at its end. Streaming pages keeps it flat however large
// the cohort; RSS also reflects how lazily V8 collects. Collections are observed, not forced during
// the run: forcing them (4 a second, as this once did) cost the job a third of its throughput.
let peakLiveHeap = 0;
const sampleLiveHeap = () => {
  peakLiveHeap = Math.max(peakLiveHeap, process.memoryUsage().heapUsed);
};
const collections = new PerformanceObserver((list) => {
  const kinds = list.getEntries().map((entry) => (entry as { detail?: { kind?: number } }).detail?.kind);
  if (kinds.includes(constants.NODE_PERFORMANCE_GC_MAJOR)) sampleLiveHeap();
});
collections.observe({ entryTypes: ['gc'] });
const cpuBefore = process.cpuUsage();

const startedAt = Date.now();
// WRITE_CONCURRENCY and QUERY_PAGE_SIZE come from the environment, as in Lambda.
const config = loadConfig({ ...process.env, TABLE_NAME: tableName, PROGRAM_START: '2020-05-01' });
const { reports } = await runJob(createDeps(config, clients.doc, silentLog), job, parseJobInput({ asOf }));
const finishedAt = Date.now();
const cpu = process.cpuUsage(cpuBefore);
collections.disconnect();
(globalThis as { gc?: () => void }).gc?.();
sampleLiveHeap();
const peakLiveHeapMib = peakLiveHeap / 2 ** 20;
process.stdout.write(
  `${JSON.stringify({ startedAt, finishedAt, cpuMs: (cpu.user + cpu.system) / 1000, report: reports[0], requests, peakRssMib: peakRssMib(), peakLiveHeapMib })}\n`,
);
clients.raw.destroy();
