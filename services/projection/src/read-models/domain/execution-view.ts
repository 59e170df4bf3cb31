/** Statuses of the executions read model; terminal ones are never overwritten by late events. */
export type ExecutionViewStatus = 'requested' | 'queued' | 'running' | 'completed' | 'failed' | 'rejected' | 'cancelled';

export const TERMINAL_STATUSES: readonly ExecutionViewStatus[] = ['completed', 'failed', 'rejected', 'cancelled'];

export interface TaskView {
  readonly taskId: string;
  readonly agentType: string | null;
  readonly status: 'pending' | 'dispatched' | 'running' | 'retrying' | 'completed' | 'failed' | 'skipped' | 'cancelled';
  readonly attempt: number;
  readonly workerId: string | null;
  readonly reason: string | null;
  readonly nextAttemptAt?: string | null;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  readonly usage: { readonly cpuTimeMs: number; readonly peakRssBytes: number; readonly wallTimeMs: number } | null;
}

export interface ExecutionView {
  readonly executionId: string;
  readonly customerId: string | null;
  readonly kind: string | null;
  readonly status: ExecutionViewStatus;
  readonly reasons: readonly string[];
  /** The agent type being worked on (the running task's, else the next pending one's). */
  readonly phase?: string | null;
  /** Finished (completed or skipped) tasks as a share of all tasks, 0..100. */
  readonly progressPct?: number;
  readonly tasks: readonly TaskView[];
  readonly acceptedAt: string | null;
  readonly queuedAt?: string | null;
  readonly admittedAt?: string | null;
  readonly deadlineAt?: string | null;
  readonly finishedAt: string | null;
  readonly durationMs: number | null;
  /** What its attempts cost so far, in micro-units of `costCurrency` (null before the first costed attempt). */
  readonly costMicros?: number;
  readonly costCurrency?: string | null;
  /** Attempts costed so far. */
  readonly costAttempts?: number;
  /** True once the optimizer finalized the cost: the execution ended and every attempt it started was costed. */
  readonly costFinal?: boolean;
  /** Attempts the final cost could not include (they never reported); 0 unless the optimizer's grace period ran out. */
  readonly costMissingAttempts?: number;
  readonly lastEventAt: string;
}
