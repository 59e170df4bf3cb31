import { RetriesExhaustedError } from '@flotilla/domain';
import { ExponentialBackoff, handleWhen, retry } from 'cockatiel';
import { isRetriable } from './errors';

export interface RetryOptions {
  readonly maxAttempts: number;
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryOptions = { maxAttempts: 5, initialDelayMs: 100, maxDelayMs: 5_000 };

/**
 * Runs `work` with exponential backoff and jitter (cockatiel's decorrelated jitter), up to
 * `maxAttempts` in all. Programming errors and errors marked non-retriable fail at once.
 * Resolves with the result, or rejects with the last error and the number of attempts made.
 */
export async function withRetry<T>(work: (attempt: number) => Promise<T>, options: RetryOptions = DEFAULT_RETRY): Promise<T> {
  const policy = retry(
    handleWhen((error) => isRetriable(error)),
    {
      maxAttempts: Math.max(0, options.maxAttempts - 1),
      backoff: new ExponentialBackoff({ initialDelay: options.initialDelayMs, maxDelay: options.maxDelayMs }),
    },
  );
  let attempts = 0;
  try {
    return await policy.execute(() => work(++attempts));
  } catch (error) {
    throw new RetriesExhaustedError(error, attempts);
  }
}

/** Exhausted retries are not retriable: whoever called withRetry must not retry around it again. */
export { RetriesExhaustedError };

export function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
