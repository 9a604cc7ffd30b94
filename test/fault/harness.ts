// Model-based fault injection: run a random schedule of job runs (on time, late, skipped, duplicated,
// concurrent, backfills, dry runs) against DynamoDB Local with faults injected at the SDK boundary,
// let the system recover (runs retried, the stream redelivered), and compare everything with the
// reference model. Used by the test suite (a CI-sized run) and by `npm run reliability` (a long run).
import { AsyncLocalStorage } from 'node:async_hooks';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DynamoDBClient,
  InternalServerError,
  ProvisionedThroughputExceededException,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import { type DynamoDBStreamsClient, ExpiredIteratorException } from '@aws-sdk/client-dynamodb-streams';
import { PublishBatchCommand, SNSClient, ThrottledException } from '@aws-sdk/client-sns';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ConfiguredRetryStrategy } from '@smithy/core/retry';
import { mockClient } from 'aws-sdk-client-mock';
import fc from 'fast-check';
import { DateTime } from 'luxon';
import { seededRandom } from '../../cli/demo/population';
import { createStreamReader, localStreamsClient } from '../../cli/local/stream-reader';
import { announcePolicy } from '../../cli/policies/announcements';
import { announcePrograms } from '../../cli/programs/announcements';
import { type Deps, silentLog } from '../../shared/deps';
import { ConflictError } from '../../shared/errors';
import { ENROLMENT_SETTLE_MS } from '../../shared/jobs/enrolment';
import { parseJobInput } from '../../shared/jobs/input';
import { LEASE_TTL_MS, LeaseHeldError } from '../../shared/jobs/lease';
import { runJob } from '../../shared/jobs/run';
import { merchantRecordSchema, recordMerchants, revokePromotion } from '../../shared/merchants/record';
import { type Notice, programIdOf } from '../../shared/notices/notice';
import { noticesOfRecord, notifyFromStream, type StreamRecord } from '../../shared/notices/notifier';
import { snsPublisher } from '../../shared/notices/publisher';
import { cartPolicyInputSchema } from '../../shared/policies/policy';
import { programSchema } from '../../shared/programs/program';
import { createDynamoClients, LOCAL_CREDENTIALS, LOCAL_REGION } from '../../shared/store/client';
import { listStoredFlags } from '../../shared/store/flags';
import { getMerchant } from '../../shared/store/merchants';
import { listPolicies } from '../../shared/store/policies';
import { readEnrolmentProgress } from '../../shared/store/programs';
import { readEnrolments } from '../../shared/store/promotions';
import { checkStateAgainstModel } from './compare';
import {
  apply,
  initialState,
  type ModelMerchant,
  type ModelOp,
  type ModelPolicy,
  type ModelProgram,
  type ModelState,
} from './model';

export { CrashError };

type Job = 'activate' | 'expire' | 'cart-policies';
type Mode = 'normal' | 'duplicate' | 'concurrent' | 'dry';

export type Step =
  | { kind: 'run'; job: Job; asOf: string; mode: Mode }
  | { kind: 'backfill'; job: Job; from: string; to: string }
  | { kind: 'revoke'; merchantId: string; at: string; reason: string }
  | { kind: 'correct'; merchantId: string; categories: string[] }
  | { kind: 'announce'; program: ModelProgram }
  | { kind: 'deliver' };

export interface FaultRates {
  /** Per DynamoDB request: throttled (retried by the SDK). */
  throttle: number;
  /** Per DynamoDB request: a 500 (retried by the SDK). */
  serverError: number;
  /** Per DynamoDB request, outside the SDK's retries: the call fails before it is sent (our code must cope). */
  hardError: number;
  /** Per DynamoDB write, outside the SDK's retries: the write applied, its reply was lost (a timeout). */
  replyLost: number;
  /** Per TransactWriteItems: cancelled with `TransactionConflict` (our code must retry it). */
  transactionConflict: number;
  /** Per run attempt: the process dies after its k-th write. */
  crash: number;
  /** Per BatchGetItem: some keys come back unprocessed. */
  unprocessed: number;
  /** Per SNS entry: listed in Failed. */
  snsFailed: number;
  /** Per SNS request: throttled. */
  snsThrottled: number;
  /** Per stream batch: the notifier dies before publishing anything. */
  notifierCrashBeforePublish: number;
  /** Per stream batch: the notifier dies after publishing, before the checkpoint is saved. */
  notifierCrash: number;
  /** Per stream batch: saving the checkpoint after it fails (the deliverer dies there). */
  checkpointWriteFails: number;
  /** Per GetRecords / GetShardIterator: the Streams call fails (the deliverer dies there). */
  streamError: number;
  /** Per GetRecords: the shard iterator has expired (the reader must get a new one). */
  iteratorExpired: number;
}

export type FaultKind = keyof FaultRates;

