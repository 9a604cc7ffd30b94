// The first phase of the activate job (rules §4): a program announced (or corrected) after merchants
// were recorded enrols those who are eligible, each brought at once to the state the rules give at the
// run's asOf. They are found through the onboarded index (never a Scan): for each program version not
// yet swept, its onboarding range is read, page by page, with one BatchGetItem of their enrolments a
// page, and each enrolment is one conditional write. A merchant whose window is already over is
// recorded SCHEDULED → ACTIVE → EXPIRED in one write, so it is never told that it started.
import type { Deps } from '../deps';
import { enrolledIn, enrolmentWindow, type Program, type ProgramInEffect } from '../programs/program';
import {
  afterChange,
  type JobContext,
  newPromotion,
  type Promotion,
  type PromotionChange,
  planActivation,
  planCorrection,
  planSnapshot,
} from '../promotion/lifecycle';
import { onboardingInstant } from '../promotion/window';
import { type OnboardedRange, onboardedPartitions, onboardedQuery } from '../store/index-reads';
import { MalformedItemError } from '../store/items';
import { enrolmentKey, enrolmentProgressKey, PROMOTION_PROGRAM } from '../store/keys';
import { type OnboardedEntry, readMerchants, readOnboardedEntry } from '../store/merchants';
import {
  type EnrolmentProgress,
  markEnrolmentProgress,
  readEnrolmentProgress,
  readPrograms,
} from '../store/programs';
import { getEnrolments, promotionItem, readPromotion, writeEnrolment } from '../store/promotions';
import { formatInstant, type Instant, parseInstant } from '../time';
import { forEachItem, type PartitionRead } from './partitions';
import { countChange, type RunContext } from './run-context';

/**
 * How long after a program is announced or corrected its enrolment starts. A recorder that read the
 * programs just before the announcement writes within its 30 s timeout, and the index follows its
 * table within seconds: after this, every merchant the recorder did not enrol is in the index.
 */
export const ENROLMENT_SETTLE_MS = 2 * 60_000;

const MAX_REPLANS = 4;

/** What a program version's enrolment needs: the onboarding dates to read, or nothing (done, not due yet). */
export function enrolmentOwed(
  { program, status, version, source, changedAt }: ProgramInEffect,
  progress: Pick<EnrolmentProgress, 'programVersion' | 'sweptFor'> | undefined,
  now: Instant,
): OnboardedRange | undefined {
  // A withdrawn program enrols no one new; the recorder enrols every merchant in today's promotion.
  if (status !== 'ANNOUNCED') return undefined;
  if (source === 'built-in' && program.programId === PROMOTION_PROGRAM) return undefined;
  if (progress?.programVersion === version) return undefined;
  if (changedAt && parseInstant(changedAt).toMillis() + ENROLMENT_SETTLE_MS > parseInstant(now).toMillis()) {
    return undefined;
  }
  // A correction also reads the range it swept before, to find the merchants it no longer covers.
  return hull(program.eligibility, progress?.sweptFor);
}

function hull(a: Program['eligibility'], b: Program['eligibility'] | undefined): OnboardedRange {
  if (!b) return { from: a.from, ...(a.until ? { until: a.until } : {}) };
  // Dates as text sort as dates; an absent `until` is no end.
  const [from] = [a.from, b.from].sort();
  const until = a.until === undefined || b.until === undefined ? undefined : [a.until, b.until].sort()[1];
  return { from: from as string, ...(until ? { until } : {}) };
}

/**
 * How many announced or corrected programs a run at `at` owed their enrolment and did not finish
 * (status's overdue count). A built-in program has no announcement to date it by, so it is not counted.
 */
export async function programsOwed(deps: Deps, at: Instant): Promise<number> {
  const [programs, progress] = await Promise.all([readPrograms(deps), readEnrolmentProgress(deps)]);
  return programs.filter(
    (p) => p.changedAt !== undefined && enrolmentOwed(p, progress.get(p.program.programId), at),
  ).length;
}

/** Phase 1 of activate: every program version owed its enrolment, one after another. */
export async function enrolLatePrograms(ctx: RunContext): Promise<void> {
  const { deps, projection } = ctx;
  const [programs, progress] = await Promise.all([readPrograms(deps), readEnrolmentProgress(deps)]);
  for (const program of programs) {
    const id = program.program.programId;
    // A dry run over several days sweeps each program once, as the real run's first day would.
    const swept = projection?.get<EnrolmentProgress>(enrolmentProgressKey(id)) ?? progress.get(id);
    const range = enrolmentOwed(program, swept, formatInstant(deps.clock()));
    if (!range) continue;
    const complete = await enrolProgram(ctx, program, range);
    if (!complete) continue;
    const done: EnrolmentProgress = {
      programId: id,
      programVersion: program.version,
      sweptFor: program.program.eligibility,
      asOf: ctx.asOf,
      processedAt: formatInstant(deps.clock()),
    };
    if (ctx.dryRun) projection?.set(enrolmentProgressKey(id), done);
    else await markEnrolmentProgress(deps, done);
  }
}

