// The reference model: from a population, a policy calendar and the operations that took effect (job
// runs as of their instants, revocations), what every promotion, flag and merchant × policy state must
// be, and which notices (by eventId) must have been sent. Pure, and written from docs/rules.md and the
// docs — deliberately not from the job code, which it checks.
import { createHash } from 'node:crypto';
import { DateTime } from 'luxon';

const ZONE = 'Asia/Shanghai';
const PROGRAM_START = '2020-05-01';
const at = (iso: string) => DateTime.fromISO(iso, { zone: ZONE });
const iso = (t: DateTime) => t.setZone(ZONE).toISO() as string;
const midnight = (date: string, plusDays = 0) => iso(at(date).startOf('day').plus({ days: plusDays }));
const dayOf = (instant: string) => at(instant).toISODate() as string;

export interface ModelMerchant {
  merchantId: string;
  onboardedOn: string; // T
  liveThirdParty: boolean;
  categories: string[];
}

export interface ModelPolicy {
  policyId: string;
  announcedOn: string;
  effectiveAt: string; // +08:00 instant
  categories: 'ALL' | string[];
  value: 'XINGTU_ONLY' | 'BLOCKED';
}

export type ModelOp =
  | { kind: 'run'; job: 'activate' | 'expire' | 'cart-policies'; asOf: string }
  | { kind: 'revoke'; merchantId: string; at: string; reason: string };

export interface ModelPromotion {
  status: 'INELIGIBLE' | 'SCHEDULED' | 'ACTIVE' | 'EXPIRED' | 'REVOKED';
  /** status, effectiveAt, asOf (undefined for recording and revocation) */
  history: [string, string, string | undefined][];
  reminder?: string; // effectiveAt
  remindLater: boolean;
  startsAt: string;
  endsBefore: string;
  revokedAt?: string;
}

export interface ModelState {
  promotions: Map<string, ModelPromotion>;
  /** `${merchantId}|${policyId}` → status, effectiveAt told */
  merchantPolicies: Map<string, { status: 'ANNOUNCED' | 'IN_FORCE'; effectiveAt: string }>;
  policies: Map<string, { inForce: boolean; announced: boolean; skipped: boolean }>;
  /** `${scope}` → [value, since, policyId, asOf][] */
  flags: Map<string, [string, string, string, string][]>;
  notices: Map<string, { type: string; merchantId: string; effectiveAt: string }>;
}

export function eventId(...parts: string[]): string {
  const hex = createHash('sha256').update(parts.join('\u0000')).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

export function initialState(merchants: ModelMerchant[], policies: ModelPolicy[]): ModelState {
  const state: ModelState = {
    promotions: new Map(),
    merchantPolicies: new Map(),
    policies: new Map(),
    flags: new Map(),
    notices: new Map(),
  };
  for (const m of merchants) {
    const eligible = m.onboardedOn >= PROGRAM_START;
    state.promotions.set(m.merchantId, {
      status: eligible ? 'SCHEDULED' : 'INELIGIBLE',
      history: [[eligible ? 'SCHEDULED' : 'INELIGIBLE', midnight(m.onboardedOn), undefined]],
      remindLater: false,
      startsAt: midnight(m.onboardedOn, 2),
      endsBefore: midnight(m.onboardedOn, 32),
    });
  }
  for (const p of policies)
    state.policies.set(p.policyId, { inForce: false, announced: false, skipped: false });
  return state;
}

function tell(state: ModelState, type: string, merchantId: string, effectiveAt: string, policyId?: string) {
  const id = policyId
    ? eventId(type, merchantId, effectiveAt, policyId)
    : eventId(type, merchantId, effectiveAt);
  state.notices.set(id, { type, merchantId, effectiveAt });
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
    const p = state.promotions.get(op.merchantId);
    if (!p || p.status === 'INELIGIBLE' || p.status === 'REVOKED' || op.at >= p.endsBefore) return; // refused or unchanged
    // Still SCHEDULED after its start (activate lagging): it was ACTIVE from its start; nobody is told so.
    if (p.status === 'SCHEDULED' && p.startsAt < op.at) p.history.push(['ACTIVE', p.startsAt, undefined]);
    p.status = 'REVOKED';
    p.revokedAt = op.at;
    p.history.push(['REVOKED', op.at, undefined]);
    tell(state, 'PROMOTION_REVOKED', op.merchantId, op.at);
    return;
  }
  const X = op.asOf;
  // The end-of-day job settles the whole day of its asOf.
  const endOfDay = midnight(dayOf(X), 1);
  if (op.job === 'activate') {
    for (const [id, p] of state.promotions) {
      if (p.status !== 'SCHEDULED' || p.startsAt > X) continue;
      p.history.push(['ACTIVE', p.startsAt, X]);
      if (p.endsBefore <= X) {
        p.status = 'EXPIRED';
        p.history.push(['EXPIRED', p.endsBefore, X]); // over before it was processed: nobody is told
        continue;
      }
      p.status = 'ACTIVE';
      // "ends in 3 days" goes out at the 23:59 run before the last three days, if that is still ahead.
      p.remindLater = iso(at(p.endsBefore).minus({ days: 3 })) > endOfDay;
      tell(state, 'PROMOTION_ACTIVATED', id, p.startsAt);
    }
  } else if (op.job === 'expire') {
    for (const [id, p] of state.promotions) {
      if (p.status !== 'ACTIVE') continue;
      if (p.endsBefore <= endOfDay) {
        p.status = 'EXPIRED';
        p.history.push(['EXPIRED', p.endsBefore, X]);
        tell(state, 'PROMOTION_EXPIRED', id, p.endsBefore);
      } else if (p.remindLater && !p.reminder && iso(at(p.endsBefore).minus({ days: 3 })) <= endOfDay) {
        p.reminder = iso(at(p.endsBefore).minus({ days: 3 }));
        tell(state, 'PROMOTION_ENDING_SOON', id, p.reminder);
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
            tell(state, 'CART_POLICY_ANNOUNCED', m.merchantId, policy.effectiveAt, policy.policyId);
          }
        }
      }
      if (policy.effectiveAt <= X) {
        applyFlags(state, policies, policy, X);
        for (const m of merchants.filter((m) => changesCart(policies, policy, m))) {
          const key = `${m.merchantId}|${policy.policyId}`;
          if (state.merchantPolicies.get(key)?.status === 'IN_FORCE') continue;
          state.merchantPolicies.set(key, { status: 'IN_FORCE', effectiveAt: policy.effectiveAt });
          tell(state, 'CART_POLICY_IN_FORCE', m.merchantId, policy.effectiveAt, policy.policyId);
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
