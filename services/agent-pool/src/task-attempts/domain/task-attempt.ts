import type { ResourceUsage, TaskCompleted, TaskDispatched, TaskFailed, TaskStarted } from '@flotilla/contracts';

export type TaskAttemptEvent =
  | { readonly type: 'flotilla.task.TaskStarted'; readonly data: TaskStarted }
  | { readonly type: 'flotilla.task.TaskCompleted'; readonly data: TaskCompleted }
  | { readonly type: 'flotilla.task.TaskFailed'; readonly data: TaskFailed };

export type TaskAttemptCommand =
  | { readonly type: 'StartTask'; readonly dispatch: TaskDispatched; readonly workerId: string; readonly now: number }
  | { readonly type: 'CompleteTask'; readonly output: Readonly<Record<string, string>>; readonly usage: ResourceUsage; readonly now: number }
  | { readonly type: 'FailTask'; readonly errorKind: string; readonly reason: string; readonly usage: ResourceUsage; readonly now: number };

/** A started attempt is what its TaskStarted says. */
type Attempt = TaskStarted;

export type TaskAttemptState =
  | { readonly status: 'NotStarted' }
  | ({ readonly status: 'Running' } & Attempt)
  | ({ readonly status: 'Completed'; readonly completedAt: number } & Attempt)
  | ({ readonly status: 'Failed'; readonly reason: string; readonly failedAt: number } & Attempt);

export const initialTaskAttemptState: TaskAttemptState = { status: 'NotStarted' };

/** One stream per attempt, so a retry of the same task is a new aggregate. */
export function taskAttemptStreamId(dispatch: Pick<TaskDispatched, 'executionId' | 'taskId' | 'attempt'>): string {
  return `TaskAttempt-${dispatch.executionId}-${dispatch.taskId}-${dispatch.attempt}`;
}
