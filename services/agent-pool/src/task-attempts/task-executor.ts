import type { TaskDispatched } from '@flotilla/contracts';

/** Resources an executor measured itself (a child process's own CPU time and peak memory). */
export interface MeasuredUsage {
  readonly cpuTimeMs: number;
  readonly peakRssBytes: number;
}

export type ExecutorOutcome =
  | { readonly ok: true; readonly output: Readonly<Record<string, string>>; readonly usage?: MeasuredUsage }
  | { readonly ok: false; readonly errorKind: string; readonly reason: string; readonly output?: Readonly<Record<string, string>>; readonly usage?: MeasuredUsage };

export interface ExecutionContext {
  /** Aborted on cancellation or the pool's own time limit; the executor must stop promptly. */
  readonly signal: AbortSignal;
  /** The executor says it is alive (and how far along it is); an attempt that stops calling this is hung. */
  heartbeat(progress?: number, message?: string): void;
}

/** What runs one task attempt. Chosen per agent type by configuration. */
export interface TaskExecutor {
  run(task: TaskDispatched, context: ExecutionContext): Promise<ExecutorOutcome>;
}
