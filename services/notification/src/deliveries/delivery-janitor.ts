import { PollingLoop, type BackgroundWork, type Platform } from '@flotilla/service-kit';
import type { Deliveries } from './deliveries';

/**
 * Keeps the delivery records from growing for ever: finished deliveries (succeeded or dead-lettered),
 * the execution kinds heard and the inbound delivery ids go once older than the retention period
 * (30 days by default: past every event topic's own retention but the audit topics', so a replayed
 * topic finds the inbox, not the pruned rows, saying what was done). Pending deliveries stay
 * however old. Idempotent: several instances may prune at once.
 */
export class DeliveryJanitor implements BackgroundWork {
  private readonly loop: PollingLoop;

  constructor(
    platform: Platform,
    private readonly deliveries: Deliveries,
    private readonly retentionMs: number,
    intervalMs: number,
  ) {
    this.loop = new PollingLoop(
      'pruning finished deliveries',
      async () => {
        const pruned = await this.deliveries.prune(this.retentionMs);
        if (pruned > 0) platform.logger.info({ pruned, retentionMs }, 'finished deliveries pruned');
      },
      platform.logger,
      intervalMs,
    );
  }

  start(): void {
    this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }
}
