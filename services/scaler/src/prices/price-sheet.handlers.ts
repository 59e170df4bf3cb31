import type { PriceSheetPublished } from '@flotilla/contracts';
import type { ConsumedEvent } from '@flotilla/messaging';
import { Controller, Inject } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { WORKER_PRICES } from '../scaler.constants';
import type { WorkerPrices } from './worker-prices';

/** The optimizer's price sheet, each time it changes. */
@Controller()
export class PriceSheetHandlers {
  constructor(@Inject(WORKER_PRICES) private readonly prices: WorkerPrices) {}

  @EventPattern('flotilla.cost.PriceSheetPublished')
  onPriceSheet(@Payload() event: ConsumedEvent<PriceSheetPublished>): Promise<void> {
    return this.prices.published(event.envelope.payload);
  }
}