/** Sweeps one program version's range; true when all of it was read and nothing failed. */
async function enrolProgram(
  ctx: RunContext,
  program: ProgramInEffect,
  range: OnboardedRange,
): Promise<boolean> {
  const { deps, projection } = ctx;
  const programId = program.program.programId;
  const failedBefore = ctx.counts.failed;
  const found = new Map<string, Promotion | MalformedItemError | undefined>();
  const units = onboardedPartitions().map((partition) => ({
    partition,
    unit: `ENROL#${programId}#v${program.version}#${partition}`,
  }));
  const reads: PartitionRead[] = units.map(({ partition, unit }) => ({
    unit,
    query: onboardedQuery(partition, range),
    prefetch: async (items) => {
      const ids = items.map((item) => String(item.merchantId));
      const stored = await getEnrolments(deps, ids, programId);
      for (const id of ids) {
        const projected = projection?.get<Record<string, unknown>>(enrolmentKey(id, programId));
        found.set(id, projected ? readPromotion(projected) : stored.get(id));
      }
    },
  }));
  await forEachItem(ctx, reads, async (item) => {
    let entry: OnboardedEntry = readOnboardedEntry(item);
    let enrolment = found.get(entry.merchantId);
    found.delete(entry.merchantId);
    if (enrolment instanceof MalformedItemError) throw enrolment; // never write over what cannot be read
    for (let attempt = 1; attempt <= MAX_REPLANS; attempt++) {
      const outcome = await enrolOne(ctx, program, entry, enrolment);
      if (outcome !== 'lost') return outcome;
      // The profile or the enrolment changed since they were read: read both again, consistently.
      const again = (await readMerchants(deps, [entry.merchantId], [programId])).get(entry.merchantId);
      if (!again?.profile) return 'alreadyDone';
      entry = again.profile;
      enrolment = again.enrolments?.get(programId);
    }
    throw new Error(`still changing after ${MAX_REPLANS} attempts`);
  });
  const allRead = units.every(({ unit }) => ctx.cursors.cursorOf(unit) === 'done');
  return allRead && ctx.counts.failed === failedBefore;
}

type EnrolOutcome = 'changed' | 'alreadyDone' | 'lost';

/** One merchant: enrolled (new and eligible), re-planned (an older program version), or left alone. */
async function enrolOne(
  ctx: RunContext,
  program: ProgramInEffect,
  entry: OnboardedEntry,
  enrolment: Promotion | undefined,
): Promise<EnrolOutcome> {
  const { deps, projection } = ctx;
  const job: JobContext = { asOf: ctx.asOf, processedAt: formatInstant(deps.clock()) };
  const window = enrolmentWindow(program.program, entry.onboardedOn, entry.categories);
  const snapshot = enrolledIn(program);
  if (!enrolment) {
    if (!window.eligible) return 'alreadyDone';
    const fresh = newPromotion(
      entry.merchantId,
      window,
      onboardingInstant(entry.onboardedAt),
      job.processedAt,
      snapshot,
      { by: 'enrol', asOf: ctx.asOf },
    );
    const activation = planActivation(fresh.promotion, job);
    const created = activation ? afterChange(fresh.promotion, activation) : fresh.promotion;
    const next = activation ? activation.next : fresh.next;
    // A new item is version 1 whatever it went through in memory: its history says what happened.
    const item = { ...created, version: 1 };
    if (ctx.dryRun)
      projection?.set(enrolmentKey(entry.merchantId, snapshot.programId), promotionItem(item, next), {
        created: true,
      });
    else if (!(await writeEnrolment(deps, entry.version, { created: item, next }))) return 'lost';
    countChange(ctx.counts, ['ENROLLED', ...(activation?.entries.map((e) => e.status) ?? [])]);
    return 'changed';
  }
  if (enrolment.programVersion === program.version) return 'alreadyDone';
  const change = reconcile(enrolment, window, program, job);
  if (!change) return 'alreadyDone';
  if (ctx.dryRun) {
    projection?.set(
      enrolmentKey(entry.merchantId, snapshot.programId),
      promotionItem(afterChange(enrolment, change), change.next),
    );
  } else if (!(await writeEnrolment(deps, entry.version, { promotion: enrolment, change }))) return 'lost';
  countChange(ctx.counts, ['CORRECTED', ...change.entries.map((e) => e.status)]);
  return 'changed';
}

/**
 * An enrolment computed from an older program version, under the corrected one: a moved window or a
 * change of eligibility re-plans it (as a corrected T does) and settles it at asOf in the same write;
 * a new name or benefits only rewrite the snapshot of an enrolment not over (one over keeps what it
 * had, so a quote of a past order never changes).
 */
function reconcile(
  enrolment: Promotion,
  window: ReturnType<typeof enrolmentWindow>,
  program: ProgramInEffect,
  job: JobContext,
): PromotionChange | undefined {
  const { program: snapshot, programVersion } = enrolledIn(program);
  const reason = `program ${program.program.programId} corrected (version ${program.version})`;
  const correction = planCorrection(enrolment, window, job.processedAt, reason);
  if (!correction) return planSnapshot(enrolment, { program: snapshot, programVersion }, job.asOf);
  const corrected = afterChange(enrolment, correction);
  const activation = planActivation(corrected, job);
  return {
    ...correction,
    ...(activation ? { status: activation.status, next: activation.next } : {}),
    entries: [...correction.entries, ...(activation?.entries ?? [])],
    program: snapshot,
    programVersion,
  };
}