/**
 * The faults the system absorbs on its own (the SDK's or our bounded retries): an attempt that fails
 * when nothing but these happened to it is a defect, not bad luck. The injector never sends more than
 * MAX_BURST of them in a row to one request, so any retry budget above that absorbs them.
 */
const ABSORBED: ReadonlySet<FaultKind> = new Set([
  'throttle',
  'serverError',
  'transactionConflict',
  'unprocessed',
  'iteratorExpired',
]);
const MAX_BURST = 2;

/** The fault rates of the CI-sized run (the long run uses the same). */
export const CI_FAULTS: FaultRates = {
  throttle: 0.05,
  serverError: 0.03,
  hardError: 0.02,
  replyLost: 0.02,
  transactionConflict: 0.3,
  crash: 0.15,
  unprocessed: 0.5,
  snsFailed: 0.1,
  snsThrottled: 0.15,
  notifierCrashBeforePublish: 0.1,
  notifierCrash: 0.15,
  checkpointWriteFails: 0.15,
  streamError: 0.1,
  iteratorExpired: 0.1,
};

export interface Scenario {
  merchants: ModelMerchant[];
  policies: ModelPolicy[];
  steps: Step[];
  faults: FaultRates;
  seed: number;
}

export interface FaultStats {
  scenarios: number;
  steps: number;
  runAttempts: number;
  /** Faults that happened (not merely armed), by kind. */
  injected: Partial<Record<FaultKind, number>>;
  invariants: number;
  /** Stream records handed to the notifier again (after a failure or a crash before the checkpoint). */
  redeliveries: number;
  duplicatesDelivered: number;
  /** Enrolments the model ended with, by program, and of them those a late announcement gave. */
  enrolments: Record<string, number>;
  lateEnrolments: number;
}

export const emptyStats = (): FaultStats => ({
  scenarios: 0,
  steps: 0,
  runAttempts: 0,
  injected: {},
  invariants: 0,
  redeliveries: 0,
  duplicatesDelivered: 0,
  enrolments: {},
  lateEnrolments: 0,
});

const sh = (date: string, time = '00:00') => `${date}T${time}:00.000+08:00`;
const plusDays = (date: string, n: number) =>
  DateTime.fromISO(date, { zone: 'Asia/Shanghai' }).plus({ days: n }).toISODate() as string;

// ---------- generation ----------

// Mostly seed-plan categories (SEED_PLAN_2020), with and without cosmetics (a cart policy's scope) and food
// (the program announced later).
const CATEGORY_SETS = [
  [],
  ['cosmetics'],
  ['food'],
  ['cosmetics', 'food'],
  ['apparel'],
  ['home', 'food'],
  ['baby'],
  ['pets', 'cosmetics'],
];
const SEED_ONLY = ['apparel', 'beauty', 'home', 'baby', 'pets'];
/** A categories correction that moves a merchant out of the seed plan or into it, keeping cosmetics and food as they were. */
export const corrected = (categories: string[]) =>
  categories.some((c) => SEED_ONLY.includes(c))
    ? categories.filter((c) => !SEED_ONLY.includes(c))
    : [...categories, 'apparel'];
/** The program announced mid-schedule: food merchants onboarded from a day, its own window and benefit. */
export const LATE_PROGRAM = 'FOOD_LATE';

