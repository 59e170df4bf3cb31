import { pricesFor, type PriceSheet, type PriceSheetPublished } from '@flotilla/contracts';
import type { Logger } from '@flotilla/observability';
import type { PriceSheetRows } from './ports';

export interface WorkerHourPrice {
  readonly micros: number;
  /** optimizer: from its published sheet; configuration: WORKER_HOUR_PRICE_MICROS, before any sheet was heard. */
  readonly source: 'optimizer' | 'configuration';
}

/**
 * What a worker-hour of each pool costs, as the optimizer prices it: its price sheet, published on
 * flotilla.prices and kept here (table and memory). A scale-up's reservation is priced with it, so
 * the money reserved and the spend the optimizer later records come from the same sheet. Until a
 * sheet has been heard (a scaler started before any optimizer ever ran) the configured price stands
 * in, and the pool's reservations say so in the log once.
 */
export class WorkerPrices {
  private sheet: PriceSheet | null = null;
  private publishedAt = 0;
  private loading: Promise<void> | null = null;
  private warnedFallback = false;

  constructor(
    private readonly rows: PriceSheetRows,
    private readonly fallbackMicros: number,
    private readonly logger: Logger,
  ) {}

  /** Reads the kept sheet once (after the service's migrations have run). */
  loaded(): Promise<void> {
    this.loading ??= this.rows.load().then((kept) => {
      if (kept) this.use(kept);
    });
    return this.loading;
  }

  /** A sheet from the optimizer: kept unless a later one is; applying the same one twice changes nothing. */
  async published(published: PriceSheetPublished): Promise<void> {
    await this.loaded();
    if (await this.rows.saveIfNewer(published)) {
      this.use(published);
      this.logger.info({ sheetId: published.sheetId, currency: published.currency }, 'the optimizer\'s price sheet is in force for scale reservations');
    }
  }

  workerHour(agentType: string): WorkerHourPrice {
    if (this.sheet) return { micros: pricesFor(this.sheet, agentType).workerHourMicros, source: 'optimizer' };
    if (!this.warnedFallback) {
      this.warnedFallback = true;
      this.logger.warn({ agentType, micros: this.fallbackMicros }, 'no price sheet heard from the optimizer yet: reserving at WORKER_HOUR_PRICE_MICROS');
    }
    return { micros: this.fallbackMicros, source: 'configuration' };
  }

  private use(published: PriceSheetPublished): void {
    if (published.publishedAt < this.publishedAt) return;
    this.sheet = JSON.parse(published.sheet) as PriceSheet;
    this.publishedAt = published.publishedAt;
  }
}
