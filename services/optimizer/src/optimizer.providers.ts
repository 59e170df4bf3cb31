import type { ServiceContext } from '@flotilla/service-kit';
import type { Provider } from '@nestjs/common';
import { CostLedger } from './costs/cost-ledger';
import { CostStore } from './costs/infrastructure/cost-store';
import { loadPriceSheet } from './costs/infrastructure/price-sheet.loader';
import type { OptimizerConfig } from './optimizer.config';
import { COST_LEDGER, COST_QUERIES } from './optimizer.constants';

/** The optimizer's composition root: the price sheet, the cost ledger and its queries. */
export function optimizerProviders({ platform, config }: ServiceContext<OptimizerConfig>): Provider[] {
  const sheet = loadPriceSheet('PRICE_SHEET_FILE', config.PRICE_SHEET_FILE);
  const costs = new CostStore(platform.pool, platform.store.schema, sheet.currency);
  const ledger = new CostLedger(platform, sheet, costs);
  // Factories, not useValue: Nest would otherwise walk these objects to compute the module's token.
  return [
    { provide: COST_LEDGER, useFactory: () => ledger },
    { provide: COST_QUERIES, useFactory: () => costs },
  ];
}
