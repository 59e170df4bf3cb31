import type { Transaction } from '@flotilla/event-store';
import type { ExecutionTimer } from './domain/execution';

export interface DueTimer extends ExecutionTimer {
  readonly executionId: string;
  readonly traceparent: string | null;
}

/**
 * Durable timers of executions (retries, timeouts, heartbeats). Scheduled in the transaction of the
 * events they follow from; a poller fires the due ones. Implemented in infrastructure/timer-store.ts.
 */
export interface TimerStore {
  schedule(tx: Transaction, executionId: string, timers: readonly ExecutionTimer[], traceparent: string | null): Promise<void>;
  /** Pushes a heartbeat timeout back; outside any command transaction, as heartbeats change no state. */
  extendHeartbeat(executionId: string, taskId: string, attempt: number, dueAt: number): Promise<void>;
  due(now: number, limit: number): Promise<DueTimer[]>;
  remove(timer: DueTimer): Promise<void>;
}