export function scenarioArbitrary(faults: FaultRates): fc.Arbitrary<Scenario> {
  return fc
    .record({
      start: fc.integer({ min: 0, max: 14 }),
      length: fc.integer({ min: 3, max: 8 }),
      merchants: fc.array(
        fc.record({
          // Onboarded so that the windows start, reach their last days, or end within the schedule;
          // the schedule lies around the seed plan's start (2020-07-01), so T falls on both sides of it;
          // now and then before the program start (2020-05-01: ineligible).
          offset: fc.oneof(
            { arbitrary: fc.integer({ min: -4, max: 8 }), weight: 5 },
            { arbitrary: fc.integer({ min: -34, max: -24 }), weight: 1 },
            { arbitrary: fc.integer({ min: -40, max: 8 }), weight: 1 },
            { arbitrary: fc.integer({ min: -75, max: -60 }), weight: 1 },
          ),
          liveThirdParty: fc.boolean(),
          categories: fc.constantFrom(...CATEGORY_SETS),
        }),
        { minLength: 2, maxLength: 7 },
      ),
      policies: fc.uniqueArray(
        fc.record({
          announce: fc.integer({ min: 0, max: 8 }),
          lead: fc.integer({ min: 0, max: 4 }),
          cosmeticsOnly: fc.boolean(),
          blocked: fc.boolean(),
        }),
        { maxLength: 2, selector: (p) => p.announce + p.lead }, // distinct instants: no conflicting policies
      ),
      violations: fc.array(
        fc.record({ merchant: fc.nat(), day: fc.nat(), minute: fc.integer({ min: 0, max: 1439 }) }),
        { maxLength: 2 },
      ),
      corrections: fc.array(fc.record({ merchant: fc.nat(), day: fc.nat() }), { maxLength: 3 }),
      announcement: fc.option(
        fc.record({
          day: fc.nat(),
          from: fc.integer({ min: -40, max: 4 }),
          startOffsetDays: fc.integer({ min: 0, max: 3 }),
          lengthDays: fc.integer({ min: 2, max: 20 }),
        }),
        { nil: undefined, freq: 5 },
      ),
      perturbations: fc.array(
        fc.constantFrom<Mode | 'skip' | 'late'>(
          'normal',
          'normal',
          'normal',
          'normal',
          'skip',
          'late',
          'duplicate',
          'concurrent',
          'dry',
        ),
        {
          minLength: 40,
          maxLength: 40,
        },
      ),
      backfill: fc.option(fc.constantFrom<Job>('activate', 'expire', 'cart-policies'), { nil: undefined }),
      seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
    })
    .map(
      ({
        start,
        length,
        merchants,
        policies,
        violations,
        corrections,
        announcement,
        perturbations,
        backfill,
        seed,
      }) => {
        // Around the seed plan's start, late enough for windows that began after the program start to end.
        const first = plusDays('2020-06-29', start);
        const days = Array.from({ length }, (_, i) => plusDays(first, i));
        const last = days[days.length - 1] as string;
        const modelMerchants: ModelMerchant[] = merchants.map((m, i) => ({
          merchantId: `f-${i}`,
          onboardedOn: plusDays(first, m.offset),
          liveThirdParty: m.liveThirdParty,
          categories: m.categories,
        }));
        const modelPolicies: ModelPolicy[] = policies.map((p, i) => ({
          policyId: `policy-${i}`,
          announcedOn: plusDays(first, p.announce),
          effectiveAt: sh(plusDays(first, p.announce + p.lead)),
          categories: p.cosmeticsOnly ? ['cosmetics'] : 'ALL',
          value: p.blocked ? 'BLOCKED' : 'XINGTU_ONLY',
        }));
        const revocations = violations.map((v) => {
          const day = days[v.day % days.length] as string;
          const at = DateTime.fromISO(day, { zone: 'Asia/Shanghai' })
            .plus({ minutes: v.minute })
            .toISO() as string;
          return {
            kind: 'revoke' as const,
            merchantId: `f-${v.merchant % merchants.length}`,
            at,
            reason: 'fake orders',
            day,
          };
        });
        // Categories corrections in the order of their days, each from the categories recorded until then.
        const categoriesNow = new Map(modelMerchants.map((m) => [m.merchantId, m.categories]));
        const correctionsOn = new Map<string, Step[]>();
        for (const c of [...corrections].sort((a, b) => (a.day % days.length) - (b.day % days.length))) {
          const merchantId = `f-${c.merchant % merchants.length}`;
          const categories = corrected(categoriesNow.get(merchantId) ?? []);
          categoriesNow.set(merchantId, categories);
          const day = days[c.day % days.length] as string;
          correctionsOn.set(day, [
            ...(correctionsOn.get(day) ?? []),
            { kind: 'correct', merchantId, categories },
          ]);
        }
        const announceOn = announcement && days[announcement.day % days.length];
        const lateProgram: ModelProgram | undefined = announcement && {
          programId: LATE_PROGRAM,
          from: plusDays(first, announcement.from),
          categories: ['food'],
          startOffsetDays: announcement.startOffsetDays,
          lengthDays: announcement.lengthDays,
        };
        // The schedules, perturbed: each occurrence on time, skipped, late (after the next day), run
        // twice, run twice at once, or as a dry run.
        const steps: Step[] = [];
        let postponed: Step[] = [];
        let k = 0;
        for (const day of days) {
          const today: Step[] = [];
          if (lateProgram && day === announceOn) today.push({ kind: 'announce', program: lateProgram });
          const occurrence = (job: Job, time: string) => {
            const mode = perturbations[k++ % perturbations.length] as Mode | 'skip' | 'late';
            if (mode === 'skip') return;
            const step: Step = {
              kind: 'run',
              job,
              asOf: sh(day, time),
              mode: mode === 'late' ? 'normal' : mode,
            };
            if (mode === 'late') postponed.push(step);
            else today.push(step);
          };
          occurrence('activate', '00:00');
          occurrence('cart-policies', '00:00');
          for (const r of revocations.filter((r) => r.day === day).sort((a, b) => a.at.localeCompare(b.at))) {
            today.push({ kind: 'revoke', merchantId: r.merchantId, at: r.at, reason: r.reason });
          }
          today.push(...(correctionsOn.get(day) ?? []));
          occurrence('expire', '23:59');
          steps.push(...today, ...postponed.filter((s) => s.kind === 'run' && s.asOf < sh(day))); // yesterday's late ones
          postponed = postponed.filter((s) => !(s.kind === 'run' && s.asOf < sh(day)));
          steps.push({ kind: 'deliver' });
        }
        steps.push(...postponed);
        if (backfill) steps.push({ kind: 'backfill', job: backfill, from: first, to: last });
        steps.push({ kind: 'deliver' });
        return { merchants: modelMerchants, policies: modelPolicies, steps, faults, seed };
      },
    );
}

