import type { ExecutionEvent, ExecutionState, ExecutionTimer, TimerKind } from './execution';
import { timeoutsFor, type ExecutionSettings } from './policies';

/**
 * Which durable timers follow from an execution's events: the reactions of the decider, apart from
 * it. Both functions are pure; the command handler applies them in the transaction of the events.
 */

/** The durable timers an event starts (pure): retries, and the three task timeouts. */
export function timersFor(event: ExecutionEvent, stateAfter: ExecutionState, settings: ExecutionSettings): ExecutionTimer[] {
  switch (event.type) {
    case 'flotilla.task.TaskDispatched': {
      const { scheduleToStartMs } = timeoutsFor(settings, event.data.agentType);
      return scheduleToStartMs > 0 ? [{ kind: 'schedule_to_start', taskId: event.data.taskId, attempt: event.data.attempt, dueAt: event.data.dispatchedAt + scheduleToStartMs }] : [];
    }
    case 'flotilla.execution.TaskStartRecorded': {
      if (stateAfter.status === 'NotRequested' || stateAfter.status === 'Rejected') return [];
      const spec = stateAfter.tasks.find((t) => t.taskId === event.data.taskId);
      if (!spec) return [];
      const { startToCloseMs, heartbeatMs } = timeoutsFor(settings, spec.agentType);
      const { taskId, attempt, startedAt } = event.data;
      const timers: ExecutionTimer[] = [];
      if (startToCloseMs > 0) timers.push({ kind: 'start_to_close', taskId, attempt, dueAt: startedAt + startToCloseMs });
      if (heartbeatMs > 0) timers.push({ kind: 'heartbeat', taskId, attempt, dueAt: startedAt + heartbeatMs });
      return timers;
    }
    case 'flotilla.execution.TaskRetryScheduled':
      return [{ kind: 'retry', taskId: event.data.taskId, attempt: event.data.nextAttempt, dueAt: event.data.retryAt }];
    default:
      return [];
  }
}

/** Timers an event makes pointless: one attempt's (`attempt`) or every timer of the execution (`all`). */
export type EndedTimers =
  | { readonly scope: 'none' }
  | { readonly scope: 'attempt'; readonly taskId: string; readonly attempt: number; readonly kinds: readonly TimerKind[] }
  | { readonly scope: 'all' };

const ATTEMPT_TIMEOUTS: readonly TimerKind[] = ['schedule_to_start', 'start_to_close', 'heartbeat'];

/**
 * The timers an event ends, so that they are deleted with it rather than fire later for nothing (a
 * heartbeat timeout ten minutes after its task completed would still be a command and a span in the
 * execution's trace). Firing one anyway is harmless: the decider ignores a timer of a past attempt.
 */
export function timersEndedBy(event: ExecutionEvent): EndedTimers {
  switch (event.type) {
    case 'flotilla.execution.TaskStartRecorded':
      return { scope: 'attempt', taskId: event.data.taskId, attempt: event.data.attempt, kinds: ['schedule_to_start'] };
    case 'flotilla.execution.TaskOutcomeRecorded':
    case 'flotilla.execution.TaskTimedOut':
      return { scope: 'attempt', taskId: event.data.taskId, attempt: event.data.attempt, kinds: ATTEMPT_TIMEOUTS };
    case 'flotilla.execution.TaskRetryScheduled':
      return { scope: 'attempt', taskId: event.data.taskId, attempt: event.data.failedAttempt, kinds: ATTEMPT_TIMEOUTS };
    case 'flotilla.execution.ExecutionCompleted':
    case 'flotilla.execution.ExecutionFailed':
    case 'flotilla.execution.ExecutionCancelled':
    case 'flotilla.execution.ExecutionRejected':
      return { scope: 'all' };
    default:
      return { scope: 'none' };
  }
}

/** What one command does to its execution's timers, all its events taken in order. */
export interface TimerChanges {
  /** Every timer the execution had before the command goes (it ended). */
  readonly cancelAll: boolean;
  readonly cancel: readonly Pick<ExecutionTimer, 'kind' | 'taskId' | 'attempt'>[];
  readonly schedule: readonly ExecutionTimer[];
}

/**
 * Folds the timers started and ended by a command's events into one change, so that the command
 * writes them with one delete and one insert however many events it decided. A timer started and
 * ended by the same command is neither scheduled nor deleted.
 */
export function timerChanges(applied: ReadonlyArray<{ readonly event: ExecutionEvent; readonly stateAfter: ExecutionState }>, settings: ExecutionSettings): TimerChanges {
  const key = (t: Pick<ExecutionTimer, 'kind' | 'taskId' | 'attempt'>) => `${t.taskId}:${t.attempt}:${t.kind}`;
  let cancelAll = false;
  const cancel = new Map<string, Pick<ExecutionTimer, 'kind' | 'taskId' | 'attempt'>>();
  const schedule = new Map<string, ExecutionTimer>();
  for (const { event, stateAfter } of applied) {
    const ended = timersEndedBy(event);
    if (ended.scope === 'all') {
      cancelAll = true;
      schedule.clear();
    } else if (ended.scope === 'attempt') {
      for (const kind of ended.kinds) {
        const timer = { kind, taskId: ended.taskId, attempt: ended.attempt };
        schedule.delete(key(timer));
        cancel.set(key(timer), timer);
      }
    }
    for (const timer of timersFor(event, stateAfter, settings)) {
      schedule.set(key(timer), timer);
      cancel.delete(key(timer));
    }
  }
  return { cancelAll, cancel: cancelAll ? [] : [...cancel.values()], schedule: [...schedule.values()] };
}
