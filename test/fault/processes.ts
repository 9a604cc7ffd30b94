// Real-process faults: the operators' CLI, one Node.js process per command exactly as it runs in a
// shell, against one DynamoDB Local; commands are killed with SIGKILL at random points (imports, job
// runs, revocations, categories corrections, a program announced mid-way, deliveries) and some are
// started two or three at once. Every command is run again until it succeeds, as an operator would.
// Afterwards every merchant's enrolments (today's promotion, the seed plan, the program announced late)
// and their histories, every merchant × policy state, every policy and flag, and every notice in the
// sink are compared with the reference model (test/fault/model.ts).
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { DateTime } from 'luxon';
import { seededRandom } from '../../cli/demo/population';
import { startDynamoDbLocal } from '../../cli/local/dynamodb-local';
import { ensureTable } from '../../cli/local/table';
import { loadConfig } from '../../shared/config';
import { createDeps, silentLog } from '../../shared/deps';
import { ENROLMENT_SETTLE_MS } from '../../shared/jobs/enrolment';
import { occurrenceOn } from '../../shared/jobs/input';
import { createDynamoClients } from '../../shared/store/client';
import { programKey } from '../../shared/store/keys';
import { readStoredPrograms } from '../../shared/store/programs';
import { addDays, daysBetween, formatInstant, parseInstant } from '../../shared/time';
import { startCli } from '../support/cli';
import { checkStateAgainstModel } from './compare';
import { corrected, LATE_PROGRAM } from './harness';
import {
  apply,
  initialState,
  type ModelMerchant,
  type ModelOp,
  type ModelPolicy,
  type ModelProgram,
} from './model';

const ZONE = 'Asia/Shanghai';
const TABLE = 'process-faults';
type Job = 'activate' | 'expire' | 'cart-policies';
/** Longer than any command here takes, even waiting for a killed run's lease to lapse. */
const ATTEMPT_LIMIT_MS = 120_000;
/** The program start here (PROGRAM_START): the first merchants, onboarded before it, are ineligible. */
const PROGRAM_START = '2020-06-29';
/** Delivers what the stream holds (and prints little: one type of notice). */
const DELIVER = ['notices', '--type', 'PROMOTION_EXPIRED'];

/** The rates of the published run and of the CI-sized test. */
export const PROCESS_FAULTS = { killRate: 0.5, concurrencyRate: 0.25 } as const;

export interface ProcessFaultOptions {
  seed: number;
  merchants: number;
  /** Days of scheduled runs after the first onboarding day. */
  days: number;
  /** Chance that an attempt of a command is killed. */
  killRate: number;
  /** Chance that a command is started two or three times at once. */
  concurrencyRate: number;
  progress?: (line: string) => void;
}

export interface ProcessFaultStats {
  commands: number;
  attempts: number;
  /** Processes that were still running when SIGKILL reached them, by what they were doing. */
  killed: Record<string, number>;
  /** Of those, how many had already appended notices to the sink (killed while delivering). */
  killedWhileDelivering: number;
  concurrentGroups: number;
  /** Times three deliveries were started at once right after a kill. */
  deliveryBursts: number;
  /** Attempts that exited 1 because the job's lease was held (by a killed or a concurrent run). */
  leaseRefusals: number;
  /** Attempts that waited for a lapsing lease ("waiting for lease of …"), e.g. a killed run's. */
  leaseWaits: number;
  /** Attempts that waited for another command's delivery lock ("waiting for process …"). */
  lockWaits: number;
  invariants: number;
  noticesExpected: number;
  noticesDelivered: number;
  duplicates: number;
  /** Enrolments the model ended with (INELIGIBLE left out), by program; of them, those the late announcement gave. */
  enrolments: Record<string, number>;
  lateEnrolments: number;
  seconds: number;
  problems: string[];
}

