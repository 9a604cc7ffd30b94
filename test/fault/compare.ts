// The stored state compared with the reference model, for the in-process fault harness and the
// real-process run alike: every promotion (status, history, reminder), every merchant × policy state,
// the stored policies (exactly the model's), every flag with its history. Notices are compared by each
// caller, whose duplicate rules differ.
import type { Deps } from '../../shared/deps';
import { listStoredFlags } from '../../shared/store/flags';
import { getMerchant } from '../../shared/store/merchants';
import { listPolicies } from '../../shared/store/policies';
import type { ModelMerchant, ModelPolicy, ModelState } from './model';

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
    const want = model.promotions.get(m.merchantId);
    const got = view?.promotion;
    check(got?.status === want?.status, `${m.merchantId}: status ${got?.status}, model ${want?.status}`);
    const history = got?.history.map((h) => [h.status, h.effectiveAt, h.asOf]);
    check(
      JSON.stringify(history) === JSON.stringify(want?.history),
      `${m.merchantId}: history ${JSON.stringify(history)}, model ${JSON.stringify(want?.history)}`,
    );
    check(
      got?.reminder?.effectiveAt === want?.reminder,
      `${m.merchantId}: reminder ${got?.reminder?.effectiveAt}, model ${want?.reminder}`,
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
