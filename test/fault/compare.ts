// The stored state compared with the reference model, for the in-process fault harness and the
// real-process run alike: every enrolment of every merchant in every program (status, eligibility,
// window, history, reminder), every merchant × policy state,
// the stored policies (exactly the model's), every flag with its history. Notices are compared by each
// caller, whose duplicate rules differ.
import type { Deps } from '../../shared/deps';
import { listStoredFlags } from '../../shared/store/flags';
import { getMerchant } from '../../shared/store/merchants';
import { listPolicies } from '../../shared/store/policies';
import { readEnrolments } from '../../shared/store/promotions';
import { type ModelMerchant, type ModelPolicy, type ModelState, PROCESSED_AT } from './model';

export type Check = (ok: boolean, what: string) => void;

export async function checkStateAgainstModel(
  deps: Deps,
  model: ModelState,
  merchants: ModelMerchant[],
  policies: ModelPolicy[],
  check: Check,
): Promise<void> {
  for (const m of merchants) {
    const view = await getMerchant(deps, m.merchantId);
    // Every enrolment of the merchant, in every program, and no other.
    const stored = new Map((await readEnrolments(deps, m.merchantId)).map((e) => [e.programId, e]));
    const wanted = new Map(
      [...model.enrolments]
        .filter(([key]) => key.startsWith(`${m.merchantId}|`))
        .map(([, e]) => [e.programId, e]),
    );
    const storedIds = JSON.stringify([...stored.keys()].sort());
    const wantedIds = JSON.stringify([...wanted.keys()].sort());
    check(storedIds === wantedIds, `${m.merchantId}: enrolments in ${storedIds}, model ${wantedIds}`);
    for (const [programId, want] of wanted) {
      const got = stored.get(programId);
      const what = `${m.merchantId} × ${programId}`;
      check(got?.status === want.status, `${what}: status ${got?.status}, model ${want.status}`);
      check(got?.eligible === want.eligible, `${what}: eligible ${got?.eligible}, model ${want.eligible}`);
      // A correction's entry takes effect when it was processed (the wall clock): that is all it can be checked for.
      const history = got?.history.map((h) => [
        h.status,
        h.by === 'correct' && h.effectiveAt === h.processedAt ? PROCESSED_AT : h.effectiveAt,
        h.asOf,
      ]);
      check(
        JSON.stringify(history) === JSON.stringify(want.history),
        `${what}: history ${JSON.stringify(history)}, model ${JSON.stringify(want.history)}`,
      );
      check(
        got?.reminder?.effectiveAt === want.reminder,
        `${what}: reminder ${got?.reminder?.effectiveAt}, model ${want.reminder}`,
      );
      check(
        got?.startsAt === want.startsAt && got?.endsBefore === want.endsBefore,
        `${what}: window [${got?.startsAt}, ${got?.endsBefore}), model [${want.startsAt}, ${want.endsBefore})`,
      );
    }
    // `merchant <id>`'s promotion is today's enrolment.
    check(
      view?.promotion?.programId === 'NEW_MERCHANT_FEE',
      `${m.merchantId}: promotion is ${view?.promotion?.programId}`,
    );
    for (const p of policies) {
      const state = view?.cartPolicies.find((c) => c.policyId === p.policyId);
      const expected = model.merchantPolicies.get(`${m.merchantId}|${p.policyId}`);
      check(
        state?.status === expected?.status && (state?.effectiveAt === expected?.effectiveAt || !expected),
        `${m.merchantId} × ${p.policyId}: ${state?.status}, model ${expected?.status}`,
      );
    }
  }
  // Every policy of the model is stored, and no other: a lost policy must fail here.
  const stored = new Map((await listPolicies(deps)).map((p) => [p.policyId, p]));
  const storedIds = JSON.stringify([...stored.keys()].sort());
  const modelIds = JSON.stringify([...model.policies.keys()].sort());
  check(storedIds === modelIds, `policies stored ${storedIds}, model ${modelIds}`);
  for (const [policyId, want] of model.policies) {
    const p = stored.get(policyId);
    check(
      p !== undefined && (p.status === 'IN_FORCE') === want.inForce,
      `${policyId}: ${p?.status}, model in force ${want.inForce}`,
    );
    check(
      p !== undefined && (p.announced?.skipped ?? false) === want.skipped,
      `${policyId}: announcement skipped ${p?.announced?.skipped}, model ${want.skipped}`,
    );
  }
  const flags = new Map(
    (await listStoredFlags(deps)).map((f) => [
      f.scope,
      f.history.map((h) => [h.value, h.since, h.policyId, h.asOf]),
    ]),
  );
  for (const scope of new Set([...flags.keys(), ...model.flags.keys()])) {
    check(
      JSON.stringify(flags.get(scope) ?? []) === JSON.stringify(model.flags.get(scope) ?? []),
      `flag ${scope}: ${JSON.stringify(flags.get(scope))}, model ${JSON.stringify(model.flags.get(scope))}`,
    );
  }
}
