// What the report reads off one enrolment: the notices its history implies (as the notifier tells
// them, on the day of the run that wrote them) and the days it was active at the end of.
import { describe, expect, it } from 'vitest';
import { activeAtEndOf } from '../../cli/demo/replay';
import { activeSpan, impliedNotices } from '../../cli/report/state';
import type { HistoryEntry, Promotion } from '../../shared/promotion/lifecycle';
import { daysBetween } from '../../shared/time';

const WINDOW = {
  onboardedOn: '2020-05-06',
  eligible: true,
  startsAt: '2020-05-08T00:00:00.000+08:00',
  endsBefore: '2020-06-07T00:00:00.000+08:00',
  lastDay: '2020-06-06',
  days: 30,
};
const RECORDED: HistoryEntry = {
  status: 'SCHEDULED',
  effectiveAt: '2020-05-06T00:00:00.000+08:00',
  processedAt: '2026-11-25T10:00:00.000+08:00',
  by: 'record',
};

function enrolment(history: HistoryEntry[], extra: Partial<Promotion> = {}): Promotion {
  return {
    ...WINDOW,
    merchantId: 'm-1',
    programId: 'NEW_MERCHANT_FEE',
    program: { name: 'p', benefits: { feeRate: 0.01 } },
    programVersion: 0,
    status: history.at(-1)?.status ?? 'SCHEDULED',
    version: history.length,
    history,
    ...extra,
  } as Promotion;
}

const entry = (
  status: HistoryEntry['status'],
  effectiveAt: string,
  processedAt: string,
  asOf?: string,
  by: HistoryEntry['by'] = 'activate',
) => ({ status, effectiveAt, processedAt, ...(asOf ? { asOf } : {}), by }) as HistoryEntry;

describe('impliedNotices and activeSpan', () => {
  it('a whole window: activated, reminded, expired, each on its run’s day; active until the last day', () => {
    const e = enrolment(
      [
        RECORDED,
        entry('ACTIVE', WINDOW.startsAt, '2026-11-25T10:00:01.000+08:00', '2020-05-08T00:00:00.000+08:00'),
        entry(
          'EXPIRED',
          WINDOW.endsBefore,
          '2026-11-25T10:00:03.000+08:00',
          '2020-06-06T23:59:00.000+08:00',
          'expire',
        ),
      ],
      {
        reminder: {
          effectiveAt: '2020-06-04T00:00:00.000+08:00',
          processedAt: '2026-11-25T10:00:02.000+08:00',
          asOf: '2020-06-04T23:59:00.000+08:00',
        },
      },
    );
    expect(impliedNotices(e)).toEqual([
      { type: 'PROMOTION_ACTIVATED', day: '2020-05-08' },
      { type: 'PROMOTION_EXPIRED', day: '2020-06-06' },
      { type: 'PROMOTION_ENDING_SOON', day: '2020-06-04' },
    ]);
    expect(activeSpan(e)).toEqual({ first: '2020-05-08', end: '2020-06-06' });
    const days = daysBetween('2020-05-01', '2020-06-10');
    const span = activeSpan(e);
    expect(days.map((d) => (span && d >= span.first && (!span.end || d < span.end) ? 1 : 0))).toEqual(
      days.map((d) => activeAtEndOf(d, [e])),
    );
  });

  it('a late run that starts and ends the window in one write tells nothing (its days still count as active)', () => {
    const late = '2026-11-25T10:00:01.000+08:00';
    const asOf = '2020-06-20T00:00:00.000+08:00';
    const e = enrolment([
      RECORDED,
      entry('ACTIVE', WINDOW.startsAt, late, asOf),
      entry('EXPIRED', WINDOW.endsBefore, late, asOf),
    ]);
    expect(impliedNotices(e)).toEqual([]);
    // Active in the stored history for the window's days, as activeAtEndOf counts it.
    expect(activeSpan(e)).toEqual({ first: '2020-05-08', end: '2020-06-06' });
  });

  it('a revocation by an operator is told on its instant’s day; a correction’s REVOKED entry is not', () => {
    const e = enrolment([
      RECORDED,
      entry('REVOKED', '2020-05-07T12:00:00.000+08:00', '2026-11-25T10:00:01.000+08:00', undefined, 'revoke'),
      entry(
        'REVOKED',
        '2020-05-07T12:00:00.000+08:00',
        '2026-11-25T10:00:02.000+08:00',
        undefined,
        'correct',
      ),
    ]);
    expect(impliedNotices(e)).toEqual([{ type: 'PROMOTION_REVOKED', day: '2020-05-07' }]);
    expect(activeSpan(e)).toBeUndefined();
  });
});