/** The operations that take effect, in order: what the model is fed. */
export function modelOps(steps: Step[]): ModelOp[] {
  const ops: ModelOp[] = [];
  for (const step of steps) {
    if (step.kind === 'revoke' || step.kind === 'correct' || step.kind === 'announce') ops.push(step);
    if (step.kind === 'run' && step.mode !== 'dry') {
      ops.push({ kind: 'run', job: step.job, asOf: step.asOf });
      if (step.mode === 'duplicate' || step.mode === 'concurrent')
        ops.push({ kind: 'run', job: step.job, asOf: step.asOf });
    }
    if (step.kind === 'backfill') {
      const time = step.job === 'expire' ? '23:59' : '00:00';
      for (let day = step.from; day <= step.to; day = plusDays(day, 1))
        ops.push({ kind: 'run', job: step.job, asOf: sh(day, time) });
    }
  }
  return ops;
}

// ---------- fault injection at the SDK boundary ----------

class CrashError extends Error {
  override name = 'CrashError';
}

const WRITES = new Set([
  'PutItemCommand',
  'UpdateItemCommand',
  'DeleteItemCommand',
  'TransactWriteItemsCommand',
  'BatchWriteItemCommand',
]);

/** One attempt of an operation (a process, as far as faults go): what happened to it. */
interface Attempt {
  /** Faults are injected into this attempt (off once the outage is over). */
  faultsOn: boolean;
  faults: Set<FaultKind>;
  writes: number;
  crashAfter: number | undefined;
  crashed: boolean;
}

/** What a network timeout after the request was sent looks like to the caller: retryable, no answer. */
function replyLostError(command: string): Error {
  return Object.assign(new Error(`socket hang up (injected: ${command} applied, its reply was lost)`), {
    name: 'TimeoutError',
    code: 'ECONNRESET',
    $metadata: {},
  });
}

/** The key of a transaction's first item, whatever form its input has reached (marshalled or not). */
function firstItemKey(input: unknown): string {
  const [first] = (input as { TransactItems?: Record<string, { Item?: unknown; Key?: unknown }>[] })
    .TransactItems ?? [{}];
  const action = Object.values(first ?? {})[0] as { Item?: { pk?: unknown }; Key?: { pk?: unknown } };
  return JSON.stringify(action?.Item?.pk ?? action?.Key?.pk ?? null);
}

type Key = { pk?: unknown; sk?: unknown };
/** The same keys, marshalled (`{ S: … }`) or not, give the same string. */
function keysSignature(keys: Key[]): string {
  const text = (v: unknown) => (typeof v === 'string' ? v : String((v as { S?: string } | undefined)?.S));
  return keys
    .map((k) => `${text(k.pk)}|${text(k.sk)}`)
    .sort()
    .join(',');
}

class Injector {
  /** Faults outside any attempt (the harness's own setup and final delivery). */
  enabled = true;
  /** Consecutive absorbed faults sent to one request (or one chain of retries). */
  private readonly bursts = new Map<unknown, number>();
  private readonly attempts = new AsyncLocalStorage<Attempt>();

  constructor(
    private readonly rates: FaultRates,
    private readonly random: () => number,
    private readonly stats: FaultStats,
  ) {}

  /** Runs one attempt; faults rolled inside it (in any of its async calls) are its own. */
  attempt<T>(faultsOn: boolean, body: (attempt: Attempt) => Promise<T>): Promise<T> {
    const attempt: Attempt = {
      faultsOn,
      faults: new Set(),
      writes: 0,
      crashAfter: undefined,
      crashed: false,
    };
    // A crash is armed for the k-th write; it happens only if the attempt gets that far.
    if (this.roll('crash', undefined, faultsOn)) attempt.crashAfter = 1 + Math.floor(this.random() * 12);
    return this.attempts.run(attempt, () => body(attempt));
  }

  current(): Attempt | undefined {
    return this.attempts.getStore();
  }

  /**
   * Whether to inject a fault of this kind now. With a `target`, an absorbed fault is not sent more
   * than MAX_BURST times in a row to it. Not counted: the caller counts it once it has happened.
   */
  roll(kind: FaultKind, target?: unknown, on = this.current()?.faultsOn ?? this.enabled): boolean {
    if (!on || this.random() >= this.rates[kind]) {
      if (target !== undefined) this.bursts.delete(target);
      return false;
    }
    if (target === undefined) return true;
    const burst = (this.bursts.get(target) ?? 0) + 1;
    if (burst > MAX_BURST) {
      this.bursts.delete(target);
      return false;
    }
    this.bursts.set(target, burst);
    return true;
  }

