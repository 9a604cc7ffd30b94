import { describe, expect, it } from 'vitest';
import {
  endOfDayCutoff,
  newPromotion,
  type PromotionChange,
  planActivation,
  planCorrection,
  planExpiry,
  planRevocation,
  remindAtOf,
  statusAt,
} from '../../shared/promotion/lifecycle';
import { promotionWindow } from '../../shared/promotion/window';
import { apply, recorded, sh } from '../support/promotions';

const processedAt = '2026-11-25T10:00:00.000+08:00';
const ctx = (asOf: string) => ({ asOf: sh(asOf), processedAt });

describe('merchant A (T = 2020-05-06): window 2020-05-08 00:00 … 2020-06-06 23:59', () => {
  const a = recorded('merchant-a', '2020-05-06');

  it('is recorded SCHEDULED, due for activation at its start', () => {
    expect(a.status).toBe('SCHEDULED');
    expect(a.history).toEqual([
      { status: 'SCHEDULED', effectiveAt: sh('2020-05-06 00:00'), processedAt, by: 'record' },
    ]);
  });

  it('is not activated before 2020-05-08 00:00', () => {
    expect(planActivation(a, ctx('2020-05-07 00:00'))).toBeUndefined();
    expect(planActivation(a, { asOf: '2020-05-07T23:59:59.999+08:00', processedAt })).toBeUndefined();
  });

  it('is activated at 2020-05-08 00:00, effective then, next due for its reminder', () => {
    const change = planActivation(a, ctx('2020-05-08 00:00'));
    expect(change).toEqual({
      status: 'ACTIVE',
      entries: [
        {
          status: 'ACTIVE',
          effectiveAt: sh('2020-05-08 00:00'),
          processedAt,
          asOf: sh('2020-05-08 00:00'),
          by: 'activate',
        },
      ],
      next: { action: 'REMIND', at: sh('2020-06-04 00:00') },
    });
  });

  it('activated late (2020-05-20) is still effective from its start, and records the late asOf', () => {
    const change = planActivation(a, ctx('2020-05-20 00:00'));
    expect(change?.entries[0]).toMatchObject({
      status: 'ACTIVE',
      effectiveAt: sh('2020-05-08 00:00'),
      asOf: sh('2020-05-20 00:00'),
    });
    expect(change?.status).toBe('ACTIVE');
  });

  it('activated in its last 3 days waits only for expiry (no "ends soon" right after "activated")', () => {
    // The reminder goes out at 23:59 on 06-03; a promotion activated on 06-02 still gets it, one on 06-03 not.
    expect(planActivation(a, ctx('2020-06-02 00:00'))?.next).toEqual({
      action: 'REMIND',
      at: sh('2020-06-04 00:00'),
    });
    expect(planActivation(a, ctx('2020-06-03 00:00'))?.next).toEqual({
      action: 'EXPIRE',
      at: sh('2020-06-07 00:00'),
    });
  });

  it('reached after its window goes SCHEDULED → ACTIVE → EXPIRED in one change, both effective instants recorded', () => {
    const change = planActivation(a, ctx('2020-06-07 00:00'));
    expect(change?.status).toBe('EXPIRED');
    expect(change?.entries.map((e) => [e.status, e.effectiveAt])).toEqual([
      ['ACTIVE', sh('2020-05-08 00:00')],
      ['EXPIRED', sh('2020-06-07 00:00')],
    ]);
    expect(change?.next).toBeNull();
  });

  it('gets its "ends soon" reminder at 23:59 three days before its last day, then expires at 23:59 on its last day', () => {
    const active = apply(a, planActivation(a, ctx('2020-05-08 00:00')) as PromotionChange);
    expect(planExpiry(active, ctx('2020-06-02 23:59'))).toBeUndefined();
    const reminded = planExpiry(active, ctx('2020-06-03 23:59'));
    expect(reminded).toEqual({
      status: 'ACTIVE',
      entries: [],
      reminder: { effectiveAt: sh('2020-06-04 00:00'), processedAt, asOf: sh('2020-06-03 23:59') },
      next: { action: 'EXPIRE', at: sh('2020-06-07 00:00') },
    });
    const afterReminder = apply(active, reminded as PromotionChange);
    expect(planExpiry(afterReminder, ctx('2020-06-05 23:59'))).toBeUndefined();
    const expired = planExpiry(afterReminder, ctx('2020-06-06 23:59'));
    expect(expired?.status).toBe('EXPIRED');
    expect(expired?.entries).toEqual([
      {
        status: 'EXPIRED',
        effectiveAt: sh('2020-06-07 00:00'),
        processedAt,
        asOf: sh('2020-06-06 23:59'),
        by: 'expire',
      },
    ]);
    expect(
      planExpiry(apply(afterReminder, expired as PromotionChange), ctx('2020-06-07 23:59')),
    ).toBeUndefined();
  });

  it('whose reminder was never sent is expired without one when the expiry run comes first', () => {
    const active = apply(a, planActivation(a, ctx('2020-05-08 00:00')) as PromotionChange);
    const change = planExpiry(active, ctx('2020-06-10 23:59'));
    expect(change?.status).toBe('EXPIRED');
    expect(change?.reminder).toBeUndefined();
  });

  it('has the status the rules give at every instant around its boundaries', () => {
    expect(statusAt(a, '2020-05-07T23:59:59.999+08:00')).toBe('SCHEDULED');
    expect(statusAt(a, sh('2020-05-08 00:00'))).toBe('ACTIVE');
    expect(statusAt(a, '2020-06-06T23:59:59.999+08:00')).toBe('ACTIVE');
    expect(statusAt(a, sh('2020-06-07 00:00'))).toBe('EXPIRED');
    expect(statusAt({ ...a, revokedAt: sh('2020-05-20 12:00') }, sh('2020-05-20 12:00'))).toBe('REVOKED');
    expect(statusAt({ ...a, revokedAt: sh('2020-05-20 12:00') }, sh('2020-05-20 11:59'))).toBe('ACTIVE');
  });

  it('is due for its reminder at the start of its last 3 days', () => {
    expect(remindAtOf(a)).toBe(sh('2020-06-04 00:00'));
    expect(endOfDayCutoff(sh('2020-06-03 23:59'))).toBe(sh('2020-06-04 00:00'));
  });
});

