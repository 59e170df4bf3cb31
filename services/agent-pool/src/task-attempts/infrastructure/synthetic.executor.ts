import type { TaskDispatched } from '@flotilla/contracts';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ExecutionContext, ExecutorOutcome, TaskExecutor } from '../task-executor';

export interface SyntheticExecutorOptions {
  readonly minDurationMs: number;
  readonly maxDurationMs: number;
  /** Probability in [0, 1] that an attempt fails. */
  readonly failureRate: number;
  readonly heartbeatEveryMs?: number;
  readonly random?: () => number;
}

/**
 * Stands in for a real agent in load tests and the demo: works for a duration drawn uniformly from
 * [min, max], heartbeating as it goes, and fails with the configured probability. Task inputs steer it
 * in tests and demos: `duration_ms` fixes the duration, `fail: "always"` fails every attempt,
 * `fail_until_attempt: "N"` fails attempts up to N, `hang: "true"` stops heartbeating and never returns,
 * `tokens: "N"` is reported back in the output as the units the task consumed.
 */
export class SyntheticExecutor implements TaskExecutor {
  constructor(private readonly options: SyntheticExecutorOptions) {}

  async run(task: TaskDispatched, { signal, heartbeat }: ExecutionContext): Promise<ExecutorOutcome> {
    const random = this.options.random ?? Math.random;
    if (task.input.hang === 'true') {
      await sleep(2_147_483_647, undefined, { signal });
    }
    const { minDurationMs, maxDurationMs } = this.options;
    const durationMs = task.input.duration_ms ? Number(task.input.duration_ms) : minDurationMs + random() * Math.max(0, maxDurationMs - minDurationMs);
    const step = this.options.heartbeatEveryMs ?? 1_000;
    for (let elapsed = 0; elapsed < durationMs; elapsed += step) {
      await sleep(Math.min(step, durationMs - elapsed), undefined, { signal });
      heartbeat(Math.min(1, (elapsed + step) / durationMs));
    }
    const failUntil = Number(task.input.fail_until_attempt ?? 0);
    if (task.input.fail === 'always' || task.attempt <= failUntil || random() < this.options.failureRate) {
      return { ok: false, errorKind: 'synthetic_failure', reason: `synthetic failure of attempt ${task.attempt} after ${Math.round(durationMs)} ms` };
    }
    // `tokens` is echoed as the units the task consumed, as a model-calling agent reports them (priced by the optimizer).
    const tokens: Record<string, string> = task.input.tokens ? { tokens: task.input.tokens } : {};
    return { ok: true, output: { durationMs: String(Math.round(durationMs)), summary: `synthetic ${task.agentType} result for ${task.taskId}`, ...tokens } };
  }
}
