import type { DueTimer, DurableTimers } from '@flotilla/event-store';
import { contextFromTraceparent, inSpan, type Logger } from '@flotilla/observability';
import type { BackgroundWork } from './define-service';
import { PollingLoop } from './polling-loop';

export interface TimerPollerOptions<Payload> {
  readonly intervalMs?: number;
  readonly batchSize?: number;
  /** Span name of one firing, e.g. `timer.fire heartbeat`. */
  readonly spanName?: (timer: DueTimer<Payload>) => string;
  readonly spanAttributes?: (timer: DueTimer<Payload>) => Record<string, string>;
}

/**
 * Fires due durable timers, earliest first, each in the trace of the command that started it, then
 * removes it. `fire` must be idempotent per (timer id, due time) — record it in the inbox — because a
 * crash between firing and removing fires the timer again after the restart.
 */
export class TimerPoller<Payload> implements BackgroundWork {
  private readonly loop: PollingLoop;
  private readonly batchSize: number;

  constructor(
    private readonly timers: DurableTimers<Payload>,
    private readonly fire: (timer: DueTimer<Payload>) => Promise<void>,
    logger: Logger,
    private readonly options: TimerPollerOptions<Payload> = {},
  ) {
    this.batchSize = options.batchSize ?? 100;
    this.loop = new PollingLoop('firing timers', () => this.fireDue(), logger, options.intervalMs ?? 200);
  }

  start(): void {
    this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** Fires what is due; true when the batch was full, so that the loop goes again at once. */
  private async fireDue(): Promise<boolean> {
    const due = await this.timers.due(Date.now(), this.batchSize);
    for (const timer of due) {
      await inSpan(this.options.spanName?.(timer) ?? 'timer.fire', { parent: contextFromTraceparent(timer.traceparent, null), attributes: this.options.spanAttributes?.(timer) ?? {} }, () =>
        this.fire(timer),
      );
      await this.timers.remove(timer);
    }
    return due.length === this.batchSize;
  }
}

/** The inbox id of one firing of a timer: a timer moved later and fired again is a new firing. */
export function timerFiringId(timer: DueTimer<unknown>): string {
  return `timer:${timer.timerId}:${timer.dueAt}`;
}