  /** Counts a fault that happened, in the run's figures and against the attempt it happened to. */
  happened(kind: FaultKind): void {
    this.stats.injected[kind] = (this.stats.injected[kind] ?? 0) + 1;
    this.current()?.faults.add(kind);
  }

  dynamoClient(endpoint: string): DynamoDBDocumentClient {
    const raw = new DynamoDBClient({
      endpoint,
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
      retryStrategy: new ConfiguredRetryStrategy(6, () => 2),
    });
    // Outside the SDK's retries: process death and hard failures, seen by our code as they are.
    raw.middlewareStack.add(
      (next, context) => async (args) => {
        const command = context.commandName as string;
        const attempt = this.current();
        if (attempt?.crashed) throw new CrashError('the process died');
        if (this.roll('hardError')) {
          this.happened('hardError');
          throw new Error(`injected failure of ${command}`);
        }
        if (
          command === 'TransactWriteItemsCommand' &&
          this.roll('transactionConflict', firstItemKey(args.input))
        ) {
          this.happened('transactionConflict');
          const items = (args.input as { TransactItems?: unknown[] }).TransactItems ?? [];
          throw new TransactionCanceledException({
            message:
              'Transaction cancelled, please refer cancellation reasons for specific reasons (injected)',
            $metadata: { httpStatusCode: 400 },
            CancellationReasons: items.map((_, i) =>
              i === 0
                ? { Code: 'TransactionConflict', Message: 'Transaction is ongoing for the item' }
                : { Code: 'None' },
            ),
          });
        }
        const result = await next(args);
        if (command === 'BatchGetItemCommand') {
          const output = result.output as {
            Responses?: Record<string, Record<string, unknown>[]>;
            UnprocessedKeys?: Record<string, { Keys: unknown[] }>;
          };
          const requested = (args.input as { RequestItems?: Record<string, { Keys?: Key[] }> }).RequestItems;
          for (const [table, items] of Object.entries(output.Responses ?? {})) {
            // A retry asks for exactly the keys left unprocessed: one chain of retries, one burst target.
            const target = keysSignature(requested?.[table]?.Keys ?? []);
            if (items.length === 0 || !this.roll('unprocessed', target)) continue;
            const moved = items.splice(0, Math.ceil(items.length / 2));
            output.UnprocessedKeys = { [table]: { Keys: moved.map((i) => ({ pk: i.pk, sk: i.sk })) } };
            this.bursts.set(keysSignature(moved as Key[]), this.bursts.get(target) ?? 1);
            this.happened('unprocessed');
          }
        }
        if (
          WRITES.has(command) &&
          attempt?.crashAfter !== undefined &&
          ++attempt.writes >= attempt.crashAfter
        ) {
          attempt.crashed = true; // the k-th write happened; nothing after it does
          this.happened('crash');
        } else if (WRITES.has(command) && this.roll('replyLost')) {
          this.happened('replyLost');
          throw replyLostError(command);
        }
        return result;
      },
      { step: 'initialize', name: 'injectProcessFaults' },
    );
    // Inside the SDK's retries: throttling and 5xx, which the retry strategy must absorb.
    raw.middlewareStack.add(
      (next, context) => async (args) => {
        if (this.roll('throttle', context)) {
          this.happened('throttle');
          throw new ProvisionedThroughputExceededException({
            message: 'injected throttling',
            $metadata: { httpStatusCode: 400 },
          });
        }
        if (this.roll('serverError', context)) {
          this.happened('serverError');
          throw new InternalServerError({ message: 'injected 500', $metadata: { httpStatusCode: 500 } });
        }
        return next(args);
      },
      { step: 'finalizeRequest', priority: 'low', name: 'injectServiceFaults' },
    );
    return DynamoDBDocumentClient.from(raw, { marshallOptions: { removeUndefinedValues: true } });
  }

  /** The Streams client of the deliverer: failing calls, and iterators that expire. */
  streamsClient(endpoint: string): DynamoDBStreamsClient {
    const streams = localStreamsClient(endpoint);
    streams.middlewareStack.add(
      (next, context) => async (args) => {
        const command = context.commandName as string;
        if (command === 'GetRecordsCommand' && this.roll('iteratorExpired', command)) {
          this.happened('iteratorExpired');
          throw new ExpiredIteratorException({
            message: 'Iterator expired (injected)',
            $metadata: { httpStatusCode: 400 },
          });
        }
        if (
          (command === 'GetRecordsCommand' || command === 'GetShardIteratorCommand') &&
          this.roll('streamError')
        ) {
          this.happened('streamError');
          throw new Error(`injected failure of ${command}`);
        }
        return next(args);
      },
      { step: 'initialize', name: 'injectStreamFaults' },
    );
    return streams;
  }
}

