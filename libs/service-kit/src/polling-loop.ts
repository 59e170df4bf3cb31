import type { Logger } from '@flotilla/observability';

/**
 * Runs `round` every `intervalMs`, or at once when nudged, until stopped; a failed round is logged
 * and retried at the next tick. A nudge during a round makes the next round start immediately, so
 * no change is left waiting for the tick. `round` returns true when it wants to go again at once
 * (it stopped at a batch limit).
 */
export class PollingLoop {
  private running = false;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private pending = false;

  constructor(
    private readonly name: string,
    private readonly round: () => Promise<boolean | void>,
    private readonly logger: Logger,
    private readonly intervalMs: number,
    private readonly onError: () => void = () => {},
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

  nudge(): void {
    this.pending = true;
    this.wake?.();
  }

  private async run(): Promise<void> {
    while (this.running) {
      this.pending = false;
      try {
        if ((await this.round()) === true) continue;
      } catch (error) {
        this.logger.error({ err: error }, `${this.name} failed; will retry`);
        this.onError();
      }
      if (this.pending) continue;
      await new Promise<void>((resolve) => {
        const timeout = setTimeout(resolve, this.intervalMs);
        this.wake = () => {
          clearTimeout(timeout);
          resolve();
        };
      });
    }
  }
}
