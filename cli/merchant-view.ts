// What `merchant <id>` prints: the profile, today's promotion exactly as it always printed, and one
// enrolment per program in effect (the stored one, or what the rules give where there is no item).
import { enrolledIn, enrolmentWindow, type ProgramInEffect } from '../shared/programs/program';
import type { Promotion } from '../shared/promotion/lifecycle';
import type { MerchantView } from '../shared/store/merchants';

/** An enrolment the merchant has an item for. */
type RecordedEnrolment = Promotion & { recorded: true };

/**
 * A program the merchant has no item for (design §1: other programs are written only for the
 * eligible). `SCHEDULED` when it is eligible and the program still enrols (not withdrawn): the next
 * activate run writes exactly that before bringing it to its `asOf`; otherwise `INELIGIBLE`.
 */
type UnrecordedEnrolment = Omit<Promotion, 'status' | 'version' | 'history'> & {
  status: 'INELIGIBLE' | 'SCHEDULED';
  history: [];
  recorded: false;
};

export type EnrolmentEntry = RecordedEnrolment | UnrecordedEnrolment;

/** Today's promotion as `merchant` printed it before programs: without the enrolment's program fields. */
function promotionAsBefore(promotion: Promotion) {
  const { programId: _id, program: _program, programVersion: _version, ...before } = promotion;
  return before;
}

function unrecorded(view: MerchantView, p: ProgramInEffect): UnrecordedEnrolment {
  const { merchantId, onboardedOn, categories } = view.profile;
  const window = enrolmentWindow(p.program, onboardedOn, categories);
  return {
    ...enrolledIn(p),
    merchantId,
    ...window,
    status: window.eligible && p.status === 'ANNOUNCED' ? 'SCHEDULED' : 'INELIGIBLE',
    history: [],
    recorded: false,
  };
}

/**
 * One entry per program in effect, in their order (built-ins first), then any stored enrolment of a
 * program no longer in effect (none should exist: programs are withdrawn, never deleted).
 */
export function enrolmentEntries(view: MerchantView, programs: readonly ProgramInEffect[]): EnrolmentEntry[] {
  const stored = new Map(view.enrolments.map((e) => [e.programId, e]));
  const entries: EnrolmentEntry[] = programs.map((p) => {
    const enrolment = stored.get(p.program.programId);
    return enrolment ? { ...enrolment, recorded: true } : unrecorded(view, p);
  });
  const inEffect = new Set(programs.map((p) => p.program.programId));
  for (const e of view.enrolments) if (!inEffect.has(e.programId)) entries.push({ ...e, recorded: true });
  return entries;
}

/** The output of `merchant <id>`: the fields it always had, plus `feePolicies` and `enrolments`. */
export function merchantOutput(view: MerchantView, programs: readonly ProgramInEffect[]) {
  const { version: _version, ...profile } = view.profile;
  return {
    ...profile,
    promotion: view.promotion && promotionAsBefore(view.promotion),
    cartPolicies: view.cartPolicies,
    feePolicies: view.feePolicies,
    enrolments: enrolmentEntries(view, programs),
  };
}
