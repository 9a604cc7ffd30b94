// The one conversion from EventBridge Scheduler's cron(…) to cron-parser's five fields, and the fire
// instants it gives: AWS counts days of the week 1-7 from Sunday, and what cannot be carried over is refused.
import { DateTime } from 'luxon';
import { describe, expect, it } from 'vitest';
import {
  fireInstants,
  toCronParserExpression,
  UnsupportedScheduleExpression,
} from '../../cli/schedules/cron';
import { JOB_NAMES, JOBS } from '../../shared/jobs/registry';

describe('toCronParserExpression', () => {
  it.each([
    ['cron(0 0 * * ? *)', '0 0 * * *'],
    ['cron(59 23 * * ? *)', '59 23 * * *'],
    ['cron(0/15 8-18 ? * MON-FRI *)', '0/15 8-18 * * 1,2,3,4,5'],
    ['cron(0 8 ? * 2-6 *)', '0 8 * * 1,2,3,4,5'], // AWS 2-6 = MON-FRI
    ['cron(0 8 ? * 1,7 *)', '0 8 * * 0,6'], // SUN, SAT
    ['cron(0 8 ? * 2/2 *)', '0 8 * * 1,3,5'], // MON, WED, FRI: not cron-parser's 1/2, which reaches Sunday (7)
    ['cron(0 8 ? * */3 *)', '0 8 * * 0,3,6'],
    ['cron(0 0 1 JUL ? *)', '0 0 1 JUL *'],
    ['cron(30 2 ? * WED *)', '30 2 * * 3'],
  ])('%s → %s', (aws, expected) => {
    expect(toCronParserExpression(aws)).toBe(expected);
  });

  it("converts every registry job's expression", () => {
    for (const job of JOB_NAMES) {
      const { cron, hour, minute } = JOBS[job].schedule;
      expect(toCronParserExpression(cron)).toBe(`${minute} ${hour} * * *`);
    }
  });

  it.each([
    ['rate(1 day)', 'only cron(…) expressions'],
    ['at(2026-12-02T00:00:00)', 'only cron(…) expressions'],
    ['cron(0 0 * * ?)', 'has 6 fields'],
    ['cron(0 0 * * ? 2027)', 'a year other than * (2027)'],
    ['cron(0 0 * * * *)', 'exactly one of day-of-month and day-of-week must be ?'],
    ['cron(0 0 ? * ? *)', 'exactly one of day-of-month and day-of-week must be ?'],
    ['cron(0 0 L * ? *)', 'L, W and # wildcards'],
    ['cron(0 0 15W * ? *)', 'L, W and # wildcards'],
    ['cron(0 0 ? * 6#3 *)', 'L, W and # wildcards'],
    ['cron(0 0 ? * 6L *)', 'L, W and # wildcards'],
    ['cron(0 0 ? * 8 *)', 'day-of-week "8" is not 1-7 or SUN-SAT'],
    ['cron(0 0 ? * 0 *)', 'day-of-week "0" is not 1-7 or SUN-SAT'],
    ['cron(0 0 ? * 6-2 *)', 'runs backwards'],
    ['cron(? 0 * * ? *)', 'only for day-of-month or day-of-week'],
    ['cron(0 25 * * ? *)', '25'],
  ])('refuses %s, saying why', (aws, why) => {
    expect(() => toCronParserExpression(aws)).toThrow(UnsupportedScheduleExpression);
    expect(() => toCronParserExpression(aws)).toThrow(why);
  });
});

describe('fireInstants', () => {
  const after = DateTime.fromISO('2026-12-02T08:00:00+08:00', { setZone: true }); // a Wednesday

  it('gives the instants strictly after a moment, in the zone given, as stored instants', () => {
    expect(fireInstants('cron(0 0 * * ? *)', 'Asia/Shanghai', after, 2)).toEqual([
      '2026-12-03T00:00:00.000+08:00',
      '2026-12-04T00:00:00.000+08:00',
    ]);
    expect(fireInstants('cron(0 0 * * ? *)', 'UTC', after, 1)).toEqual(['2026-12-03T08:00:00.000+08:00']);
    const exactly = DateTime.fromISO('2026-12-03T00:00:00+08:00', { setZone: true });
    expect(fireInstants('cron(0 0 * * ? *)', 'Asia/Shanghai', exactly, 1)).toEqual([
      '2026-12-04T00:00:00.000+08:00',
    ]);
  });

  it('reads AWS days of the week: 2 is Monday', () => {
    const [monday] = fireInstants('cron(0 9 ? * 2 *)', 'Asia/Shanghai', after, 1);
    expect(monday).toBe('2026-12-07T09:00:00.000+08:00');
    expect(DateTime.fromISO(monday as string, { zone: 'Asia/Shanghai' }).weekdayLong).toBe('Monday');
  });

  it('stops at an end', () => {
    const until = DateTime.fromISO('2026-12-04T12:00:00+08:00', { setZone: true });
    expect(fireInstants('cron(0 0 * * ? *)', 'Asia/Shanghai', after, 5, until)).toHaveLength(2);
  });
});
