// The new-merchant fee promotion window (rules §1), from START_OFFSET_DAYS and LENGTH_DAYS: [T+2 00:00, T+32 00:00) in Asia/Shanghai,
// i.e. the whole of days T+2 … T+31, always 30 calendar days.
import {
  addDays,
  boundedText,
  type CalendarDate,
  DATE_OR_INSTANT_HINT,
  dateOf,
  dateOrInstantProblem,
  formatInstant,
  type Instant,
  normaliseInstant,
  startOfDay,
  tryParseDate,
  tryParseInstant,
} from '../time';

export const DEFAULT_PROGRAM_START: CalendarDate = '2020-05-01';
/** The promotion starts at 00:00 of day T+START_OFFSET_DAYS. */
export const START_OFFSET_DAYS = 2;
/** Days the promotion covers; endsBefore is the first day after them. */
export const LENGTH_DAYS = 30;

export interface PromotionWindow {
  onboardedOn: CalendarDate;
  eligible: boolean;
  startsAt: Instant;
  endsBefore: Instant;
  lastDay: CalendarDate;
  days: number;
}

/**
 * The onboarding date T for a recorded onboarding: a date is taken as is; an instant maps to its
 * Asia/Shanghai day. Text that is neither (including an instant without an offset) is refused.
 */
export function onboardingDate(onboardedAt: string): CalendarDate {
  if (tryParseDate(onboardedAt)) return onboardedAt;
  const at = tryParseInstant(onboardedAt);
  if (at) return dateOf(at);
  throw new RangeError(`onboardedAt ${DATE_OR_INSTANT_HINT}: ${JSON.stringify(onboardedAt)}`);
}

/** zod: a date or an instant with an offset, as accepted for `onboardedAt`. */
export const onboardedAtSchema = boundedText(dateOrInstantProblem).transform((text) =>
  tryParseDate(text) ? text : normaliseInstant(text),
);

/** The instant a recorded onboarding took place: the given instant, or 00:00 of the given date. */
export function onboardingInstant(onboardedAt: string): Instant {
  const day = tryParseDate(onboardedAt);
  return day ? formatInstant(day) : normaliseInstant(onboardedAt);
}

export function promotionWindow(
  onboardedOn: CalendarDate,
  programStart: CalendarDate = DEFAULT_PROGRAM_START,
): PromotionWindow {
  const start = startOfDay(addDays(onboardedOn, START_OFFSET_DAYS));
  const endsBefore = startOfDay(addDays(onboardedOn, START_OFFSET_DAYS + LENGTH_DAYS));
  return {
    onboardedOn,
    eligible: onboardedOn >= programStart,
    startsAt: formatInstant(start),
    endsBefore: formatInstant(endsBefore),
    lastDay: addDays(onboardedOn, START_OFFSET_DAYS + LENGTH_DAYS - 1),
    days: Math.round(endsBefore.diff(start, 'days').days),
  };
}
