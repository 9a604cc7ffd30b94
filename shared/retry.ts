// The one way this code retries after a fault (throttling, unprocessed keys, a transaction conflict,
// entries SNS did not take): a bounded number of attempts with exponential backoff and full jitter, so
// that retries neither spin nor arrive together. Re-planning after a lost conditional write is not a
// fault retry (the failed write returns the fresh item) and is bounded where it happens.

export interface RetryPolicy {
  /** Attempts in all, counting the first. */
  attempts: number;
  /** The upper bound of the delay before the first retry; it doubles before each further retry. */
  baseDelayMs: number;
  /** The upper bound of any one delay. */
  maxDelayMs: number;
  /** Injected by tests; real timers otherwise. */
  sleep?: (ms: number) => Promise<void>;
  /** Injected by tests; Math.random otherwise. */
  random?: () => number;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Full jitter (AWS Architecture Blog, "Exponential Backoff and Jitter"): uniform in [0, min(max, base·2^(retry-1))). */
export function backoffDelayMs(retry: number, policy: RetryPolicy): number {
  const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, retry - 1));
  return (policy.random ?? Math.random)() * cap;
}

/** Sleeps the backoff before retry number `retry` (1 for the first retry). */
export function backoff(retry: number, policy: RetryPolicy): Promise<void> {
  return (policy.sleep ?? sleep)(backoffDelayMs(retry, policy));
}

/**
 * Attempt numbers 1 … policy.attempts, sleeping the backoff before each one after the first. The loop
 * body returns when it is done; falling out of the loop means every attempt was used.
 *
 *     for await (const attempt of attempts(POLICY)) { … if (done) return result; }
 *     throw new RetriesExhaustedError(…);
 */
export async function* attempts(policy: RetryPolicy): AsyncGenerator<number> {
  for (let attempt = 1; attempt <= policy.attempts; attempt++) {
    if (attempt > 1) await backoff(attempt - 1, policy);
    yield attempt;
  }
}

/** Every attempt of a bounded retry failed; the message says what and the last reason. */
export class RetriesExhaustedError extends Error {
  override name = 'RetriesExhaustedError';
  constructor(what: string, attemptCount: number, lastError?: unknown) {
    const reason =
      lastError === undefined
        ? ''
        : `: ${lastError instanceof Error ? lastError.message : String(lastError)}`;
    super(`${what}: gave up after ${attemptCount} attempts${reason}`, { cause: lastError });
  }
}
