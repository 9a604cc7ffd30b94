import { afterEach, describe, expect, it } from 'vitest';
import { parseJobInput } from '../../shared/jobs/input';
import { endOfDayCutoff } from '../../shared/promotion/lifecycle';
import { onboardingDate, promotionWindow } from '../../shared/promotion/window';
import { addDays } from '../../shared/time';
import { SOURCE_EXAMPLE_WINDOW } from '../support/promotions';

// Node applies a change of process.env.TZ at once (Date, Intl and luxon's local zone follow it), so
// one test can move the host through zones on both sides of Shanghai, and with half-hour offsets.
const ZONES: [zone: string, offsetMinutes: number][] = [
  ['UTC', 0],
  ['America/New_York', 240], // EDT at the probe instant
  ['Asia/Shanghai', -480],
  ['Pacific/Kiritimati', -840], // +14:00
  ['America/St_Johns', 150], // -02:30
  ['Pacific/Pago_Pago', 660], // -11:00
];
const PROBE = '2020-05-06T17:30:00Z'; // 01:30 on 05-07 in Shanghai, still 05-06 west of +06:30

/** Everything here must be the same whatever the host's zone. */
function results() {
  return {
    onboardedOn: onboardingDate(PROBE),
    onboardedOnAtDstStart: onboardingDate('2020-03-08T06:30:00Z'), // US DST start
    window: promotionWindow('2020-05-06'),
    windowOverDstEnd: promotionWindow('2020-11-01'), // US DST end
    cutoff: endOfDayCutoff('2020-05-07T23:59:00+08:00'),
    scheduled: parseJobInput({ scheduledTime: '2020-05-07T16:00:00Z' }),
    dayAfter: addDays('2020-03-07', 1), // US DST start
  };
}

const original = process.env.TZ;
afterEach(() => {
  if (original === undefined) delete process.env.TZ;
  else process.env.TZ = original;
});

describe('the host time zone', () => {
  it('changes nothing: windows, day boundaries and job instants are the same in every zone', () => {
    const expected = {
      onboardedOn: '2020-05-07',
      onboardedOnAtDstStart: '2020-03-08',
      window: SOURCE_EXAMPLE_WINDOW,
      windowOverDstEnd: expect.objectContaining({
        startsAt: '2020-11-03T00:00:00.000+08:00',
        endsBefore: '2020-12-03T00:00:00.000+08:00',
        days: 30,
      }),
      cutoff: '2020-05-08T00:00:00.000+08:00',
      scheduled: expect.objectContaining({
        kind: 'scheduled',
        scheduledTime: '2020-05-08T00:00:00.000+08:00',
      }),
      dayAfter: '2020-03-08',
    };
    for (const [zone, offset] of ZONES) {
      process.env.TZ = zone;
      // The host really is in that zone now (else this test would prove nothing).
      expect([zone, new Date(PROBE).getTimezoneOffset()]).toEqual([zone, offset]);
      expect({ zone, ...results() }).toEqual({ zone, ...expected });
    }
  });
});