// ---------- running a scenario ----------

export interface ScenarioEnv {
  endpoint: string;
  tableName: string;
  /** Clears the table (between scenarios). */
  reset(): Promise<void>;
}

export async function runScenario(
  env: ScenarioEnv,
  scenario: Scenario,
  stats: FaultStats,
): Promise<string[]> {
  stats.scenarios++;
  await env.reset();
  const random = seededRandom(scenario.seed);
  const injector = new Injector(scenario.faults, random, stats);
  let offsetMs = 0; // the harness moves time on to let a crashed run's lease expire
  const clock = () => DateTime.now().plus({ milliseconds: offsetMs });
  const deps: Deps = {
    db: injector.dynamoClient(env.endpoint),
    tableName: env.tableName,
    clock,
    programStart: '2020-05-01',
    writeConcurrency: 4,
    pageSize: 3,
    log: silentLog,
  };
  // The harness's own reads (snapshots, the final comparison) go through a client without faults.
  const plain = createDynamoClients(env.endpoint);
  const plainDeps: Deps = { ...deps, db: plain.doc };
  const problems: string[] = [];

  /**
   * Retries an operation until it succeeds, as the scheduler's retries and the operators would. A run
   * refused by the lease waits for the other run when one is going (`concurrent`); otherwise the lease
   * is a crashed run's, and time moves on until it lapses — only while no other attempt is running,
   * since a live run whose lease lapsed under it is fenced (and rightly fails).
   */
  let attemptsInFlight = 0;
  const untilDone = async (what: string, attempt: () => Promise<boolean>, concurrent = false) => {
    let last: unknown;
    let failures = 0;
    const deadline = Date.now() + 120_000;
    while (Date.now() < deadline) {
      stats.runAttempts++;
      // After 8 failures the outage is over, and recovery must succeed.
      attemptsInFlight++;
      const outcome = await injector
        .attempt(failures < 8, async (current) => {
          try {
            return { done: await attempt(), faults: current.faults };
          } catch (error) {
            return { done: false, error, faults: current.faults };
          }
        })
        .finally(() => attemptsInFlight--);
      if (outcome.done) return;
      last = outcome.error;
      if (outcome.error instanceof LeaseHeldError && concurrent) {
        await new Promise((r) => setTimeout(r, 25));
        continue;
      }
      const faults = [...outcome.faults];
      if (
        !(outcome.error instanceof LeaseHeldError) &&
        faults.length > 0 &&
        faults.every((f) => ABSORBED.has(f))
      )
        problems.push(
          `${what} failed although only faults its retries must absorb happened (${faults.join(', ')}): ${describeError(outcome.error)}`,
        );
      failures++;
      while (attemptsInFlight > 0) await new Promise((r) => setTimeout(r, 25));
      offsetMs += LEASE_TTL_MS + 1000; // a crashed run's lease lapses before its retry
    }
    throw new Error(`${what} never succeeded: ${describeError(last)}`);
  };

  const records = scenario.merchants.map((m) =>
    merchantRecordSchema.parse({
      merchantId: m.merchantId,
      onboardedAt: m.onboardedOn,
      categories: m.categories,
      liveCartSources: m.liveThirdParty ? ['shop', 'taobao'] : ['shop'],
    }),
  );
  await untilDone('import', async () => {
    await recordMerchants(deps, records);
    return true;
  });
  // The operator imports the same file again: nothing changes (and BatchGetItem finds items to hold back).
  await untilDone('import again', async () => {
    const outcomes = await recordMerchants(deps, records);
    stats.invariants++;
    if (outcomes.some((outcome) => outcome !== 'unchanged'))
      problems.push(`importing the same file again: ${JSON.stringify(outcomes)}`);
    return true;
  });
  await untilDone('calendar', async () => {
    for (const p of scenario.policies) {
      await announcePolicy(
        deps,
        cartPolicyInputSchema.parse({
          policyId: p.policyId,
          title: p.policyId,
          announcedOn: p.announcedOn,
          effectiveAt: p.effectiveAt,
          scope: { channel: 'live', categories: p.categories },
          thirdPartyProducts: p.value,
        }),
      );
    }
    return true;
  });

  // SNS at the SDK boundary, failing entries and requests as the rates say; deliveries are recorded.
  const delivered: Notice[] = [];
  const sns = mockClient(SNSClient);
  sns
    .on(PublishBatchCommand)
    .callsFake((input: { PublishBatchRequestEntries: { Id: string; Message: string }[] }) => {
      if (injector.roll('snsThrottled')) {
        injector.happened('snsThrottled');
        throw new ThrottledException({ message: 'Rate exceeded', $metadata: {} });
      }
      const Successful: { Id: string }[] = [];
      const Failed: { Id: string; Code: string; SenderFault: boolean }[] = [];
      for (const entry of input.PublishBatchRequestEntries) {
        if (injector.roll('snsFailed')) {
          injector.happened('snsFailed');
          Failed.push({ Id: entry.Id, Code: 'InternalError', SenderFault: false });
        } else {
          Successful.push({ Id: entry.Id });
          delivered.push(JSON.parse(entry.Message));
        }
      }
      return { Successful, Failed };
    });
  const publisher = snsPublisher(
    new SNSClient({ region: LOCAL_REGION }),
    'arn:aws:sns:ap-east-1:123456789012:notices',
    silentLog,
    {
      baseDelayMs: 1,
      attempts: 2,
    },
  );
  // Which stream records the notifier was handed more than once, and the notices they carry: the
  // only notices that may arrive more than once, as many extra times as their record came again.
  const handedOver = new Set<string>();
  const redeliveredNotices = new Map<string, number>();
  const checkpointPath = join(mkdtempSync(join(tmpdir(), 'fault-')), 'checkpoint.json');
  // A directory where the reader writes its checkpoint's temporary file: that write fails.
  const blockCheckpoint = `${checkpointPath}.tmp`;
  const newReader = () =>
    createStreamReader({
      dynamodb: plain.raw,
      streams: injector.streamsClient(env.endpoint),
      tableName: env.tableName,
      checkpointPath,
      handle: async (records) => {
        for (const record of records) {
          const sequenceNumber = record.dynamodb.SequenceNumber;
          if (handedOver.has(sequenceNumber)) {
            stats.redeliveries++;
            for (const notice of readableNotices(record))
              redeliveredNotices.set(notice.eventId, (redeliveredNotices.get(notice.eventId) ?? 0) + 1);
          }
          handedOver.add(sequenceNumber);
        }
        if (injector.roll('notifierCrashBeforePublish')) {
          injector.happened('notifierCrashBeforePublish');
          throw new CrashError('notifier died before publishing');
        }
        const result = await notifyFromStream(records, publisher, silentLog);
        if (injector.roll('notifierCrash')) {
          injector.happened('notifierCrash');
          throw new CrashError('notifier died after publishing, before its checkpoint');
        }
        if (injector.roll('checkpointWriteFails')) mkdirSync(blockCheckpoint, { recursive: true });
        return result;
      },
      log: silentLog,
      attempts: 2,
    });
  let reader = newReader();
  /** One delivery attempt; a deliverer that failed is gone, and a new one starts from the checkpoint. */
  const deliver = async () => {
    try {
      await reader.drain();
    } catch (error) {
      reader = newReader();
      if ((error as { code?: string }).code === 'EISDIR') injector.happened('checkpointWriteFails');
      throw error;
    } finally {
      rmSync(blockCheckpoint, { recursive: true, force: true });
    }
  };

  try {
    // Start the reader at the end of the stream: the previous scenarios' records are not ours.
    injector.enabled = false;
    const before = delivered.length;
    await reader.drain();
    delivered.splice(before);
    handedOver.clear();
    redeliveredNotices.clear();
    injector.enabled = true;

    const run = (input: Record<string, unknown>, job: Job, concurrent = false) =>
      untilDone(
        `${job} ${JSON.stringify(input)}`,
        async () => {
          const { reports } = await runJob(deps, job, parseJobInput(input));
          return reports.every((r) => r.failed === 0 && r.complete);
        },
        concurrent,
      );
    for (const step of scenario.steps) {
      stats.steps++;
      if (step.kind === 'deliver') {
        await untilDone('deliver', async () => {
          await deliver();
          return true;
        });
      }
      if (step.kind === 'revoke') {
        await untilDone('revoke', async () => {
          try {
            await revokePromotion(deps, step.merchantId, step.at, step.reason);
          } catch (error) {
            if (!(error instanceof ConflictError)) throw error; // refused by the rules: the model agrees
          }
          return true;
        });
      }
      if (step.kind === 'correct') {
        const m = scenario.merchants.find((m) => m.merchantId === step.merchantId) as ModelMerchant;
        const record = merchantRecordSchema.parse({
          merchantId: m.merchantId,
          onboardedAt: m.onboardedOn,
          categories: step.categories,
          liveCartSources: m.liveThirdParty ? ['shop', 'taobao'] : ['shop'],
        });
        await untilDone('correct', async () => {
          await recordMerchants(deps, [record]);
          return true;
        });
      }
      if (step.kind === 'announce') {
        const { program } = step;
        const file = programSchema.parse({
          programId: program.programId,
          name: '食品新店扶持',
          eligibility: { from: program.from, categories: program.categories },
          window: { startOffsetDays: program.startOffsetDays, lengthDays: program.lengthDays },
          benefits: { feeRate: 0.005, capabilities: ['LIVE_TRAFFIC_SUPPORT'] },
        });
        await untilDone('announce', async () => {
          await announcePrograms(deps, [file], { dryRun: false });
          return true;
        });
        // The activate runs that follow see it settled (announced more than ENROLMENT_SETTLE_MS ago).
        offsetMs += ENROLMENT_SETTLE_MS + 1000;
      }
      if (step.kind === 'backfill') await run({ from: step.from, to: step.to }, step.job);
      if (step.kind === 'run') {
        const input = { asOf: step.asOf, dryRun: step.mode === 'dry' };
        if (step.mode === 'dry') {
          const before = await snapshot(plainDeps, scenario.merchants);
          await untilDone('dry run', async () => {
            await runJob(deps, step.job, parseJobInput(input));
            return true;
          });
          const after = await snapshot(plainDeps, scenario.merchants);
          if (after !== before) problems.push(`dry run ${step.job} ${step.asOf} changed the table`);
          stats.invariants++;
        } else if (step.mode === 'concurrent')
          await Promise.all([run(input, step.job, true), run(input, step.job, true)]);
        else {
          await run(input, step.job);
          if (step.mode === 'duplicate') await run(input, step.job);
        }
      }
    }
    injector.enabled = false;
    await deliver();
  } finally {
    sns.restore();
  }

  // ---------- compare with the model ----------
  const model: ModelState = initialState(scenario.merchants, scenario.policies);
  for (const op of modelOps(scenario.steps)) apply(model, op, scenario.merchants, scenario.policies);
  for (const e of model.enrolments.values()) {
    if (e.status === 'INELIGIBLE') continue;
    stats.enrolments[e.programId] = (stats.enrolments[e.programId] ?? 0) + 1;
    if (e.history[0]?.[2] !== undefined) stats.lateEnrolments++;
  }
  const check = (ok: boolean, what: string) => {
    stats.invariants++;
    if (!ok) problems.push(what);
  };
  await checkStateAgainstModel(plainDeps, model, scenario.merchants, scenario.policies, check);
  // Notices: every one the model says (by type, merchant, instant and program: its eventId), of the
  // program it says, nothing else; a duplicate only where a batch was redelivered.
  const seen = new Map<string, number>();
  for (const n of delivered) seen.set(n.eventId, (seen.get(n.eventId) ?? 0) + 1);
  for (const [id, n] of model.notices)
    check(
      seen.has(id),
      `missing notice ${n.type} for ${n.merchantId} at ${n.effectiveAt} (${n.programId ?? ''})`,
    );
  for (const n of delivered) {
    const want = model.notices.get(n.eventId);
    check(
      want !== undefined,
      `unexpected notice ${n.type} for ${n.merchantId} at ${n.effectiveAt} (${programIdOf(n) ?? ''})`,
    );
    check(
      want === undefined || programIdOf(n) === want.programId,
      `notice ${n.type} for ${n.merchantId} at ${n.effectiveAt}: program ${programIdOf(n)}, model ${want?.programId}`,
    );
  }
  // A notice may come again only as often as the stream record it came from was handed over again.
  const duplicates = [...seen.values()].filter((count) => count > 1).length;
  stats.duplicatesDelivered += duplicates;
  for (const [id, count] of seen) {
    const redelivered = redeliveredNotices.get(id) ?? 0;
    // A merchant moved out of a program and back in is told the same start again: as often as the model says.
    const told = model.notices.get(id)?.times ?? 1;
    const n = delivered.find((d) => d.eventId === id);
    check(
      count - told <= redelivered,
      `notice ${n?.type} for ${n?.merchantId} at ${n?.effectiveAt} delivered ${count} times (told ${told}), its record redelivered ${redelivered} times`,
    );
  }
  plain.raw.destroy();
  return problems;
}

/** The notices a stream record carries, as the notifier derives them (none if it cannot be read). */
function readableNotices(record: StreamRecord): Notice[] {
  try {
    return noticesOfRecord(record);
  } catch {
    return [];
  }
}

const describeError = (error: unknown) =>
  error instanceof Error ? `${error.name}: ${error.message}` : String(error);

/** What a dry run must not change: every enrolment, notice state, policy and flag, by version and status. */
async function snapshot(deps: Deps, merchants: ModelMerchant[]): Promise<string> {
  const views = await Promise.all(merchants.map((m) => getMerchant(deps, m.merchantId)));
  const enrolments = await Promise.all(merchants.map((m) => readEnrolments(deps, m.merchantId)));
  const policies = await listPolicies(deps);
  const flags = await listStoredFlags(deps);
  const progress = await readEnrolmentProgress(deps);
  return JSON.stringify([
    views.map((v) => [v?.promotion?.version, v?.cartPolicies.map((c) => c.status)]),
    enrolments.map((list) => list.map((e) => [e.programId, e.version])),
    policies.map((p) => [p.policyId, p.version]),
    flags.map((f) => [f.scope, f.version]),
    [...progress.values()].map((p) => [p.programId, p.programVersion]),
  ]);
}
