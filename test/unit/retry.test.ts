// The one retry helper: bounded attempts, exponential backoff with full jitter.
import { describe, expect, it } from 'vitest';
import { attempts, backoffDelayMs, RetriesExhaustedError, type RetryPolicy } from '../../shared/retry';

const recorder = (random = () => 0.5) => {
  const slept: number[] = [];
  const policy: RetryPolicy = {
    attempts: 6,
    baseDelayMs: 100,
    maxDelayMs: 1000,
    random,
    sleep: async (ms) => {
      slept.push(ms);
    },
  };
  return { policy, slept };
};

describe('retry', () => {
  it('gives at most `attempts` attempts, sleeping a doubling, capped, jittered delay before each retry', async () => {
    const { policy, slept } = recorder();
    const seen: number[] = [];
    for await (const attempt of attempts(policy)) seen.push(attempt);
    expect(seen).toEqual([1, 2, 3, 4, 5, 6]);
    // random() = 0.5 of the caps 100, 200, 400, 800, 1000 (capped)
    expect(slept).toEqual([50, 100, 200, 400, 500]);
  });

  it('is full jitter: anywhere from 0 up to the cap', () => {
    const { policy } = recorder();
    expect(backoffDelayMs(3, { ...policy, random: () => 0 })).toBe(0);
    expect(backoffDelayMs(3, { ...policy, random: () => 0.999 })).toBeCloseTo(399.6);
    expect(backoffDelayMs(20, { ...policy, random: () => 0.999 })).toBeCloseTo(999);
  });

  it('stops sleeping as soon as the body is done', async () => {
    const { policy, slept } = recorder();
    const run = async () => {
      for await (const attempt of attempts(policy)) if (attempt === 3) return attempt;
      return 0;
    };
    expect(await run()).toBe(3);
    expect(slept).toHaveLength(2);
  });

  it('says what gave up, after how many attempts, and why', () => {
    const error = new RetriesExhaustedError('BatchGetItem', 8, new Error('3 keys unprocessed'));
    expect(error.message).toBe('BatchGetItem: gave up after 8 attempts: 3 keys unprocessed');
    expect(error.cause).toBeInstanceOf(Error);
  });
});
