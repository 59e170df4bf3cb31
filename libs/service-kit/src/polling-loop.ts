import type { Logger } from '@flotilla/observability';

/**
 * Runs `round` every `intervalMs`, or at once when nudged, until stopped. A failed round is retried
 * with backoff (doubling up to 5 s), logged at error level once per run of failures. A nudge during a round makes the next round start immediately, so
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
    let failures = 0;
    while (this.running) {
      this.pending = false;
      try {
        const again = await this.round();
        if (failures > 0) this.logger.info({ failures }, `${this.name} works again`);
        failures = 0;
        if (again === true) continue;
      } catch (error) {
        // Once per outage at error level, not every tick: a database restart would log hundreds.
        if (failures === 0) this.logger.error({ err: error }, `${this.name} failed; will retry, backing off`);
        else this.logger.debug({ err: error, failures }, `${this.name} still failing`);
        failures++;
        this.onError();
      }
      if (this.pending && failures === 0) continue;
      // Failing rounds back off (doubling, up to 5 s) rather than hammer a dependency that is away.
      const delayMs = failures === 0 ? this.intervalMs : Math.min(this.intervalMs * 2 ** Math.min(failures, 10), Math.max(this.intervalMs, 5_000));
      await new Promise<void>((resolve) => {
        const timeout = setTimeout(resolve, delayMs);
        this.wake = () => {
          clearTimeout(timeout);
          resolve();
        };
      });
    }
  }
}
