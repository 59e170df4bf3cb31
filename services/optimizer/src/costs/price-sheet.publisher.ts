import type { PriceSheet, PriceSheetPublished } from '@flotilla/contracts';
import { isConcurrencyError } from '@flotilla/event-store';
import { PollingLoop, type BackgroundWork, type Platform } from '@flotilla/service-kit';
import { createHash } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';

const STREAM_ID = 'PriceSheet';

/**
 * Publishes the price sheet the optimizer runs with, once per distinct sheet, on flotilla.prices (a
 * compacted topic, so it always holds the sheet in force). The scaler reserves a scale-up's budget
 * at these prices: the optimizer owns what things cost, and a second copy of a price in another
 * service's configuration would let a reservation and the spend it stands for disagree.
 *
 * The sheet's stream holds one event per sheet published; at start the last one is compared with the
 * loaded sheet by its hash and a new event is recorded (stream and outbox, one commit) only when it
 * differs. Two instances starting together race on the stream's version: the loser finds the
 * winner's event and has nothing to do. A failed attempt (the database away) is tried again.
 */
export class PriceSheetPublisher implements BackgroundWork {
  private readonly loop: PollingLoop;
  private published = false;

  constructor(
    private readonly platform: Platform,
    private readonly sheet: PriceSheet,
    retryEveryMs = 5_000,
  ) {
    // A lost race is looked at again at once; a failure backs off.
    this.loop = new PollingLoop('publishing the price sheet', async () => (await this.publishOnce()) === 'raced', platform.logger, retryEveryMs);
  }

  start(): void {
    this.loop.start();
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** Records the sheet unless it is the last one published (`current`), or finds that another instance recorded one meanwhile. */
  async publishOnce(): Promise<'recorded' | 'current' | 'raced'> {
    if (this.published) return 'current';
    const json = JSON.stringify(this.sheet);
    const sheetId = createHash('sha256').update(json).digest('hex');
    const outcome = await this.platform.store
      .withTransaction(async (tx): Promise<'recorded' | 'current'> => {
        const { version, events } = await this.platform.store.readStream<PriceSheetPublished>(STREAM_ID, tx);
        if (events.at(-1)?.data.sheetId === sheetId) return 'current';
        const data: PriceSheetPublished = { sheetId, currency: this.sheet.currency, sheet: json, publishedAt: Date.now() };
        await this.platform.store.record(
          tx,
          [{ streamId: STREAM_ID, expectedVersion: version, events: [{ eventId: uuidv7(), eventType: 'flotilla.cost.PriceSheetPublished', data, metadata: { occurredAt: data.publishedAt, correlationId: sheetId, causationId: null, traceparent: null, tracestate: null } }] }],
          this.platform.route,
        );
        return 'recorded';
      })
      .catch((error: unknown): 'raced' => {
        // Another instance recorded a sheet meanwhile: the next round looks at what it recorded.
        if (isConcurrencyError(error)) return 'raced';
        throw error;
      });
    if (outcome === 'raced') return outcome;
    this.published = true;
    if (outcome === 'recorded') {
      this.platform.relay.notifyCommitted();
      this.platform.logger.info({ sheetId, currency: this.sheet.currency }, 'price sheet published');
    }
    return outcome;
  }
}
