// The two promotion jobs: which steps each takes (the due items it reads), and how it plans a change (rules §1).
import { endOfDayCutoff, planActivation, planExpiry } from '../promotion/lifecycle';
import type { SweepSpec } from './sweep';

/** activate, 00:00: SCHEDULED promotions whose start has come (and, if late, whose window has passed). */
export const activateJob: SweepSpec = {
  takes: ['ACTIVATE'],
  upTo: (asOf) => asOf,
  plan: planActivation,
};

/** expire, 23:59: ACTIVE promotions whose last day is the day of asOf or earlier, and due reminders. */
export const expireJob: SweepSpec = {
  takes: ['REMIND', 'EXPIRE'],
  upTo: endOfDayCutoff,
  plan: planExpiry,
};
