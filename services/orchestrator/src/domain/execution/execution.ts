import type {
  ExecutionAccepted,
  ExecutionCompleted,
  ExecutionFailed,
  ExecutionRejected,
  ExecutionRequested,
  TaskDispatched,
  TaskOutcomeRecorded,
  TaskSpec,
} from '@flotilla/contracts';

// ---- events (type = Avro full name) ----
export type ExecutionEvent =
  | { readonly type: 'flotilla.execution.ExecutionAccepted'; readonly data: ExecutionAccepted }
  | { readonly type: 'flotilla.execution.ExecutionRejected'; readonly data: ExecutionRejected }
  | { readonly type: 'flotilla.task.TaskDispatched'; readonly data: TaskDispatched }
  | { readonly type: 'flotilla.execution.TaskOutcomeRecorded'; readonly data: TaskOutcomeRecorded }
  | { readonly type: 'flotilla.execution.ExecutionCompleted'; readonly data: ExecutionCompleted }
  | { readonly type: 'flotilla.execution.ExecutionFailed'; readonly data: ExecutionFailed };

// ---- commands ----
export type ExecutionCommand =
  | { readonly type: 'RequestExecution'; readonly request: ExecutionRequested; readonly now: number }
  | { readonly type: 'RecordTaskCompleted'; readonly taskId: string; readonly attempt: number; readonly now: number }
  | { readonly type: 'RecordTaskFailed'; readonly taskId: string; readonly attempt: number; readonly reason: string; readonly now: number };

// ---- state ----
export type TaskState =
  | { readonly status: 'Pending' }
  | { readonly status: 'Dispatched'; readonly attempt: number }
  | { readonly status: 'Completed'; readonly attempt: number }
  | { readonly status: 'Failed'; readonly attempt: number; readonly reason: string };

interface Admitted {
  readonly executionId: string;
  readonly customerId: string;
  readonly kind: string;
  readonly tasks: readonly TaskSpec[];
  readonly taskStates: Readonly<Record<string, TaskState>>;
  readonly acceptedAt: number;
}

export type ExecutionState =
  | { readonly status: 'NotRequested' }
  | { readonly status: 'Rejected'; readonly executionId: string; readonly reasons: readonly string[] }
  | ({ readonly status: 'Running' } & Admitted)
  | ({ readonly status: 'Completed'; readonly completedAt: number } & Admitted)
  | ({ readonly status: 'Failed'; readonly reason: string; readonly failedAt: number } & Admitted);

export const initialExecutionState: ExecutionState = { status: 'NotRequested' };

export function executionStreamId(executionId: string): string {
  return `Execution-${executionId}`;
}
