import type { Logger } from '@flotilla/observability';
import type { BackgroundWork } from '@flotilla/service-kit';

/**
 * In a worker process: leaves when the agent pool that started it is gone (its parent changed). A
 * worker nobody watches would go on taking dispatches uncounted, and after a restart of the agent
 * pool the pool would run more workers than its record says; so it drains (SIGTERM to itself: stop
 * fetching, finish or hand back, record how it ended) and the restarted agent pool replaces it.
 */
export class OrphanWatch implements BackgroundWork {
  private timer: NodeJS.Timeout | null = null;
  private readonly parent = process.ppid;

  constructor(
    private readonly logger: Logger,
    private readonly everyMs = 1_000,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      if (process.ppid === this.parent) return;
      this.logger.warn({ parent: this.parent }, 'the agent pool that started this worker is gone: draining and leaving');
      this.stopTimer();
      process.kill(process.pid, 'SIGTERM');
    }, this.everyMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopTimer();
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
