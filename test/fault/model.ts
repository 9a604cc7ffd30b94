// The reference model: from a population, a policy calendar and the operations that took effect (job
// runs as of their instants, revocations, categories corrections, programs announced), what every
// enrolment (merchant × program), flag and merchant × policy state must be, and which notices (by
// eventId) must have been sent. Pure, and written from the rules (SPEC §1 and §4, docs/rules.md) —
// deliberately not from the job code or its window and eligibility functions, which it checks.
import { createHash } from 'node:crypto';
import { DateTime } from 'luxon';

const ZONE = 'Asia/Shanghai';
const at = (iso: string) => DateTime.fromISO(iso, { zone: ZONE });
const iso = (t: DateTime) => t.setZone(ZONE).toISO() as string;
const midnight = (date: string, plusDays = 0) => iso(at(date).startOf('day').plus({ days: plusDays }));
const dayOf = (instant: string) => at(instant).toISODate() as string;

export interface ModelMerchant {
  merchantId: string;
  onboardedOn: string; // T
  liveThirdParty: boolean;
  /** As first recorded; corrections change them (never whether `cosmetics` is one: see ModelOp). */
  categories: string[];
}

/** A program as the rules define it (SPEC §4): who is eligible, and the window relative to T. */
export interface ModelProgram {
  programId: string;
  from: string;
  until?: string;
  categories: 'ALL' | string[];
  startOffsetDays: number;
  lengthDays: number;
}

/** Today's promotion (SPEC §1): everyone onboarded from the program start, T+2 for 30 days. */
export const newMerchantFee = (programStart = '2020-05-01'): ModelProgram => ({
  programId: 'NEW_MERCHANT_FEE',
  from: programStart,
  categories: 'ALL',
  startOffsetDays: 2,
  lengthDays: 30,
});
/** The 种子计划 (SPEC §4): onboarded from 2020-07-01 in five categories (cosmetics counts as beauty), T+2 for 30 days. */
export const SEED_PLAN: ModelProgram = {
  programId: 'SEED_PLAN_2020',
  from: '2020-07-01',
  categories: ['apparel', 'beauty', 'cosmetics', 'home', 'baby', 'pets'],
  startOffsetDays: 2,
  lengthDays: 30,
};
const FIRST_PROGRAM = 'NEW_MERCHANT_FEE';

export interface ModelPolicy {
  policyId: string;
  announcedOn: string;
  effectiveAt: string; // +08:00 instant
  categories: 'ALL' | string[];
  value: 'XINGTU_ONLY' | 'BLOCKED';
}

export type ModelOp =
  | { kind: 'run'; job: 'activate' | 'expire' | 'cart-policies'; asOf: string }
  | { kind: 'revoke'; merchantId: string; at: string; reason: string }
  /** The merchant recorded again with other categories. Cart-policy scopes here are ALL or cosmetics,
   * and a correction keeps whether cosmetics is one, so no cart policy's audience changes. */
  | { kind: 'correct'; merchantId: string; categories: string[] }
  /** A program stored and settled before the next activate run. */
  | { kind: 'announce'; program: ModelProgram };

/** The effective instant of a correction's entry: the wall clock when it was processed. */
export const PROCESSED_AT = '(processedAt)';

export interface ModelPromotion {
  programId: string;
  eligible: boolean;
  status: 'INELIGIBLE' | 'SCHEDULED' | 'ACTIVE' | 'EXPIRED' | 'REVOKED';
  /** status, effectiveAt, asOf (undefined for recording, corrections and revocation) */
  history: [string, string, string | undefined][];
  reminder?: string; // effectiveAt
  remindLater: boolean;
  startsAt: string;
  endsBefore: string;
  revokedAt?: string;
}

export interface ModelNotice {
  type: string;
  merchantId: string;
  effectiveAt: string;
  programId?: string;
  /** How many times the model told it (a merchant moved out of a program and back in is told the same start again). */
  times: number;
}

