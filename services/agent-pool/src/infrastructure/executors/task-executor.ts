import type { TaskDispatched } from '@flotilla/contracts';

export type ExecutorOutcome =
  | { readonly ok: true; readonly output: Readonly<Record<string, string>> }
  | { readonly ok: false; readonly errorKind: string; readonly reason: string };

/** What runs one task attempt. Chosen per agent type by configuration. */
export interface TaskExecutor {
  run(task: TaskDispatched, signal: AbortSignal): Promise<ExecutorOutcome>;
}
