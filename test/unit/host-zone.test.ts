import { describe, expect, it } from 'vitest';
import { onboardingDate, promotionWindow } from '../../shared/promotion/window';

describe('the host time zone', () => {
  it('is whatever the run chose (the suite runs under several), and the window does not depend on it', () => {
    // Under TZ=America/New_York this is -4/-5 h; the results below must not move with it.
    expect(typeof new Date().getTimezoneOffset()).toBe('number');
    expect(promotionWindow(onboardingDate('2020-03-08T06:30:00Z')).onboardedOn).toBe('2020-03-08'); // US DST start
    expect(promotionWindow('2020-11-01').startsAt).toBe('2020-11-03T00:00:00.000+08:00'); // US DST end
  });
});
