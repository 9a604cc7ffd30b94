import { describe, expect, it } from 'vitest';
import { onboardingDate, promotionWindow } from '../../shared/promotion/window';
import { addDays, daysBetween, parseInstant, tryParseDate, tryParseInstant } from '../../shared/time';
import { SOURCE_EXAMPLE_WINDOW } from '../support/promotions';

const window = (t: string, programStart?: string) => promotionWindow(onboardingDate(t), programStart);

describe('promotion window (rules §1)', () => {
  it("covers the source's worked example: T = 2020-05-06 → 2020-05-08 00:00 … 2020-06-06 23:59, 30 days", () => {
    expect(window('2020-05-06')).toEqual(SOURCE_EXAMPLE_WINDOW);
  });

  it.each([
    // T, first day, last day: across month ends, year ends and leap days
    ['2020-05-30', '2020-06-01', '2020-06-30'],
    ['2020-05-31', '2020-06-02', '2020-07-01'],
    ['2020-12-30', '2021-01-01', '2021-01-30'],
    ['2020-12-31', '2021-01-02', '2021-01-31'],
    ['2021-02-26', '2021-02-28', '2021-03-29'],
    ['2024-02-27', '2024-02-29', '2024-03-29'],
    ['2024-02-28', '2024-03-01', '2024-03-30'],
    ['2024-01-31', '2024-02-02', '2024-03-02'],
    ['2020-02-29', '2020-03-02', '2020-03-31'],
  ])('T = %s starts %s 00:00 and lasts through %s', (t, first, last) => {
    const w = window(t);
    expect(w.startsAt).toBe(`${first}T00:00:00.000+08:00`);
    expect(w.lastDay).toBe(last);
    expect(w.endsBefore).toBe(`${addDays(last, 1)}T00:00:00.000+08:00`);
    expect(w.days).toBe(30);
    expect(daysBetween(first, last)).toHaveLength(30);
  });

  it('is exactly 30 × 24 h, from a midnight, for every T from 2020 to 2030', () => {
    for (const t of daysBetween('2020-01-01', '2030-12-31')) {
      const w = window(t);
      const start = parseInstant(w.startsAt);
      const end = parseInstant(w.endsBefore);
      expect(end.diff(start).as('hours')).toBe(720);
      expect([start.hour, start.minute, start.second, start.millisecond]).toEqual([0, 0, 0, 0]);
      expect(w.startsAt.slice(0, 10)).toBe(addDays(t, 2));
    }
  });

  it.each([
    ['2020-05-06T16:00:00Z', '2020-05-07'], // 00:00 in Shanghai
    ['2020-05-06T15:59:59.999Z', '2020-05-06'], // 23:59:59.999 in Shanghai
    ['2020-05-06T16:30:00Z', '2020-05-07'], // the example of rules §1
    ['2020-05-06T23:30:00-05:00', '2020-05-07'], // New York evening = next Shanghai noon
    ['2020-05-07T00:30:00+09:00', '2020-05-06'], // Tokyo 00:30 = Shanghai 23:30 the day before
    ['2020-05-06T00:00:00+08:00', '2020-05-06'],
    ['2020-05-06T23:59:59+0800', '2020-05-06'],
  ])('maps the onboarding instant %s to the Asia/Shanghai date %s', (instant, date) => {
    expect(onboardingDate(instant)).toBe(date);
  });

  it('makes merchants onboarded before the program start (2020-05-01 by default) ineligible', () => {
    expect(window('2020-04-30').eligible).toBe(false);
    expect(window('2020-05-01').eligible).toBe(true);
    expect(window('2020-04-30T15:59:59Z').eligible).toBe(false); // 23:59:59 on 04-30 in Shanghai
    expect(window('2020-04-30T16:00:00Z').eligible).toBe(true); // 00:00 on 05-01 in Shanghai
    expect(window('2020-05-01', '2020-06-01').eligible).toBe(false);
    expect(window('2020-06-01', '2020-06-01').eligible).toBe(true);
  });

  it.each([
    '2020-02-30', // no such day
    '2021-02-29', // not a leap year
    '2020-13-01',
    '2020-5-6',
    '20200506',
    '2020-05-06T10:00:00', // an instant without an offset is ambiguous
    '2020-05-06T24:00:00+08:00',
    '2020-05-06T10:60:00Z',
    '2020-05-06 10:00:00+08:00',
    '',
    'yesterday',
  ])('refuses %j', (text) => {
    expect(() => onboardingDate(text)).toThrow(
      /onboardedAt must be a calendar date .* or an ISO 8601 instant/,
    );
  });

  it('parses dates and instants without consulting the host time zone', () => {
    expect(tryParseDate('2020-05-06')?.toISO()).toBe('2020-05-06T00:00:00.000+08:00');
    expect(tryParseInstant('2020-05-06T00:00:00Z')?.toISO()).toBe('2020-05-06T08:00:00.000+08:00');
    expect(tryParseInstant('2020-05-06T00:00:00')).toBeUndefined();
  });
});
