import type { TaskDispatched } from '@flotilla/contracts';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ExecutorOutcome, TaskExecutor } from './task-executor';

export interface SyntheticExecutorOptions {
  readonly minDurationMs: number;
  readonly maxDurationMs: number;
  /** Probability in [0, 1] that an attempt fails. */
  readonly failureRate: number;
  readonly random?: () => number;
}

/**
 * Stands in for a real agent in load tests and the demo: waits a duration drawn uniformly from
 * [min, max] and fails with the configured probability. A task input `fail: "always"` forces a failure.
 */
export class SyntheticExecutor implements TaskExecutor {
  constructor(private readonly options: SyntheticExecutorOptions) {}

  async run(task: TaskDispatched, signal: AbortSignal): Promise<ExecutorOutcome> {
    const random = this.options.random ?? Math.random;
    const { minDurationMs, maxDurationMs } = this.options;
    const durationMs = minDurationMs + random() * Math.max(0, maxDurationMs - minDurationMs);
    if (durationMs > 0) await sleep(durationMs, undefined, { signal });
    if (task.input.fail === 'always' || random() < this.options.failureRate) {
      return { ok: false, errorKind: 'synthetic_failure', reason: `synthetic failure after ${Math.round(durationMs)} ms` };
    }
    return { ok: true, output: { durationMs: String(Math.round(durationMs)), summary: `synthetic ${task.agentType} result for ${task.taskId}` } };
  }
}
