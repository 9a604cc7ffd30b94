// `merchant <id>`: one enrolment per program in effect, computed where the merchant has no item.
import { describe, expect, it } from 'vitest';
import { enrolmentEntries } from '../../cli/merchant-view';
import { BUILT_IN_PROGRAMS, enrolledIn, type ProgramInEffect } from '../../shared/programs/program';
import type { MerchantView } from '../../shared/store/merchants';
import { recorded } from '../support/promotions';

const [fee, seed] = BUILT_IN_PROGRAMS.map(
  (program): ProgramInEffect => ({ program, status: 'ANNOUNCED', version: 0, source: 'built-in' }),
) as [ProgramInEffect, ProgramInEffect];

const view = (categories: string[], enrolments = [recorded('m', '2020-07-06')]): MerchantView => ({
  profile: {
    merchantId: 'm',
    onboardedAt: '2020-07-06',
    onboardedOn: '2020-07-06',
    categories,
    liveCartSources: [],
    version: 1,
    recordedAt: '2026-11-25T10:00:00.000+08:00',
    updatedAt: '2026-11-25T10:00:00.000+08:00',
  },
  promotion: enrolments[0],
  enrolments,
  cartPolicies: [],
  feePolicies: [],
});
const summary = (entries: ReturnType<typeof enrolmentEntries>) =>
  entries.map(({ programId, status, eligible, recorded }) => ({ programId, status, eligible, recorded }));

describe('merchant enrolments', () => {
  it('a program with no item: SCHEDULED if eligible and it still enrols, INELIGIBLE otherwise', () => {
    expect(summary(enrolmentEntries(view(['pets']), [fee, seed]))[1]).toEqual({
      programId: 'SEED_PLAN_2020',
      status: 'SCHEDULED',
      eligible: true,
      recorded: false,
    });
    expect(summary(enrolmentEntries(view(['food']), [fee, seed]))[1]).toMatchObject({
      status: 'INELIGIBLE',
      eligible: false,
    });
    // Withdrawn: enrols no one new, so nothing is scheduled although the merchant meets its terms.
    const withdrawn: ProgramInEffect = { ...seed, status: 'WITHDRAWN', version: 2, source: 'stored' };
    expect(enrolmentEntries(view(['pets']), [fee, withdrawn])[1]).toMatchObject({
      status: 'INELIGIBLE',
      eligible: true,
      recorded: false,
      programVersion: 2,
      history: [],
    });
  });

  it('the stored enrolment where there is one, in the programs’ order, then any of a program not in effect', () => {
    const stored = [
      recorded('m', '2020-07-06'),
      { ...recorded('m', '2020-07-06'), ...enrolledIn({ ...seed, version: 0 }), programId: 'GONE' },
    ];
    expect(summary(enrolmentEntries(view(['food'], stored), [seed, fee]))).toEqual([
      { programId: 'SEED_PLAN_2020', status: 'INELIGIBLE', eligible: false, recorded: false },
      { programId: 'NEW_MERCHANT_FEE', status: 'SCHEDULED', eligible: true, recorded: true },
      { programId: 'GONE', status: 'SCHEDULED', eligible: true, recorded: true },
    ]);
  });
});
