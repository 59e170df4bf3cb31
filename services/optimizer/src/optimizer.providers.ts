import { TimerPoller, timerFiringId, type ServiceContext } from '@flotilla/service-kit';
import type { Provider } from '@nestjs/common';
import { BudgetCommands } from './budgets/budget-commands';
import { BudgetStore } from './budgets/infrastructure/budget-store';
import { CostLedger } from './costs/cost-ledger';
import { CostStore } from './costs/infrastructure/cost-store';
import { loadPriceSheet } from './costs/infrastructure/price-sheet.loader';
import type { OptimizerConfig } from './optimizer.config';
import { BUDGET_COMMANDS, BUDGET_QUERIES, COST_LEDGER, COST_QUERIES, POOL_SAMPLES, PRICE_SHEET, PROVISIONED_CAPACITY, RECOMMENDATION_ROWS, RECOMMENDER, TIMER_POLLER } from './optimizer.constants';
import { DEFAULT_OVER_PROVISIONING } from './recommendations/domain/over-provisioning';
import { PostgresPoolSamples, PostgresRecommendationRows } from './recommendations/infrastructure/recommendation-store';
import { Recommender } from './recommendations/recommender';

/** The optimizer's composition root: the price sheet, the cost ledger, budgets and their expiry timers, recommendations. */
export function optimizerProviders({ platform, config }: ServiceContext<OptimizerConfig>): Provider[] {
  const sheet = loadPriceSheet('PRICE_SHEET_FILE', config.PRICE_SHEET_FILE);
  const costs = new CostStore(platform.pool, platform.store.schema, sheet.currency);
  const budgetRows = new BudgetStore(platform.pool, platform.store.schema);
  const budgets = new BudgetCommands(platform, budgetRows);
  const ledger = new CostLedger(platform, sheet, costs, budgets);
  // An unreleased reservation releases itself when it expires: a firing is an Expire command,
  // recorded in the inbox under the timer's identity and due time so that it applies once.
  const poller = new TimerPoller(
    budgets.timers,
    async (timer) => {
      await budgets.apply(timer.payload.budgetId, { type: 'Expire', reservationId: timer.payload.reservationId, now: Date.now() }, { causationId: null, inboxId: timerFiringId(timer) });
    },
    platform.logger,
    { spanName: () => 'timer.fire reservation_expiry', spanAttributes: (timer) => ({ 'flotilla.budget_id': timer.payload.budgetId, 'flotilla.reservation_id': timer.payload.reservationId }) },
  );
  const samples = new PostgresPoolSamples(platform.pool, platform.store.schema);
  const recommendationRows = new PostgresRecommendationRows(platform.pool, platform.store.schema);
  const recommender = new Recommender(
    platform,
    samples,
    recommendationRows,
    sheet,
    { ...DEFAULT_OVER_PROVISIONING, utilizationBelow: config.OVER_PROVISIONED_BELOW, windowMs: config.RECOMMENDATION_WINDOW_MS, minSamples: config.RECOMMENDATION_MIN_SAMPLES },
    config.RECOMMENDATION_INTERVAL_MS,
  );
  // Factories, not useValue: Nest would otherwise walk these objects to compute the module's token.
  return [
    { provide: COST_LEDGER, useFactory: () => ledger },
    { provide: COST_QUERIES, useFactory: () => costs },
    { provide: BUDGET_COMMANDS, useFactory: () => budgets },
    { provide: BUDGET_QUERIES, useFactory: () => budgetRows },
    { provide: TIMER_POLLER, useFactory: () => poller },
    { provide: POOL_SAMPLES, useFactory: () => samples },
    { provide: RECOMMENDATION_ROWS, useFactory: () => recommendationRows },
    { provide: RECOMMENDER, useFactory: () => recommender },
    { provide: PRICE_SHEET, useFactory: () => sheet },
    // The pools' metrics reports (kept by the recommendations) are also what idle cost is measured against.
    { provide: PROVISIONED_CAPACITY, useFactory: () => samples },
  ];
}
