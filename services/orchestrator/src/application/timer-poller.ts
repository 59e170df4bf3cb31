import { contextFromTraceparent, inSpan, type Logger } from '@flotilla/observability';
import type { ExecutionCommands } from './execution-commands';

/**
 * Fires due timers as FireTimer commands. Each firing is recorded in the inbox under the timer's
 * identity, so a timer that fired just before a crash (but was not yet deleted) fires only once.
 */
export class TimerPoller {
  private running = false;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;

  constructor(
    private readonly executions: ExecutionCommands,
    private readonly logger: Logger,
    private readonly options: { readonly intervalMs: number; readonly batchSize: number } = { intervalMs: 200, batchSize: 100 },
  ) {}

  start(): void {
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    while (this.running) {
      try {
        const due = await this.executions.timers.due(Date.now(), this.options.batchSize);
        for (const timer of due) {
          const id = `timer:${timer.executionId}:${timer.taskId}:${timer.attempt}:${timer.kind}:${timer.dueAt}`;
          await inSpan(`timer.fire ${timer.kind}`, { parent: contextFromTraceparent(timer.traceparent, null), attributes: { 'flotilla.correlation_id': timer.executionId, 'flotilla.task_id': timer.taskId } }, () =>
            this.executions.apply(timer.executionId, { type: 'FireTimer', timer, settings: this.executions.settings, now: Date.now() }, { causationId: null, inboxId: id }),
          );
          await this.executions.timers.remove(timer);
        }
        if (due.length === this.options.batchSize) continue;
      } catch (error) {
        this.logger.error({ err: error }, 'firing timers failed; will retry');
      }
      await new Promise<void>((resolve) => {
        const timeout = setTimeout(resolve, this.options.intervalMs);
        this.wake = () => {
          clearTimeout(timeout);
          resolve();
        };
      });
    }
  }
}
