import { decideRetry, retryDelayMs, type RetryPolicy } from './policies';

const policy: RetryPolicy = { initialIntervalMs: 1_000, backoffCoefficient: 2, maximumIntervalMs: 10_000, maximumAttempts: 5, nonRetryableErrorKinds: ['invalid_input'] };

describe('retry policy', () => {
  it('backs off exponentially from the initial interval, capped at the maximum', () => {
    expect([1, 2, 3, 4, 5, 6].map((attempt) => retryDelayMs(policy, attempt))).toEqual([1_000, 2_000, 4_000, 8_000, 10_000, 10_000]);
  });

  it('retries until the maximum attempts, counting the first', () => {
    expect(decideRetry(policy, 1, 'timeout')).toEqual({ retry: true, nextAttempt: 2, delayMs: 1_000 });
    expect(decideRetry(policy, 4, 'timeout')).toEqual({ retry: true, nextAttempt: 5, delayMs: 8_000 });
    expect(decideRetry(policy, 5, 'timeout')).toEqual({ retry: false, why: 'retries exhausted after 5 attempt(s)' });
  });

  it('never retries a non-retryable error kind', () => {
    expect(decideRetry(policy, 1, 'invalid_input')).toEqual({ retry: false, why: 'invalid_input is not retryable' });
  });

  it('retries without end when maximum attempts is 0', () => {
    expect(decideRetry({ ...policy, maximumAttempts: 0 }, 99, 'timeout')).toMatchObject({ retry: true, nextAttempt: 100 });
  });
});
