import type { TaskDispatched } from '@flotilla/contracts';

export type ExecutorOutcome =
  | { readonly ok: true; readonly output: Readonly<Record<string, string>> }
  | { readonly ok: false; readonly errorKind: string; readonly reason: string };

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