describe('jobs leave alone what is not theirs', () => {
  it('activate ignores anything not SCHEDULED; expire anything not ACTIVE', () => {
    const p = recorded('m', '2020-05-06');
    for (const status of ['INELIGIBLE', 'ACTIVE', 'EXPIRED', 'REVOKED'] as const) {
      expect(planActivation({ ...p, status }, ctx('2020-07-01 00:00'))).toBeUndefined();
    }
    for (const status of ['INELIGIBLE', 'SCHEDULED', 'EXPIRED', 'REVOKED'] as const) {
      expect(planExpiry({ ...p, status }, ctx('2020-07-01 23:59'))).toBeUndefined();
    }
  });

  it('an ineligible merchant (T before 2020-05-01) is recorded INELIGIBLE and never due', () => {
    const p = recorded('m', '2020-04-30');
    expect(p.status).toBe('INELIGIBLE');
    expect(planActivation(p, ctx('2020-05-10 00:00'))).toBeUndefined();
  });
});

describe('corrections of T', () => {
  const p = recorded('m', '2020-05-06');

  it('the same T changes nothing', () => {
    expect(planCorrection(p, promotionWindow('2020-05-06'), processedAt)).toBeUndefined();
  });

  it('a new T recomputes the window and starts over as SCHEDULED, due at the new start', () => {
    const active = apply(p, planActivation(p, ctx('2020-05-08 00:00')) as PromotionChange);
    const change = planCorrection(active, promotionWindow('2020-05-10'), processedAt);
    expect(change?.status).toBe('SCHEDULED');
    expect(change?.window?.startsAt).toBe(sh('2020-05-12 00:00'));
    expect(change?.entries[0]?.reason).toBe('onboarding date corrected from 2020-05-06 to 2020-05-10');
    expect(change?.next).toEqual({ action: 'ACTIVATE', at: sh('2020-05-12 00:00') });
    expect(change?.reminder).toBeNull();
  });

  it('a T moved before the program start makes it INELIGIBLE; moved back, SCHEDULED again', () => {
    const change = planCorrection(p, promotionWindow('2020-04-01'), processedAt);
    expect(change?.status).toBe('INELIGIBLE');
    expect(change?.next).toBeNull();
    const ineligible = apply(p, change as PromotionChange);
    expect(planCorrection(ineligible, promotionWindow('2020-05-06'), processedAt)?.status).toBe('SCHEDULED');
  });

  it('a revoked promotion stays revoked with the corrected window', () => {
    const revoked = { ...p, status: 'REVOKED' as const, revokedAt: sh('2020-05-09 00:00') };
    expect(planCorrection(revoked, promotionWindow('2020-05-07'), processedAt)).toMatchObject({
      status: 'REVOKED',
      next: null,
    });
  });
});

