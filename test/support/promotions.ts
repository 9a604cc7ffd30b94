import {
  afterChange,
  newPromotion,
  type Promotion,
  type PromotionChange,
} from '../../shared/promotion/lifecycle';
import { onboardingInstant, promotionWindow } from '../../shared/promotion/window';

/** A freshly recorded promotion for a merchant onboarded on T (a date). */
export function recorded(merchantId: string, onboardedOn: string, programStart = '2020-05-01'): Promotion {
  return newPromotion(
    merchantId,
    promotionWindow(onboardedOn, programStart),
    onboardingInstant(onboardedOn),
    '2026-11-25T10:00:00.000+08:00',
  ).promotion;
}

/** The source's worked example (rules §1): merchant A, T = 2020-05-06, its whole window. */
export const SOURCE_EXAMPLE_WINDOW = {
  onboardedOn: '2020-05-06',
  eligible: true,
  startsAt: '2020-05-08T00:00:00.000+08:00',
  endsBefore: '2020-06-07T00:00:00.000+08:00',
  lastDay: '2020-06-06',
  days: 30,
} as const;

/** Shanghai wall time `yyyy-MM-dd HH:mm` as a stored instant. */
export const sh = (text: string) => `${text.replace(' ', 'T')}:00.000+08:00`;

/** Applies a planned change the way the repository does, for chaining pure steps in unit tests. */
export const apply: (p: Promotion, change: PromotionChange) => Promotion = afterChange;
