// Input dates and instants are bounded (years 1970–2199 in Asia/Shanghai, offsets within ±14:00), in
// the schemas every entry point uses, so no accepted value can break the window arithmetic later.
import { describe, expect, it } from 'vitest';
import { parseJobInput } from '../../shared/jobs/input';
import { merchantRecordSchema } from '../../shared/merchants/record';
import { parseMerchantEvent } from '../../shared/merchants/upstream-events';
import { onboardedAtSchema, onboardingDate, promotionWindow } from '../../shared/promotion/window';
import { calendarDateSchema, dateOrInstantSchema, instantSchema } from '../../shared/time';

const problem = (
  schema: { safeParse(v: unknown): { success: boolean; error?: { issues: { message: string }[] } } },
  value: unknown,
) => schema.safeParse(value).error?.issues.map((i) => i.message);

const YEARS = 'must be in the years 1970–2199 (Asia/Shanghai)';

describe('bounds of input dates and instants', () => {
  // Each text through its own schema, and through the two that take a date or an instant.
  const own = { date: calendarDateSchema, instant: instantSchema };
  it.each([
    ['date', '9999-12-15', [YEARS]],
    ['date', '0000-01-01', [YEARS]],
    ['date', '1969-12-31', [YEARS]],
    ['date', '2200-01-01', [YEARS]],
    ['date', '1970-01-01', undefined],
    ['date', '2199-12-31', undefined],
    ['instant', '2020-05-08T00:00:00+23:59', ['must have an offset within ±14:00, not +23:59']],
    ['instant', '2020-05-08T00:00:00-14:01', ['must have an offset within ±14:00, not -14:01']],
    ['instant', '2020-05-08T00:00:00+1500', ['must have an offset within ±14:00, not +15:00']],
    ['instant', '0000-01-01T00:00:00Z', [YEARS]],
    ['instant', '9999-12-31T23:59:59Z', [YEARS]],
    ['instant', '2199-12-31T16:00:00Z', [YEARS]], // 2200-01-01 00:00 in Shanghai
    ['instant', '1969-12-31T16:00:00Z', undefined], // 1970-01-01 00:00 in Shanghai
    ['instant', '2020-05-08T00:00:00+14:00', undefined],
    ['instant', '2020-05-08T00:00:00-12:00', undefined],
  ] as const)('%s %s → %j', (kind, text, expected) => {
    for (const schema of [own[kind], onboardedAtSchema, dateOrInstantSchema]) {
      expect(problem(schema, text)).toEqual(expected);
    }
  });

  it('keeps the old wording for what is not a date or an instant at all', () => {
    expect(problem(instantSchema, '2020-05-08T24:00:00+08:00')).toEqual([
      expect.stringMatching(/^must be an ISO 8601 instant with an offset/),
    ]);
    expect(problem(calendarDateSchema, '2020-02-30')).toEqual([
      expect.stringMatching(/^must be a calendar date/),
    ]);
  });

  it('leaves every accepted onboarding date a representable window', () => {
    expect(promotionWindow(onboardingDate('2199-12-31'))).toMatchObject({
      startsAt: '2200-01-02T00:00:00.000+08:00',
      endsBefore: '2200-02-01T00:00:00.000+08:00',
      days: 30,
    });
    expect(promotionWindow(onboardingDate('1970-01-01')).days).toBe(30);
  });

  it('is inherited by every entry point: job events, upstream events, import lines', () => {
    expect(() => parseJobInput({ asOf: '2020-05-08T00:00:00+23:59' })).toThrow(
      /^asOf: must have an offset within ±14:00, not \+23:59$/,
    );
    expect(() => parseJobInput({ scheduledTime: '0000-01-01T00:00:00Z' })).toThrow(`scheduledTime: ${YEARS}`);
    expect(() => parseJobInput({ from: '9999-12-15', to: '9999-12-16' })).toThrow(`from: ${YEARS}`);
    const event = (detail: Record<string, unknown>, time = '2020-05-06T02:00:00Z') => ({
      id: 'e-1',
      source: 'marketplace.merchants',
      'detail-type': 'MerchantOnboarded',
      time,
      detail,
    });
    expect(() => parseMerchantEvent(event({ merchantId: 'm', onboardedAt: '9999-12-15' }))).toThrow(
      `detail.onboardedAt: ${YEARS}`,
    );
    expect(() =>
      parseMerchantEvent(event({ merchantId: 'm', onboardedAt: '2020-05-06' }, '0000-01-01T00:00:00Z')),
    ).toThrow(`time: ${YEARS}`);
    expect(
      merchantRecordSchema.safeParse({
        merchantId: 'm',
        onboardedAt: '2020-05-06',
        occurredAt: '2020-05-06T00:00:00+23:59',
      }).error?.issues,
    ).toMatchObject([{ path: ['occurredAt'], message: 'must have an offset within ±14:00, not +23:59' }]);
  });
});