export interface ModelState {
  /** `${merchantId}|${programId}` → the enrolment */
  enrolments: Map<string, ModelPromotion>;
  /** merchantId → T and the categories recorded now */
  merchants: Map<string, { onboardedOn: string; categories: string[] }>;
  /** The programs in effect, and those announced whose merchants the next activate run enrols. */
  programs: ModelProgram[];
  pendingPrograms: Set<string>;
  /** `${merchantId}|${policyId}` → status, effectiveAt told */
  merchantPolicies: Map<string, { status: 'ANNOUNCED' | 'IN_FORCE'; effectiveAt: string }>;
  policies: Map<string, { inForce: boolean; announced: boolean; skipped: boolean }>;
  /** `${scope}` → [value, since, policyId, asOf][] */
  flags: Map<string, [string, string, string, string][]>;
  notices: Map<string, ModelNotice>;
}

export const enrolmentKeyOf = (merchantId: string, programId: string) => `${merchantId}|${programId}`;

export function eventId(...parts: string[]): string {
  const hex = createHash('sha256').update(parts.join('\u0000')).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

const eligibleFor = (program: ModelProgram, onboardedOn: string, categories: string[]) =>
  onboardedOn >= program.from &&
  (program.until === undefined || onboardedOn < program.until) &&
  (program.categories === 'ALL' || categories.some((c) => (program.categories as string[]).includes(c)));

/** A new enrolment as recorded (`asOf` set when the activate job enrols it for a program announced later). */
function enrolment(program: ModelProgram, onboardedOn: string, categories: string[], asOf?: string) {
  const eligible = eligibleFor(program, onboardedOn, categories);
  const status = eligible ? 'SCHEDULED' : 'INELIGIBLE';
  return {
    programId: program.programId,
    eligible,
    status,
    history: [[status, midnight(onboardedOn), asOf]],
    remindLater: false,
    startsAt: midnight(onboardedOn, program.startOffsetDays),
    endsBefore: midnight(onboardedOn, program.startOffsetDays + program.lengthDays),
  } satisfies ModelPromotion as ModelPromotion;
}

export function initialState(
  merchants: ModelMerchant[],
  policies: ModelPolicy[],
  programStart = '2020-05-01',
): ModelState {
  const state: ModelState = {
    enrolments: new Map(),
    merchants: new Map(),
    programs: [newMerchantFee(programStart), SEED_PLAN],
    pendingPrograms: new Set(),
    merchantPolicies: new Map(),
    policies: new Map(),
    flags: new Map(),
    notices: new Map(),
  };
  for (const m of merchants) {
    state.merchants.set(m.merchantId, { onboardedOn: m.onboardedOn, categories: m.categories });
    // Today's promotion is recorded for everyone (INELIGIBLE too); any other program only for the eligible.
    for (const program of state.programs) {
      const e = enrolment(program, m.onboardedOn, m.categories);
      if (e.eligible || program.programId === FIRST_PROGRAM)
        state.enrolments.set(enrolmentKeyOf(m.merchantId, program.programId), e);
    }
  }
  for (const p of policies)
    state.policies.set(p.policyId, { inForce: false, announced: false, skipped: false });
  return state;
}

function tell(
  state: ModelState,
  type: string,
  merchantId: string,
  effectiveAt: string,
  subject?: { policyId?: string; programId?: string },
) {
  // A cart policy's notices name the policy; a program's its program, but today's promotion keeps
  // the ids it always had (SPEC §4: the other programs' notices are told apart by their program).
  const extra = subject?.policyId ?? (subject?.programId === FIRST_PROGRAM ? undefined : subject?.programId);
  const id = extra ? eventId(type, merchantId, effectiveAt, extra) : eventId(type, merchantId, effectiveAt);
  const told = state.notices.get(id);
  if (told) told.times++;
  else state.notices.set(id, { type, merchantId, effectiveAt, programId: subject?.programId, times: 1 });
}

const covers = (p: ModelPolicy, m: ModelMerchant) =>
  m.liveThirdParty &&
  (p.categories === 'ALL' || m.categories.some((c) => (p.categories as string[]).includes(c)));

const SEVERITY = ['ALLOWED', 'XINGTU_ONLY', 'BLOCKED'];

/** A merchant hears of a policy only if, at its instant, it is the policy that sets the merchant's cart. */
function changesCart(policies: ModelPolicy[], policy: ModelPolicy, m: ModelMerchant): boolean {
  if (!covers(policy, m)) return false;
  let value = 'ALLOWED';
  let by = '';
  for (const p of [...policies].sort(
    (a, b) => a.effectiveAt.localeCompare(b.effectiveAt) || a.policyId.localeCompare(b.policyId),
  )) {
    if (
      covers(p, m) &&
      p.effectiveAt <= policy.effectiveAt &&
      SEVERITY.indexOf(p.value) > SEVERITY.indexOf(value)
    ) {
      value = p.value;
      by = p.policyId;
    }
  }
  return by === policy.policyId;
}

export function apply(
  state: ModelState,
  op: ModelOp,
  merchants: ModelMerchant[],
  policies: ModelPolicy[],
): void {
  if (op.kind === 'revoke') {
    // Every enrolment not over is revoked at the violation's instant; the others are left alone.
    for (const [key, p] of state.enrolments) {
      if (!key.startsWith(`${op.merchantId}|`)) continue;
      if (p.status === 'INELIGIBLE' || p.status === 'REVOKED' || op.at >= p.endsBefore) continue; // refused or unchanged
      // Still SCHEDULED after its start (activate lagging): it was ACTIVE from its start; nobody is told so.
      if (p.status === 'SCHEDULED' && p.startsAt < op.at) p.history.push(['ACTIVE', p.startsAt, undefined]);
      p.status = 'REVOKED';
      p.revokedAt = op.at;
      p.history.push(['REVOKED', op.at, undefined]);
      tell(state, 'PROMOTION_REVOKED', op.merchantId, op.at, p);
    }
    return;
  }
  if (op.kind === 'correct') {
    correct(state, op.merchantId, op.categories);
    return;
  }
  if (op.kind === 'announce') {
    state.programs.push(op.program);
    state.pendingPrograms.add(op.program.programId);
    return;
  }
  const X = op.asOf;
  // The end-of-day job settles the whole day of its asOf.
  const endOfDay = midnight(dayOf(X), 1);
  const activate = (id: string, p: ModelPromotion) => {
    if (p.status !== 'SCHEDULED' || p.startsAt > X) return;
    p.history.push(['ACTIVE', p.startsAt, X]);
    if (p.endsBefore <= X) {
      p.status = 'EXPIRED';
      p.history.push(['EXPIRED', p.endsBefore, X]); // over before it was processed: nobody is told
      return;
    }
    p.status = 'ACTIVE';
    // "ends in 3 days" goes out at the 23:59 run before the last three days, if that is still ahead.
    p.remindLater = iso(at(p.endsBefore).minus({ days: 3 })) > endOfDay;
    tell(state, 'PROMOTION_ACTIVATED', id, p.startsAt, p);
  };
  const merchantOf = (key: string) => key.slice(0, key.lastIndexOf('|'));
  if (op.job === 'activate') {
    // First, programs announced since: every recorded merchant eligible now and not enrolled yet is
    // enrolled, brought at once to the state its window gives at this run's asOf.
    for (const program of state.programs.filter((p) => state.pendingPrograms.has(p.programId))) {
      for (const [merchantId, m] of state.merchants) {
        const key = enrolmentKeyOf(merchantId, program.programId);
        if (state.enrolments.has(key) || !eligibleFor(program, m.onboardedOn, m.categories)) continue;
        const e = enrolment(program, m.onboardedOn, m.categories, X);
        state.enrolments.set(key, e);
        activate(merchantId, e);
      }
      state.pendingPrograms.delete(program.programId);
    }
    for (const [key, p] of state.enrolments) activate(merchantOf(key), p);
  } else if (op.job === 'expire') {
    for (const [key, p] of state.enrolments) {
      const id = merchantOf(key);
      if (p.status !== 'ACTIVE') continue;
      if (p.endsBefore <= endOfDay) {
        p.status = 'EXPIRED';
        p.history.push(['EXPIRED', p.endsBefore, X]);
        tell(state, 'PROMOTION_EXPIRED', id, p.endsBefore, p);
      } else if (p.remindLater && !p.reminder && iso(at(p.endsBefore).minus({ days: 3 })) <= endOfDay) {
        p.reminder = iso(at(p.endsBefore).minus({ days: 3 }));
        tell(state, 'PROMOTION_ENDING_SOON', id, p.reminder, p);
      }
    }
  } else {
    for (const policy of [...policies].sort(
      (a, b) => a.effectiveAt.localeCompare(b.effectiveAt) || a.policyId.localeCompare(b.policyId),
    )) {
      const ps = state.policies.get(policy.policyId);
      if (!ps || ps.inForce) continue;
      if (!ps.announced && midnight(policy.announcedOn) <= X) {
        ps.announced = true;
        ps.skipped = policy.effectiveAt <= X; // reached late: merchants hear only that it is in force
        if (!ps.skipped) {
          for (const m of merchants.filter((m) => changesCart(policies, policy, m))) {
            const key = `${m.merchantId}|${policy.policyId}`;
            if (state.merchantPolicies.has(key)) continue;
            state.merchantPolicies.set(key, { status: 'ANNOUNCED', effectiveAt: policy.effectiveAt });
            tell(state, 'CART_POLICY_ANNOUNCED', m.merchantId, policy.effectiveAt, policy);
          }
        }
      }
      if (policy.effectiveAt <= X) {
        applyFlags(state, policies, policy, X);
        for (const m of merchants.filter((m) => changesCart(policies, policy, m))) {
          const key = `${m.merchantId}|${policy.policyId}`;
          if (state.merchantPolicies.get(key)?.status === 'IN_FORCE') continue;
          state.merchantPolicies.set(key, { status: 'IN_FORCE', effectiveAt: policy.effectiveAt });
          tell(state, 'CART_POLICY_IN_FORCE', m.merchantId, policy.effectiveAt, policy);
        }
        ps.inForce = true;
      }
    }
  }
}

/** Flags as the calendar gives them at the policy's instant: the most restrictive policy in force per scope. */
function applyFlags(state: ModelState, policies: ModelPolicy[], policy: ModelPolicy, asOf: string) {
  const scopes = ['ALL', ...new Set(policies.flatMap((p) => (p.categories === 'ALL' ? [] : p.categories)))];
  for (const scope of scopes) {
    let value = 'ALLOWED';
    let since = '';
    let by = '';
    for (const p of [...policies].sort(
      (a, b) => a.effectiveAt.localeCompare(b.effectiveAt) || a.policyId.localeCompare(b.policyId),
    )) {
      const applies = p.categories === 'ALL' || (scope !== 'ALL' && p.categories.includes(scope));
      if (
        applies &&
        p.effectiveAt <= policy.effectiveAt &&
        SEVERITY.indexOf(p.value) > SEVERITY.indexOf(value)
      ) {
        value = p.value;
        since = p.effectiveAt;
        by = p.policyId;
      }
    }
    const history = state.flags.get(scope) ?? [];
    const current = history.at(-1)?.[0] ?? 'ALLOWED';
    if (value !== current) state.flags.set(scope, [...history, [value, since, by, asOf]]);
  }
}

/**
 * The merchant recorded again with other categories (T unchanged): each enrolment whose eligibility
 * changes starts over (SCHEDULED, or INELIGIBLE; a revoked one stays REVOKED), its reminder dropped,
 * nobody told; the next activate run brings it to its asOf. A program it is newly eligible for, with
 * no enrolment yet, enrols it as recording does.
 */
function correct(state: ModelState, merchantId: string, categories: string[]) {
  const m = state.merchants.get(merchantId);
  if (!m) return;
  m.categories = categories;
  for (const program of state.programs) {
    const key = enrolmentKeyOf(merchantId, program.programId);
    const p = state.enrolments.get(key);
    const eligible = eligibleFor(program, m.onboardedOn, categories);
    if (!p) {
      if (eligible) state.enrolments.set(key, enrolment(program, m.onboardedOn, categories));
      continue;
    }
    if (p.eligible === eligible) continue;
    p.eligible = eligible;
    p.status = p.status === 'REVOKED' ? 'REVOKED' : eligible ? 'SCHEDULED' : 'INELIGIBLE';
    p.history.push([p.status, PROCESSED_AT, undefined]);
    p.reminder = undefined;
    p.remindLater = false;
  }
}
