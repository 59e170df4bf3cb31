import type {
  AlertRaised,
  ExecutionAccepted,
  ExecutionAdmitted,
  ExecutionQueued,
  SlaViolated,
  ExecutionCancelled,
  ExecutionCompleted,
  ExecutionFailed,
  ExecutionRejected,
  ExecutionRequested,
  StartedAttempt,
  TaskCancellationRequested,
  TaskDispatched,
  TaskOutcomeRecorded,
  TaskRetryScheduled,
  TaskSkipped,
  TaskSpec,
  TaskStartRecorded,
  TaskTimedOut,
} from '@flotilla/contracts';
import type { ExecutionSettings } from './policies';

// ---- events (type = Avro full name) ----
export type ExecutionEvent =
  | { readonly type: 'flotilla.execution.ExecutionAccepted'; readonly data: ExecutionAccepted }
  | { readonly type: 'flotilla.execution.ExecutionRejected'; readonly data: ExecutionRejected }
  | { readonly type: 'flotilla.execution.ExecutionQueued'; readonly data: ExecutionQueued }
  | { readonly type: 'flotilla.execution.ExecutionAdmitted'; readonly data: ExecutionAdmitted }
  | { readonly type: 'flotilla.execution.SlaViolated'; readonly data: SlaViolated }
  | { readonly type: 'flotilla.alert.AlertRaised'; readonly data: AlertRaised }
  | { readonly type: 'flotilla.task.TaskDispatched'; readonly data: TaskDispatched }
  | { readonly type: 'flotilla.execution.TaskStartRecorded'; readonly data: TaskStartRecorded }
  | { readonly type: 'flotilla.execution.TaskTimedOut'; readonly data: TaskTimedOut }
  | { readonly type: 'flotilla.execution.TaskRetryScheduled'; readonly data: TaskRetryScheduled }
  | { readonly type: 'flotilla.execution.TaskOutcomeRecorded'; readonly data: TaskOutcomeRecorded }
  | { readonly type: 'flotilla.execution.TaskSkipped'; readonly data: TaskSkipped }
  | { readonly type: 'flotilla.task.TaskCancellationRequested'; readonly data: TaskCancellationRequested }
  | { readonly type: 'flotilla.execution.ExecutionCompleted'; readonly data: ExecutionCompleted }
  | { readonly type: 'flotilla.execution.ExecutionFailed'; readonly data: ExecutionFailed }
  | { readonly type: 'flotilla.execution.ExecutionCancelled'; readonly data: ExecutionCancelled };

export type TimerKind = 'retry' | 'schedule_to_start' | 'start_to_close' | 'heartbeat';

/** A durable timer: when due, the orchestrator sends FireTimer with it to the execution. */
export interface ExecutionTimer {
  readonly kind: TimerKind;
  readonly taskId: string;
  readonly attempt: number;
  readonly dueAt: number;
}

// ---- commands ----
export type ExecutionCommand =
  | { readonly type: 'RequestExecution'; readonly request: ExecutionRequested; readonly settings: ExecutionSettings; readonly now: number }
  /**
   * A request turned away before it became an ExecutionRequested (a review request that names no
   * customer, say): recorded and published as an invalid request is, once; a later request for the
   * same execution id changes nothing.
   */
  | { readonly type: 'RejectRequest'; readonly executionId: string; readonly customerId: string | null; readonly reasons: readonly string[]; readonly now: number }
  | { readonly type: 'RecordTaskStarted'; readonly taskId: string; readonly attempt: number; readonly workerId: string; readonly now: number }
  | { readonly type: 'RecordTaskCompleted'; readonly taskId: string; readonly attempt: number; readonly now: number }
  | {
      readonly type: 'RecordTaskFailed';
      readonly taskId: string;
      readonly attempt: number;
      readonly errorKind: string;
      readonly reason: string;
      readonly settings: ExecutionSettings;
      readonly now: number;
    }
  | { readonly type: 'FireTimer'; readonly timer: ExecutionTimer; readonly settings: ExecutionSettings; readonly now: number }
  | { readonly type: 'CancelExecution'; readonly reason: string; readonly now: number }
  /** Admission gave it a slot (decided by the admission plan, outside the aggregate). */
  | { readonly type: 'AdmitExecution'; readonly effectivePriority: number; readonly probe: boolean; readonly now: number }
  /** Admission turned it away after acceptance (its customer's circuit is open in reject mode). */
  | { readonly type: 'RejectQueued'; readonly reason: string; readonly now: number }
  | { readonly type: 'RecordSlaViolation'; readonly sla: 'queue_time'; readonly limitMs: number; readonly now: number };

// ---- state ----
export type TaskState =
  | { readonly status: 'Pending' }
  | { readonly status: 'Dispatched'; readonly attempt: number }
  | { readonly status: 'Started'; readonly attempt: number; readonly workerId: string }
  | { readonly status: 'RetryScheduled'; readonly failedAttempt: number; readonly nextAttempt: number }
  | { readonly status: 'Completed'; readonly attempt: number }
  | { readonly status: 'Failed'; readonly attempt: number; readonly reason: string }
  | { readonly status: 'Skipped'; readonly reason: string };

interface Accepted {
  readonly executionId: string;
  readonly customerId: string;
  readonly kind: string;
  readonly tasks: readonly TaskSpec[];
  readonly taskStates: Readonly<Record<string, TaskState>>;
  /** Every attempt whose start was recorded, in order: the end event lists them, so that whoever costs them knows when all have reported. */
  readonly startedAttempts: readonly StartedAttempt[];
  readonly acceptedAt: number;
  readonly queuedAt: number;
  readonly basePriority: number;
  readonly slaViolated: boolean;
  /** null while it waits in the admission queue. */
  readonly admittedAt: number | null;
}

export type ExecutionState =
  | { readonly status: 'NotRequested' }
  | { readonly status: 'Rejected'; readonly executionId: string; readonly reasons: readonly string[] }
  | ({ readonly status: 'Queued' } & Accepted)
  | ({ readonly status: 'Running' } & Accepted)
  | ({ readonly status: 'Completed'; readonly completedAt: number } & Accepted)
  | ({ readonly status: 'Failed'; readonly reason: string; readonly failedAt: number } & Accepted)
  | ({ readonly status: 'Cancelled'; readonly reason: string; readonly cancelledAt: number } & Accepted);

export const initialExecutionState: ExecutionState = { status: 'NotRequested' };

export function executionStreamId(executionId: string): string {
  return `Execution-${executionId}`;
}
