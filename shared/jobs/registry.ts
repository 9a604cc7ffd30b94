// Every scheduled job, in one place: when it runs, what it reads and does, what it may do to the
// table, and what counts as overdue for it. The stack (schedules, functions, IAM, alarms), `status`,
// the CLI's help and the demo's replay order derive from this; a job added here does not compile
// until its entry has every field. See docs/infrastructure.md ("Adding a job").
import type { Deps } from '../deps';
import { policyIsDue } from '../policies/policy';
import type { IndexName, TableGrant } from '../store/access';
import { countDue } from '../store/index-reads';
import { CART_POLICY_PK, FLAG_PK, merchantPk, PROGRAM_PK } from '../store/keys';
import { listPolicies } from '../store/policies';
import { AUDIENCE_INDEX, DUE_INDEX, ONBOARDED_INDEX } from '../store/table';
import { type Instant, ZONE } from '../time';
import { runCartPolicies } from './cart-policies';
import { enrolLatePrograms, programsOwed } from './enrolment';
import { activateJob, expireJob } from './promotion-jobs';
import type { RunContext } from './run-context';
import { type SweepSpec, sweep } from './sweep';

/** Once a day at a time of day in Asia/Shanghai; a {from,to} backfill runs one occurrence per day at this time. */
export interface DailySchedule {
  hour: number;
  minute: number;
  timeZone: typeof ZONE;
  /** The same as an EventBridge Scheduler cron expression, evaluated in `timeZone`. */
  cron: string;
}

export const daily = (hour: number, minute: number): DailySchedule => ({
  hour,
  minute,
  timeZone: ZONE,
  cron: `cron(${minute} ${hour} * * ? *)`,
});

/** What status is told when it asks a job what is overdue. */
export interface OverdueAsOf {
  asOf: Instant;
  /** The job's last scheduled occurrence at or before `asOf`. */
  lastOccurrence: Instant;
}

export interface JobDefinition {
  schedule: DailySchedule;
  /** One line for the CLI's help and the docs. */
  summary: string;
  /** The indexes the job queries for its work (it is granted Query on them). */
  reads: readonly IndexName[];
  /** One occurrence of the job: reads its work, plans each change, writes it (or projects it in a dry run). */
  run: (ctx: RunContext) => Promise<void>;
  /**
   * What the job's own code does to the table, besides its `JOB#<job>` items (lease and job-run
   * items, which every job has: infra/table-access.ts) and Query on each of `reads`. Each grant is one IAM
   * statement limited to its partitions; the infra tests assert them.
   */
  grants: readonly TableGrant[];
  /** How many items or policies should have been handled by its last run before `asOf` and still wait. */
  overdue: (deps: Deps, at: OverdueAsOf) => Promise<number>;
}

/** Every merchant's partition (`MERCHANT#<id>`), and nothing else. */
const MERCHANTS = merchantPk('*');

/**
 * activate / expire (shared/jobs/sweep.ts, shared/store/promotions.ts applyPromotionChange): each
 * promotion found in the due index is one conditional UpdateItem (MERCHANT#<id> / PROMO#…); no Put
 * or Delete, so no merchant item is created or removed.
 */
const PROMOTION_JOB_GRANTS: readonly TableGrant[] = [
  { actions: ['dynamodb:UpdateItem'], partitions: [MERCHANTS] },
];

/**
 * activate's first phase (shared/jobs/enrolment.ts, shared/store/programs.ts): Query of the programs
 * and their enrolment progress, and PutItem of that progress (PROGRAM); per page of the onboarded
 * index a BatchGetItem of enrolments; each enrolment a TransactWriteItems of a ConditionCheck on the
 * profile and a Put (a new enrolment) or an Update (MERCHANT#<id>), each authorised as its own action.
 */
const ENROLMENT_GRANTS: readonly TableGrant[] = [
  {
    actions: ['dynamodb:BatchGetItem', 'dynamodb:ConditionCheckItem', 'dynamodb:PutItem'],
    partitions: [MERCHANTS],
  },
  { actions: ['dynamodb:PutItem', 'dynamodb:Query'], partitions: [PROGRAM_PK] },
];

