import { ConcurrencyError as DomainConcurrencyError, FlotillaError } from '@flotilla/domain';

/** Base of every event-store error (the platform's one error model): a stable code, whether retrying can help, and the cause. */
export class EventStoreError extends FlotillaError {}

/** The stream moved on since it was read: reload, decide again. A concurrency error of the one error model (HTTP 412). */
export class ConcurrencyError extends DomainConcurrencyError {
  constructor(
    readonly streamId: string,
    readonly expectedVersion: number,
    readonly actualVersion: number,
  ) {
    super(`stream ${streamId} is at version ${actualVersion}, expected ${expectedVersion}`);
  }
}

export function isConcurrencyError(error: unknown): error is ConcurrencyError {
  return error instanceof ConcurrencyError;
}