interface Attempt {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** The population, policy calendar and command list of one seed. */
function plan(options: ProcessFaultOptions) {
  const random = seededRandom(options.seed);
  const pick = <T>(list: T[]) => list[Math.floor(random() * list.length)] as T;
  // Two days before the program start (some merchants are ineligible), T on both sides of the seed
  // plan's start (2020-07-01), mostly in its categories.
  const first = '2020-06-27';
  const merchants: ModelMerchant[] = Array.from({ length: options.merchants }, (_, i) => ({
    merchantId: `proc-${String(i).padStart(5, '0')}`,
    onboardedOn: addDays(first, Math.floor(random() * 12)),
    liveThirdParty: random() < 0.5,
    categories: pick([['cosmetics'], ['apparel'], ['food'], ['home', 'food'], ['pets']]),
  }));
  // Announced after the first week: food merchants from the program start, a short window, so that
  // the next activate run finds some windows over (recorded, never told), some open, some ahead.
  const lateProgram: ModelProgram = {
    programId: LATE_PROGRAM,
    from: PROGRAM_START,
    categories: ['food'],
    startOffsetDays: 1,
    lengthDays: 3,
  };
  const last = addDays(first, options.days);
  const policies: ModelPolicy[] = [
    {
      policyId: 'xingtu-all',
      announcedOn: addDays(first, 4),
      effectiveAt: `${addDays(first, 9)}T00:00:00.000+08:00`,
      categories: 'ALL',
      value: 'XINGTU_ONLY',
    },
    {
      policyId: 'blocked-cosmetics',
      announcedOn: addDays(first, 12),
      effectiveAt: `${addDays(first, 20)}T00:00:00.000+08:00`,
      categories: ['cosmetics'],
      value: 'BLOCKED',
    },
  ];
  type Step =
    | { kind: 'import' }
    | { kind: 'announce'; policy: ModelPolicy }
    | { kind: 'run'; job: Job; from: string; to: string }
    | { kind: 'revoke'; merchantId: string; at: string }
    | { kind: 'correct'; merchants: { merchantId: string; categories: string[] }[] }
    | { kind: 'announceProgram'; program: ModelProgram }
    | { kind: 'deliver' };
  const steps: Step[] = [
    { kind: 'import' },
    ...policies.map((policy) => ({ kind: 'announce' as const, policy })),
  ];
  const days = daysBetween(first, last);
  const revocable = merchants.filter((m) => m.onboardedOn >= PROGRAM_START);
  for (let i = 0; i < days.length; i += 7) {
    const from = days[i] as string;
    const to = days[Math.min(i + 6, days.length - 1)] as string;
    for (const job of ['cart-policies', 'activate', 'expire'] as const)
      steps.push({ kind: 'run', job, from, to });
    // A violation inside a window that this week's activate has opened (and that has not ended).
    const day = DateTime.fromISO(to, { zone: ZONE });
    const open = revocable.filter((m) => {
      const t = DateTime.fromISO(m.onboardedOn, { zone: ZONE });
      return day >= t.plus({ days: 2 }) && day < t.plus({ days: 32 });
    });
    if (open.length > 0) {
      const victim = pick(open);
      revocable.splice(revocable.indexOf(victim), 1); // one violation per merchant
      steps.push({
        kind: 'revoke',
        merchantId: victim.merchantId,
        at: day.set({ hour: 15 }).toISO() as string,
      });
    }
    steps.push({ kind: 'deliver' });
    if (i === 0) {
      // A few merchants' categories corrected (into the seed plan or out of it), and a program announced.
      const moved = merchants.filter(() => random() < 0.1).slice(0, 8);
      steps.push({
        kind: 'correct',
        merchants: moved.map((m) => ({ merchantId: m.merchantId, categories: corrected(m.categories) })),
      });
      steps.push({ kind: 'announceProgram', program: lateProgram });
    }
  }
  return { merchants, policies, steps, random };
}

function modelOpsOf(step: ReturnType<typeof plan>['steps'][number]): ModelOp[] {
  if (step.kind === 'run')
    return daysBetween(step.from, step.to).map((day) => ({
      kind: 'run',
      job: step.job,
      asOf: occurrenceOn(step.job, day),
    }));
  if (step.kind === 'revoke')
    return [{ kind: 'revoke', merchantId: step.merchantId, at: step.at, reason: 'violation' }];
  if (step.kind === 'correct')
    return step.merchants.map(({ merchantId, categories }) => ({ kind: 'correct', merchantId, categories }));
  if (step.kind === 'announceProgram') return [{ kind: 'announce', program: step.program }];
  return [];
}

export async function runProcessFaults(options: ProcessFaultOptions): Promise<ProcessFaultStats> {
  const started = Date.now();
  const { merchants, policies, steps, random } = plan(options);
  const stats: ProcessFaultStats = {
    commands: 0,
    attempts: 0,
    killed: {},
    killedWhileDelivering: 0,
    concurrentGroups: 0,
    deliveryBursts: 0,
    leaseRefusals: 0,
    leaseWaits: 0,
    lockWaits: 0,
    invariants: 0,
    noticesExpected: 0,
    noticesDelivered: 0,
    duplicates: 0,
    enrolments: {},
    lateEnrolments: 0,
    seconds: 0,
    problems: [],
  };
  const scratch = mkdtempSync(join(tmpdir(), 'process-faults-'));
  const home = join(scratch, 'home');
  const sink = join(home, 'notices.jsonl');
  const local = await startDynamoDbLocal();
  const clients = createDynamoClients(local.endpoint);
  const env: Record<string, string | undefined> = {
    DYNAMODB_ENDPOINT: local.endpoint,
    TABLE_NAME: TABLE,
    PROMO_JOBS_HOME: home,
    // Small pages and a short lease: kills land between pages, and a killed run's lease lapses in seconds.
    QUERY_PAGE_SIZE: '25',
    WRITE_CONCURRENCY: '8',
    LEASE_TTL_SECONDS: '4',
    PROGRAM_START,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    SNS_TOPIC_ARN: undefined, // the local sink, which the comparison reads
  };
  const running = new Set<ChildProcess>();
  /** Sink line ranges appended while a process that was later killed was alive: its duplicate window. */
  const killedWindows: [number, number][] = [];
  const sinkLines = () =>
    existsSync(sink) ? readFileSync(sink, 'utf8').split('\n').filter(Boolean).length : 0;
  /** How long each kind of command took when it was not killed: kills are drawn within that. */
  const durations = new Map<string, number>();
  /** How long the CLI takes to start and do nothing (measured first): kills before that hit no work. */
  let startupMs = 200;

  const attempt = async (kind: string, args: string[], kill: boolean): Promise<Attempt> => {
    stats.attempts++;
    const linesBefore = sinkLines();
    const begun = Date.now();
    const started = startCli(args, env);
    running.add(started.child);
    const timer = kill
      ? setTimeout(
          () => started.child.kill('SIGKILL'),
          // After start-up (loading Node.js and the code), within the work that kind of command does.
          Math.floor(startupMs + random() * Math.max(100, (durations.get(kind) ?? 2500) - startupMs)),
        )
      : undefined;
    // A command that hangs (e.g. waiting for a lease that never lapses) is a failure, not a wait.
    let hung = false;
    const watchdog = setTimeout(() => {
      hung = true;
      started.child.kill('SIGKILL');
    }, ATTEMPT_LIMIT_MS);
    const { status, stdout, stderr } = await started.result.finally(() => {
      running.delete(started.child);
      clearTimeout(timer);
      clearTimeout(watchdog);
    });
    if (hung)
      throw new Error(
        `${args.join(' ')} still running after ${ATTEMPT_LIMIT_MS / 1000} s: ${stderr.slice(-1000)}`,
      );
    const signal = started.child.signalCode;
    if (signal === 'SIGKILL') {
      stats.killed[kind] = (stats.killed[kind] ?? 0) + 1;
      const linesAfter = sinkLines();
      if (linesAfter > linesBefore) stats.killedWhileDelivering++;
      killedWindows.push([linesBefore, linesAfter]);
    } else if (status === 0) durations.set(kind, Date.now() - begun);
    if (stderr.includes('waiting for lease of')) stats.leaseWaits++;
    if (/waiting for process \d+/.test(stderr)) stats.lockWaits++;
    return { status, signal, stdout, stderr };
  };

  /** Runs a command (some of the time two or three copies at once) until every copy has succeeded. */
  const untilDone = async (kind: string, args: string[]) => {
    stats.commands++;
    const copies = random() < options.concurrencyRate ? 2 + Math.floor(random() * 2) : 1;
    if (copies > 1) stats.concurrentGroups++;
    const one = async () => {
      const since = Date.now();
      for (let tries = 1; ; tries++) {
        // Kill less often as tries go on: recovery must eventually run a command to its end.
        const result = await attempt(kind, args, tries <= 3 && random() < options.killRate);
        if (result.status === 0) return result;
        if (result.signal === 'SIGKILL') {
          // What the killed command wrote and did not deliver is often picked up by several commands
          // at once (other operators, the next scheduled ones): three deliveries race for it.
          if (random() < 0.5) {
            stats.deliveryBursts++;
            await Promise.all([1, 2, 3].map(() => attempt('deliver', DELIVER, false)));
          }
          continue;
        }
        if (/lease|already running/i.test(result.stderr)) {
          stats.leaseRefusals++;
          if (Date.now() - since > 120_000)
            throw new Error(`${args.join(' ')}: the job's lease was still held 2 minutes after a kill`);
          await new Promise((r) => setTimeout(r, 300));
          continue;
        }
        if (tries > 20) throw new Error(`${args.join(' ')} keeps failing: ${result.stderr.slice(-2000)}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    };
    await Promise.all(Array.from({ length: copies }, one));
  };

  const ops: ModelOp[] = [];
  try {
    await ensureTable(clients.raw, TABLE);
    const begun = Date.now();
    await attempt('window', ['window', '2020-05-06'], false);
    startupMs = Math.round(0.8 * (Date.now() - begun));
    const recordLine = (m: ModelMerchant, categories = m.categories) =>
      JSON.stringify({
        merchantId: m.merchantId,
        onboardedAt: m.onboardedOn,
        categories,
        liveCartSources: m.liveThirdParty ? ['shop', 'taobao'] : ['shop'],
      });
    const importFile = join(scratch, 'merchants.jsonl');
    writeFileSync(importFile, merchants.map((m) => recordLine(m)).join('\n'));
    for (const [index, step] of steps.entries()) {
      options.progress?.(`step ${index + 1}/${steps.length}: ${JSON.stringify(step)}`);
      if (step.kind === 'import') await untilDone('import', ['merchants', 'import', importFile]);
      if (step.kind === 'announce') {
        const file = join(scratch, `${step.policy.policyId}.json`);
        writeFileSync(
          file,
          JSON.stringify({
            policyId: step.policy.policyId,
            title: step.policy.policyId,
            announcedOn: step.policy.announcedOn,
            effectiveAt: step.policy.effectiveAt,
            scope: { channel: 'live', categories: step.policy.categories },
            thirdPartyProducts: step.policy.value,
          }),
        );
        await untilDone('announce', ['policies', 'announce', file]);
      }
      if (step.kind === 'run')
        await untilDone('run', ['run', step.job, '--from', step.from, '--to', step.to]);
      if (step.kind === 'revoke')
        await untilDone('revoke', [
          'merchants',
          'revoke',
          step.merchantId,
          '--at',
          step.at,
          '--reason',
          'violation',
        ]);
      if (step.kind === 'correct' && step.merchants.length > 0) {
        const file = join(scratch, 'corrections.jsonl');
        const byId = new Map(merchants.map((m) => [m.merchantId, m]));
        writeFileSync(
          file,
          step.merchants
            .map(({ merchantId, categories }) =>
              recordLine(byId.get(merchantId) as ModelMerchant, categories),
            )
            .join('\n'),
        );
        await untilDone('correct', ['merchants', 'import', file]);
      }
      if (step.kind === 'announceProgram') {
        const file = join(scratch, `${step.program.programId}.json`);
        writeFileSync(
          file,
          JSON.stringify({
            programId: step.program.programId,
            name: '食品新店扶持',
            eligibility: { from: step.program.from, categories: step.program.categories },
            window: { startOffsetDays: step.program.startOffsetDays, lengthDays: step.program.lengthDays },
            benefits: { feeRate: 0.005, capabilities: ['LIVE_TRAFFIC_SUPPORT'] },
          }),
        );
        await untilDone('announce', ['programs', 'announce', file]);
        await settleAnnouncement(clients.doc, step.program.programId);
      }
      if (step.kind === 'deliver') await untilDone('deliver', DELIVER);
      ops.push(...modelOpsOf(step));
    }
    await untilDone('deliver', DELIVER);
    await compare(stats, { merchants, policies, ops, sink, killedWindows, endpoint: local.endpoint });
  } finally {
    for (const child of running) child.kill('SIGKILL');
    clients.raw.destroy();
    await local.stop();
    rmSync(scratch, { recursive: true, force: true });
    stats.seconds = Math.round((Date.now() - started) / 1000);
  }
  return stats;
}

/**
 * The activate run enrols a program's merchants once it has settled (ENROLMENT_SETTLE_MS after it was
 * announced, by the wall clock). Instead of waiting that long, the announcement is dated back by it.
 */
async function settleAnnouncement(doc: ReturnType<typeof createDynamoClients>['doc'], programId: string) {
  const deps = createDeps(loadConfig({ TABLE_NAME: TABLE }), doc, silentLog);
  const stored = (await readStoredPrograms(deps)).find((p) => p.programId === programId);
  if (!stored) throw new Error(`program ${programId} was not stored`);
  const last = stored.history.length - 1;
  const processedAt = formatInstant(
    parseInstant(stored.history[last]?.processedAt as string).minus({
      milliseconds: ENROLMENT_SETTLE_MS + 60_000,
    }),
  );
  await doc.send(
    new UpdateCommand({
      TableName: TABLE,
      Key: programKey(programId),
      UpdateExpression: `SET history[${last}].processedAt = :at`,
      ExpressionAttributeValues: { ':at': processedAt },
    }),
  );
}

async function compare(
  stats: ProcessFaultStats,
  input: {
    merchants: ModelMerchant[];
    policies: ModelPolicy[];
    ops: ModelOp[];
    sink: string;
    killedWindows: [number, number][];
    endpoint: string;
  },
) {
  const model = initialState(input.merchants, input.policies, PROGRAM_START);
  for (const op of input.ops) apply(model, op, input.merchants, input.policies);
  for (const e of model.enrolments.values()) {
    if (e.status === 'INELIGIBLE') continue;
    stats.enrolments[e.programId] = (stats.enrolments[e.programId] ?? 0) + 1;
    if (e.history[0]?.[2] !== undefined) stats.lateEnrolments++;
  }
  const clients = createDynamoClients(input.endpoint);
  const deps = createDeps(loadConfig({ TABLE_NAME: TABLE }), clients.doc, silentLog);
  const check = (ok: boolean, what: string) => {
    stats.invariants++;
    if (!ok) stats.problems.push(what);
  };
  try {
    await checkStateAgainstModel(deps, model, input.merchants, input.policies, check);
  } finally {
    clients.raw.destroy();
  }
  // Notices: every one the model says exactly once, nothing else. A second copy is allowed only when
  // the first was appended while a process that was then killed was alive (it published, and died
  // before saving the stream checkpoint: the documented duplicate window).
  const lines = existsSync(input.sink) ? readFileSync(input.sink, 'utf8').split('\n').filter(Boolean) : [];
  const firstAt = new Map<string, number>();
  const copies = new Map<string, number>();
  stats.noticesExpected = model.notices.size;
  stats.noticesDelivered = lines.length;
  lines.forEach((line, index) => {
    const notice = JSON.parse(line) as {
      eventId: string;
      type: string;
      merchantId: string;
      effectiveAt: string;
    };
    check(
      model.notices.has(notice.eventId),
      `unexpected notice ${notice.type} for ${notice.merchantId} at ${notice.effectiveAt}`,
    );
    const first = firstAt.get(notice.eventId);
    if (first === undefined) {
      firstAt.set(notice.eventId, index);
      copies.set(notice.eventId, 1);
      return;
    }
    stats.duplicates++;
    // Told again by the model (moved out of a program and back in: the same start again).
    const count = (copies.get(notice.eventId) ?? 0) + 1;
    copies.set(notice.eventId, count);
    if (count <= (model.notices.get(notice.eventId)?.times ?? 1)) return;
    check(
      input.killedWindows.some(([from, to]) => first >= from && first < to),
      `notice ${notice.type} for ${notice.merchantId} delivered again, though no killed process had delivered it`,
    );
  });
  for (const [id, n] of model.notices)
    check(firstAt.has(id), `missing notice ${n.type} for ${n.merchantId} at ${n.effectiveAt}`);
}
