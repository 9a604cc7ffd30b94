import { describe, expect, it } from 'vitest';
import { InputError } from '../../shared/errors';
import { occurrences, parseJobInput } from '../../shared/jobs/input';

describe('job input', () => {
  it('takes the scheduled time of a scheduled event, in Asia/Shanghai', () => {
    const input = parseJobInput({ scheduledTime: '2020-05-07T16:00:00Z' });
    expect(input).toEqual({
      kind: 'scheduled',
      scheduledTime: '2020-05-08T00:00:00.000+08:00',
      dryRun: false,
    });
    expect(occurrences('activate', input)).toEqual(['2020-05-08T00:00:00.000+08:00']);
  });

  it('runs a {from, to} backfill once per day at the job’s scheduled time, in order', () => {
    const input = parseJobInput({ from: '2020-05-30', to: '2020-06-02', dryRun: true });
    expect(input.dryRun).toBe(true);
    expect(occurrences('activate', input)).toEqual([
      '2020-05-30T00:00:00.000+08:00',
      '2020-05-31T00:00:00.000+08:00',
      '2020-06-01T00:00:00.000+08:00',
      '2020-06-02T00:00:00.000+08:00',
    ]);
    expect(occurrences('expire', parseJobInput({ from: '2020-05-31', to: '2020-05-31' }))).toEqual([
      '2020-05-31T23:59:00.000+08:00',
    ]);
  });

  it.each([
    [{ asOf: '2020-05-08T00:00:00' }, /^asOf: must be an ISO 8601 instant with an offset/],
    [{ asOf: '2020-05-08T24:00:00+08:00' }, /^asOf: /],
    [{ asOf: 20200508 }, /^asOf: /],
    [{ from: '2020-05-10', to: '2020-05-09' }, /^to: must be on or after from/],
    [{ from: '2020-01-01', to: '2021-01-01' }, /^to: must be at most 366 days after from/],
    [{ from: '2020-02-30', to: '2020-03-01' }, /^from: must be a calendar date/],
    [{ from: '2020-02-01' }, /^to: is required/],
    [{ asOf: '2020-05-08T00:00:00+08:00', dryRun: 'yes' }, /^dryRun: must be true or false/],
    [{ asOf: '2020-05-08T00:00:00+08:00', extra: 1 }, /^extra: unknown field/],
    [{}, /must have scheduledTime, asOf, or from and to/],
    [null, /must be an object/],
    [[], /must be an object/],
  ])('refuses %j, naming the field', (value, message) => {
    expect(() => parseJobInput(value)).toThrow(InputError);
    expect(() => parseJobInput(value)).toThrow(message);
  });
});
