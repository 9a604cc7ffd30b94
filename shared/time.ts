// Every date and instant in this system is read and written in Asia/Shanghai through luxon.
// Nothing here consults the host's time zone: parsing always names the zone, and instants are
// formatted with their +08:00 offset, so stored strings sort in time order (the zone has no DST).
import { DateTime, FixedOffsetZone } from 'luxon';
import * as z from 'zod';

export const ZONE = 'Asia/Shanghai';

/** A calendar day in Asia/Shanghai, `yyyy-MM-dd`. */
export type CalendarDate = string;
/** An instant, formatted `yyyy-MM-ddTHH:mm:ss.SSS+08:00`. */
export type Instant = string;

const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;
// Hours 00-23 only (luxon would read 24:00 as the next day); the offset is required.
const INSTANT_RE =
  /^\d{4}-\d{2}-\d{2}T([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,9})?)?(Z|[+-]([01]\d|2[0-3]):?[0-5]\d)$/;

/** Parses `yyyy-MM-dd` as the start of that day in Asia/Shanghai, or returns undefined. */
export function tryParseDate(text: string): DateTime | undefined {
  if (!DATE_RE.test(text)) return undefined;
  const day = DateTime.fromISO(text, { zone: ZONE });
  return day.isValid ? day : undefined;
}

/** Parses an ISO 8601 instant that carries its offset, or returns undefined. */
export function tryParseInstant(text: string): DateTime | undefined {
  if (!INSTANT_RE.test(text)) return undefined;
  const at = DateTime.fromISO(text, { setZone: true });
  return at.isValid ? at.setZone(ZONE) : undefined;
}

export function parseInstant(text: string): DateTime {
  const at = tryParseInstant(text);
  if (!at) throw new RangeError(`not an instant with an offset: ${JSON.stringify(text)}`);
  return at;
}

/**
 * Stored instants are written with one fixed offset, +08:00 — what Asia/Shanghai has been since 1991
 * (no DST) — so that their strings sort in time order whatever the date; and a fixed zone formats
 * without the Intl lookup an IANA zone costs on every call (measurable at thousands of writes a
 * second). Calendar arithmetic (days, midnights) stays in the IANA zone.
 */
const STORED_OFFSET = FixedOffsetZone.instance(8 * 60);

export function formatInstant(at: DateTime): Instant {
  return at.setZone(STORED_OFFSET).toISO({ suppressMilliseconds: false, includeOffset: true }) as string;
}

/** The Asia/Shanghai calendar day an instant falls on. */
export function dateOf(at: DateTime): CalendarDate {
  return at.setZone(ZONE).toISODate() as string;
}

/** 00:00:00.000 Asia/Shanghai of the given day. */
export function startOfDay(date: CalendarDate): DateTime {
  const day = tryParseDate(date);
  if (!day) throw new RangeError(`not a calendar date (yyyy-MM-dd): ${JSON.stringify(date)}`);
  return day;
}

export function addDays(date: CalendarDate, days: number): CalendarDate {
  return dateOf(startOfDay(date).plus({ days }));
}

/** Every calendar day from `from` to `to`, both included. */
export function daysBetween(from: CalendarDate, to: CalendarDate): CalendarDate[] {
  const days: CalendarDate[] = [];
  for (let day = from; day <= to; day = addDays(day, 1)) days.push(day);
  return days;
}

/**
 * How far past the wall clock an instant from outside may be and still be taken as now: clocks drift
 * and schedules fire early. A real run as of later, or an upstream record made later, is refused.
 */
export const CLOCK_SKEW_HOURS = 1;
export const CLOCK_SKEW_TEXT = `${CLOCK_SKEW_HOURS} hour`;

/** Whether `at` lies more than the allowed clock skew past `now`. */
export const pastClockSkew = (at: Instant, now: DateTime): boolean =>
  parseInstant(at).toMillis() > now.plus({ hours: CLOCK_SKEW_HOURS }).toMillis();

/** Normalises any instant text with an offset to the stored `+08:00` form. */
export function normaliseInstant(text: string): Instant {
  return formatInstant(parseInstant(text));
}

