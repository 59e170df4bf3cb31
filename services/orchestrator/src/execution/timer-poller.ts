import { contextFromTraceparent, inSpan, type Logger } from '@flotilla/observability';
import type { ExecutionCommands } from './execution-commands';
import { PollingLoop } from '@flotilla/service-kit';

/**
 * Fires due timers as FireTimer commands. Each firing is recorded in the inbox under the timer's
 * identity, so a timer that fired just before a crash (but was not yet deleted) fires only once.
 */
export class TimerPoller {
  private readonly loop: PollingLoop;

  constructor(
    private readonly executions: ExecutionCommands,
    logger: Logger,
    private readonly options: { readonly intervalMs: number; readonly batchSize: number } = { intervalMs: 200, batchSize: 100 },
  ) {
    this.loop = new PollingLoop('firing timers', () => this.fireDue(), logger, options.intervalMs);
  }

  start(): void {
    this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** Fires what is due; true when the batch was full, so that the loop goes again at once. */
  private async fireDue(): Promise<boolean> {
    const due = await this.executions.timers.due(Date.now(), this.options.batchSize);
    for (const timer of due) {
      const id = `timer:${timer.executionId}:${timer.taskId}:${timer.attempt}:${timer.kind}:${timer.dueAt}`;
      await inSpan(`timer.fire ${timer.kind}`, { parent: contextFromTraceparent(timer.traceparent, null), attributes: { 'flotilla.correlation_id': timer.executionId, 'flotilla.task_id': timer.taskId } }, () =>
        this.executions.apply(timer.executionId, { type: 'FireTimer', timer, settings: this.executions.settings, now: Date.now() }, { causationId: null, inboxId: id }),
      );
      await this.executions.timers.remove(timer);
    }
    return due.length === this.options.batchSize;
  }
}
