import type { PriceSheetPublished } from '@flotilla/contracts';

/** The optimizer's last price sheet the scaler heard of, kept so that a restart prices with it at once. */
export interface PriceSheetRows {
  load(): Promise<PriceSheetPublished | null>;
  /** Keeps `published` unless the kept sheet was published later; whether it was kept. */
  saveIfNewer(published: PriceSheetPublished): Promise<boolean>;
}
