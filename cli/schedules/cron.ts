// EventBridge Scheduler's `cron(…)` expressions, read with cron-parser: one conversion from AWS's six
// fields to cron-parser's five, and the instants a schedule fires after a given one. AWS syntax that
// the conversion cannot carry over faithfully is refused, naming what it is, never guessed at.
import { CronExpressionParser } from 'cron-parser';
import { DateTime } from 'luxon';
import { formatInstant, type Instant } from '../../shared/time';

/** An expression this module cannot evaluate; the message says which part and why. */
export class UnsupportedScheduleExpression extends Error {
  override name = 'UnsupportedScheduleExpression';
}

const FIELDS = ['minutes', 'hours', 'day-of-month', 'month', 'day-of-week', 'year'] as const;
/** AWS days of the week: 1-7 are SUN-SAT (cron-parser: 0-6 SUN-SAT). */
const AWS_DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] as const;
/** Month and day names (JUL, WED hold an L or a W that is no wildcard). */
const NAMES = /\b(JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC|SUN|MON|TUE|WED|THU|FRI|SAT)\b/gi;

function unsupported(expression: string, problem: string): UnsupportedScheduleExpression {
  return new UnsupportedScheduleExpression(`cannot evaluate ${JSON.stringify(expression)}: ${problem}`);
}

/** An AWS day of the week (1-7 or SUN-SAT) as its index 0-6 (SUN = 0). */
function awsDay(text: string, expression: string): number {
  const named = AWS_DAYS.indexOf(text.toUpperCase() as (typeof AWS_DAYS)[number]);
  if (named >= 0) return named;
  const n = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (n >= 1 && n <= 7) return n - 1;
  throw unsupported(expression, `day-of-week ${JSON.stringify(text)} is not 1-7 or SUN-SAT`);
}

/**
 * AWS's day-of-week field as an explicit list of cron-parser days (`*` stays `*`): AWS counts 1-7 from
 * Sunday where cron-parser counts 0-6, and a shifted range or step would not mean the same days
 * (cron-parser's `1/2` also reaches 7, its second Sunday), so every item is expanded to its days.
 */
function dayOfWeek(field: string, expression: string): string {
  if (field === '*' || field === '?') return '*';
  const days = new Set<number>();
  for (const item of field.split(',')) {
    const match = /^(\*|[A-Za-z0-9]+)(?:-([A-Za-z0-9]+))?(?:\/(\d+))?$/.exec(item);
    if (!match) throw unsupported(expression, `day-of-week item ${JSON.stringify(item)} is not understood`);
    const [, start = '', end, step] = match;
    const first = start === '*' ? 0 : awsDay(start, expression);
    const last = end !== undefined ? awsDay(end, expression) : start === '*' || step ? 6 : first;
    const by = step === undefined ? 1 : Number(step);
    if (by < 1) throw unsupported(expression, `day-of-week step ${step} must be at least 1`);
    if (last < first) throw unsupported(expression, `day-of-week range ${item} runs backwards`);
    for (let day = first; day <= last; day += by) days.add(day);
  }
  return [...days].sort((a, b) => a - b).join(',');
}

/**
 * An EventBridge Scheduler `cron(minutes hours day-of-month month day-of-week year)` as the five-field
 * expression cron-parser reads: the year dropped (it must be `*`), `?` read as `*`, the days of the week
 * renumbered. Refuses `rate(…)` and `at(…)` expressions, a year other than `*`, both days given, and the
 * wildcards L, W and # (AWS's meanings differ in detail from cron-parser's), each with a message.
 */
export function toCronParserExpression(expression: string): string {
  const body = /^cron\((.*)\)$/.exec(expression.trim())?.[1];
  if (body === undefined) {
    throw unsupported(expression, 'only cron(…) expressions are evaluated (not rate(…) or at(…))');
  }
  const parts = body.trim().split(/\s+/);
  if (parts.length !== FIELDS.length) {
    throw unsupported(
      expression,
      `a cron expression has ${FIELDS.length} fields (${FIELDS.join(' ')}), not ${parts.length}`,
    );
  }
  const [minutes, hours, dayOfMonth, month, weekday, year] = parts as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  parts.forEach((part, i) => {
    if (/[LW#]/i.test(part.replace(NAMES, ''))) {
      throw unsupported(
        expression,
        `${FIELDS[i]} ${JSON.stringify(part)}: the L, W and # wildcards are not evaluated`,
      );
    }
    if (part.includes('?') && part !== '?') {
      throw unsupported(expression, `${FIELDS[i]} ${JSON.stringify(part)}: ? stands alone`);
    }
    if (part === '?' && i !== 2 && i !== 4) {
      throw unsupported(expression, `${FIELDS[i]}: ? is only for day-of-month or day-of-week`);
    }
  });
  if (year !== '*') throw unsupported(expression, `a year other than * (${year}) is not evaluated`);
  if ((dayOfMonth === '?') === (weekday === '?')) {
    throw unsupported(expression, 'exactly one of day-of-month and day-of-week must be ?');
  }
  const converted = [
    minutes,
    hours,
    dayOfMonth === '?' ? '*' : dayOfMonth,
    month,
    dayOfWeek(weekday, expression),
  ].join(' ');
  try {
    CronExpressionParser.parse(converted, { strict: false });
  } catch (error) {
    throw unsupported(expression, (error as Error).message);
  }
  return converted;
}

/**
 * The next `count` instants an expression fires strictly after `after`, in `timeZone` (an IANA zone:
 * the schedule's ScheduleExpressionTimezone), none later than `until` if given.
 */
export function fireInstants(
  expression: string,
  timeZone: string,
  after: DateTime,
  count: number,
  until?: DateTime,
): Instant[] {
  const iterator = CronExpressionParser.parse(toCronParserExpression(expression), {
    tz: timeZone,
    currentDate: after.toJSDate(),
    ...(until ? { endDate: until.toJSDate() } : {}),
  });
  const instants: Instant[] = [];
  while (instants.length < count && iterator.hasNext()) {
    instants.push(formatInstant(DateTime.fromMillis(iterator.next().getTime())));
  }
  return instants;
}