/** A promotion job: it reads the due index for the steps it takes and writes only promotions. */
function promotionJob(spec: SweepSpec, schedule: DailySchedule, summary: string): JobDefinition {
  return {
    schedule,
    summary,
    reads: [DUE_INDEX.indexName],
    run: (ctx) => sweep(ctx, spec),
    grants: PROMOTION_JOB_GRANTS,
    // What its last run should have settled (due within that run's reach) and still waits.
    overdue: (deps, { lastOccurrence }) => countDue(deps, spec.takes, spec.upTo(lastOccurrence)),
  };
}

const activate = promotionJob(
  activateJob,
  daily(0, 0),
  'programs announced since merchants were recorded enrol the eligible ones; SCHEDULED promotions whose start has come become ACTIVE (a window already over goes on to EXPIRED in the same write)',
);

const ENTRIES = {
  activate: {
    ...activate,
    reads: [DUE_INDEX.indexName, ONBOARDED_INDEX.indexName],
    run: async (ctx) => {
      await enrolLatePrograms(ctx);
      await activate.run(ctx);
    },
    grants: [...PROMOTION_JOB_GRANTS, ...ENROLMENT_GRANTS],
    // What waits in the due index, and each program whose enrolment its last run owed and did not finish.
    overdue: async (deps, at) =>
      (await activate.overdue(deps, at)) + (await programsOwed(deps, at.lastOccurrence)),
  },
  expire: promotionJob(
    expireJob,
    daily(23, 59),
    'ACTIVE promotions whose last day is that day (or earlier) become EXPIRED; promotions entering their last days are marked for the "ends soon" notice',
  ),
  'cart-policies': {
    schedule: daily(0, 0),
    summary:
      'announces cart and Xingtu fee policies to the merchants they affect on their announcement day, and puts them in force (a cart policy’s flags, then merchants’ notices) at their instant',
    // The audience index (third-party live carts) for cart policies and fee policies that price only
    // third-party links; the onboarded index, read whole, for a fee policy that prices shop links.
    reads: [AUDIENCE_INDEX.indexName, ONBOARDED_INDEX.indexName],
    run: runCartPolicies,
    /**
     * shared/jobs/cart-policies.ts, shared/store/policies.ts and flags.ts: listPolicies and listStoredFlags Query the
     * fixed partitions CART_POLICY and FLAG, updatePolicy and setFlag are each a conditional UpdateItem
     * there; a merchant's notice state per policy is a conditional UpdateItem, read with GetItem in a
     * dry run instead.
     */
    grants: [
      // The policy calendar and the live-room flags: read them, put a policy in force, move a flag.
      { actions: ['dynamodb:Query', 'dynamodb:UpdateItem'], partitions: [CART_POLICY_PK, FLAG_PK] },
      // Merchants' notice states per policy (MERCHANT#<id> / CART_POLICY#… and FEE_POLICY#…).
      { actions: ['dynamodb:GetItem', 'dynamodb:UpdateItem'], partitions: [MERCHANTS] },
    ],
    // Scheduled policies whose instant has come, or whose announcement is due and not made.
    overdue: async (deps, { asOf }) =>
      (await listPolicies(deps)).filter((policy) => policyIsDue(policy, asOf)).length,
  },
} satisfies Record<string, JobDefinition>;

export type JobName = keyof typeof ENTRIES;
/** Every job by name; an entry missing a field fails to compile here, not where it is used. */
export const JOBS: Readonly<Record<JobName, JobDefinition>> = ENTRIES;
/** In the registry's order (the stack's, status's and the CLI's). */
export const JOB_NAMES = Object.keys(JOBS) as JobName[];

const minuteOfDay = (job: JobName) => JOBS[job].schedule.hour * 60 + JOBS[job].schedule.minute;
/** The jobs in the order their schedules fire each day; jobs at the same time keep the registry's order. */
export const JOB_NAMES_BY_TIME_OF_DAY: readonly JobName[] = [...JOB_NAMES].sort(
  (a, b) => minuteOfDay(a) - minuteOfDay(b),
);