describe('revocation', () => {
  const p = recorded('m', '2020-05-06');

  it('before the window (or at its very start) revokes a SCHEDULED promotion, effective at its instant, with the reason', () => {
    for (const at of [sh('2020-05-07 12:00'), sh('2020-05-08 00:00')]) {
      const plan = planRevocation(p, at, 'fake orders', processedAt);
      expect(plan).toEqual({
        kind: 'change',
        change: {
          status: 'REVOKED',
          entries: [{ status: 'REVOKED', effectiveAt: at, processedAt, by: 'revoke', reason: 'fake orders' }],
          revoked: { at, reason: 'fake orders' },
          next: null,
        },
      });
    }
  });

  it('during the window revokes an ACTIVE promotion, effective at its instant', () => {
    const active = apply(p, planActivation(p, ctx('2020-05-08 00:00')) as PromotionChange);
    const plan = planRevocation(active, sh('2020-05-20 08:00'), 'fake orders', processedAt);
    expect(plan).toMatchObject({ kind: 'change', change: { status: 'REVOKED', next: null } });
    const { change } = plan as { change: PromotionChange };
    expect(change.entries.map((e) => [e.status, e.effectiveAt])).toEqual([
      ['REVOKED', sh('2020-05-20 08:00')],
    ]);
  });

  it('reaching a promotion still SCHEDULED after its start (activate lagging) records ACTIVE at the start, then REVOKED', () => {
    for (const at of [sh('2020-05-08 00:01'), sh('2020-05-20 08:00'), '2020-06-06T23:59:59.999+08:00']) {
      const plan = planRevocation(p, at, 'fake orders', processedAt);
      expect(plan).toMatchObject({ kind: 'change' });
      const { change } = plan as { change: PromotionChange };
      expect(change).toMatchObject({ status: 'REVOKED', revoked: { at, reason: 'fake orders' }, next: null });
      expect(change.reminder).toBeUndefined();
      expect(change.entries).toEqual([
        {
          status: 'ACTIVE',
          effectiveAt: sh('2020-05-08 00:00'),
          processedAt,
          by: 'revoke',
          reason: expect.stringContaining('activate had not run'),
        },
        { status: 'REVOKED', effectiveAt: at, processedAt, by: 'revoke', reason: 'fake orders' },
      ]);
      // The history now agrees with the rules at every instant of the window.
      const revoked = apply(p, change);
      expect([statusAt(revoked, sh('2020-05-08 00:00')), statusAt(revoked, at)]).toEqual([
        'ACTIVE',
        'REVOKED',
      ]);
    }
  });

  it('at or after the end of the window is refused; the same revocation again is unchanged', () => {
    expect(planRevocation(p, sh('2020-06-07 00:00'), 'x', processedAt)).toMatchObject({ kind: 'refused' });
    const revoked = { ...p, status: 'REVOKED' as const, revokedAt: sh('2020-05-20 08:00') };
    expect(planRevocation(revoked, sh('2020-05-20 08:00'), 'x', processedAt)).toEqual({ kind: 'unchanged' });
    expect(planRevocation(revoked, sh('2020-05-21 08:00'), 'x', processedAt)).toMatchObject({
      kind: 'refused',
    });
    expect(
      planRevocation(recorded('old', '2020-04-01'), sh('2020-05-21 08:00'), 'x', processedAt),
    ).toMatchObject({
      kind: 'refused',
    });
  });
});

describe('what a promotion waits for next (next: { action, at } | null)', () => {
  it('through its whole life: ACTIVATE at its start, REMIND at its last 3 days, EXPIRE at its end, then nothing', () => {
    const window = promotionWindow('2020-05-06');
    const fresh = newPromotion('m', window, sh('2020-05-06 00:00'), processedAt);
    expect(fresh.next).toEqual({ action: 'ACTIVATE', at: sh('2020-05-08 00:00') });
    const activation = planActivation(fresh.promotion, ctx('2020-05-08 00:00')) as PromotionChange;
    expect(activation.next).toEqual({ action: 'REMIND', at: sh('2020-06-04 00:00') });
    const active = apply(fresh.promotion, activation);
    const reminder = planExpiry(active, ctx('2020-06-03 23:59')) as PromotionChange;
    expect(reminder.next).toEqual({ action: 'EXPIRE', at: sh('2020-06-07 00:00') });
    const expiry = planExpiry(apply(active, reminder), ctx('2020-06-06 23:59')) as PromotionChange;
    expect(expiry.next).toBeNull();
  });

  it('an ineligible merchant waits for nothing from the start; a revoked promotion waits for nothing more', () => {
    const ineligible = newPromotion('m', promotionWindow('2020-04-30'), sh('2020-04-30 00:00'), processedAt);
    expect(ineligible.next).toBeNull();
    const p = recorded('m', '2020-05-06');
    const plan = planRevocation(p, sh('2020-05-20 08:00'), 'fake orders', processedAt);
    expect(plan).toMatchObject({ kind: 'change', change: { next: null } });
  });

  it('a reminder already recorded is not waited for again: an activation replanned after it waits for the end', () => {
    const p = recorded('m', '2020-05-06');
    const reminded = {
      ...p,
      reminder: { effectiveAt: sh('2020-06-04 00:00'), processedAt, asOf: sh('2020-06-03 23:59') },
    };
    expect(planActivation(reminded, ctx('2020-05-08 00:00'))?.next).toEqual({
      action: 'EXPIRE',
      at: sh('2020-06-07 00:00'),
    });
  });
});