export const DATE_HINT = 'must be a calendar date yyyy-MM-dd (e.g. 2020-05-06)';
export const INSTANT_HINT =
  'must be an ISO 8601 instant with an offset, e.g. 2020-05-08T00:00:00+08:00 or 2020-05-07T16:00:00Z';
export const DATE_OR_INSTANT_HINT =
  'must be a calendar date yyyy-MM-dd (Asia/Shanghai) or an ISO 8601 instant with an offset (Z or ±hh:mm)';

/**
 * What input may name: days and instants of the years 1970–2199 in Asia/Shanghai. Anything this
 * system computes from them (a window ends T+32, a range is at most 366 days) stays a four-digit year,
 * so stored strings keep sorting in time order and no arithmetic can fail on one line.
 */
const EARLIEST_YEAR = 1970;
const LATEST_YEAR = 2199;
const YEARS_HINT = `must be in the years ${EARLIEST_YEAR}–${LATEST_YEAR} (Asia/Shanghai)`;
/** Real UTC offsets run from -12:00 to +14:00. */
const MAX_OFFSET_MINUTES = 14 * 60;
const OFFSET_RE = /([+-])(\d{2}):?(\d{2})$/;

const inYears = (at: DateTime) => {
  const year = at.setZone(ZONE).year;
  return year >= EARLIEST_YEAR && year <= LATEST_YEAR;
};

/** Why `text` is not a date input may name (the schema's message), or undefined when it is one. */
function dateProblem(text: string): string | undefined {
  if (!DATE_RE.test(text)) return DATE_HINT;
  const day = tryParseDate(text);
  if (!day) return `must be a calendar date: ${impossibleDate(text)}`;
  return inYears(day) ? undefined : YEARS_HINT;
}

/** What is wrong with a `yyyy-MM-dd` that names no day: `2020-02-30 is not a date of February 2020 (it has 29 days)`. */
function impossibleDate(text: string): string {
  const [year, month] = text.split('-').map(Number) as [number, number];
  const first = DateTime.fromObject({ year, month, day: 1 }, { zone: ZONE });
  if (!first.isValid) return `${text} has no month ${month}`;
  return `${text} is not a date of ${first.toFormat('LLLL yyyy', { locale: 'en' })} (it has ${first.daysInMonth} days)`;
}

/** Why `text` is not an instant input may name (the schema's message), or undefined when it is one. */
function instantProblem(text: string): string | undefined {
  const at = tryParseInstant(text);
  if (!at) return INSTANT_HINT;
  const offset = OFFSET_RE.exec(text);
  if (offset && Number(offset[2]) * 60 + Number(offset[3]) > MAX_OFFSET_MINUTES) {
    return `must have an offset within ±14:00, not ${offset[1]}${offset[2]}:${offset[3]}`;
  }
  return inYears(at) ? undefined : YEARS_HINT;
}

/** A date (its 00:00 in Asia/Shanghai) or an instant with an offset: why not, or undefined. */
export function dateOrInstantProblem(text: string): string | undefined {
  if (DATE_RE.test(text)) return dateProblem(text);
  if (tryParseInstant(text)) return instantProblem(text);
  return DATE_OR_INSTANT_HINT;
}

/** A zod string refined by one of the problem functions above (the first problem aborts the field). */
export const boundedText = (problem: (text: string) => string | undefined) =>
  z.string().superRefine((text, ctx) => {
    const message = problem(text);
    if (message) ctx.addIssue({ code: 'custom', message, input: text, continue: false });
  });

/** zod: a calendar date, kept as `yyyy-MM-dd`. */
export const calendarDateSchema = boundedText(dateProblem);

/** zod: an instant with an offset, normalised to `+08:00`. */
export const instantSchema = boundedText(instantProblem).transform(normaliseInstant);

/** A date (its 00:00 in Asia/Shanghai) or an instant with an offset. */
export function tryParseDateOrInstant(text: string): DateTime | undefined {
  return tryParseDate(text) ?? tryParseInstant(text);
}

/** zod: a date (meaning 00:00 Asia/Shanghai of that day) or an instant, as a stored instant. */
export const dateOrInstantSchema = boundedText(dateOrInstantProblem).transform((text) =>
  formatInstant(tryParseDateOrInstant(text) as DateTime),
);
