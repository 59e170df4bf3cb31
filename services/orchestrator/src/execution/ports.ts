import type { DurableTimers } from '@flotilla/event-store';
import type { ExecutionTimer } from './domain/execution';

/** What a durable timer of an execution carries: which timer of which execution. */
export interface ExecutionTimerPayload extends ExecutionTimer {
  readonly executionId: string;
}

/** The timer's identity: one per execution, task, attempt and kind; scheduling it again moves it. */
export function executionTimerId(executionId: string, timer: Pick<ExecutionTimer, 'taskId' | 'attempt' | 'kind'>): string {
  return `${executionId}:${timer.taskId}:${timer.attempt}:${timer.kind}`;
}

/** Durable timers of executions (retries, timeouts, heartbeats), as the commands use them. */
export type ExecutionTimers = Pick<DurableTimers<ExecutionTimerPayload>, 'applyChanges' | 'postpone'>;
