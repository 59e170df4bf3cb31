import { DurableTimers } from '@flotilla/event-store';
import { TimerPoller, timerFiringId, type ServiceContext } from '@flotilla/service-kit';
import type { Provider } from '@nestjs/common';
import { BudgetCommands, type ReservationExpiry } from './budgets/budget-commands';
import { BudgetStore } from './budgets/infrastructure/budget-store';
import { CostLedger } from './costs/cost-ledger';
import { ExecutionCostCommands, isExecutionCostGrace, type ExecutionCostGrace } from './costs/execution-cost-commands';
import { CostStore } from './costs/infrastructure/cost-store';
import { ExecutionCostStore } from './costs/infrastructure/execution-cost-store';
import { loadPriceSheet } from './costs/infrastructure/price-sheet.loader';
import { PriceSheetPublisher } from './costs/price-sheet.publisher';
import type { OptimizerConfig } from './optimizer.config';
import {
  BUDGET_COMMANDS,
  BUDGET_QUERIES,
  COST_LEDGER,
  COST_QUERIES,
  EXECUTION_COST_ROWS,
  EXECUTION_COSTS,
  POOL_SAMPLES,
  PRICE_SHEET,
  PRICE_SHEET_PUBLISHER,
  PROVISIONED_CAPACITY,
  RECOMMENDATION_ROWS,
  RECOMMENDER,
  TIMER_POLLER,
} from './optimizer.constants';
import { DEFAULT_OVER_PROVISIONING } from './recommendations/domain/over-provisioning';
import { PostgresPoolSamples, PostgresRecommendationRows } from './recommendations/infrastructure/recommendation-store';
import { Recommender } from './recommendations/recommender';

/** The optimizer's composition root: the price sheet, the cost ledger, execution costs and budgets with their timers, recommendations. */
export function optimizerProviders({ platform, config }: ServiceContext<OptimizerConfig>): Provider[] {
  const sheet = loadPriceSheet('PRICE_SHEET_FILE', config.PRICE_SHEET_FILE);
  const costs = new CostStore(platform.pool, platform.store.schema, sheet.currency);
  const budgetRows = new BudgetStore(platform.pool, platform.store.schema);
  const budgets = new BudgetCommands(platform, budgetRows);
  const executionCostRows = new ExecutionCostStore(platform.pool, platform.store.schema);
  const executionCosts = new ExecutionCostCommands(platform, executionCostRows, { currency: sheet.currency, graceMs: config.EXECUTION_COST_GRACE_MS });
  const ledger = new CostLedger(platform, sheet, costs, budgets, executionCosts);
  // One poller for the service's durable timers, of two kinds. A firing is recorded in the inbox under
  // the timer's identity and due time, so that it applies once. An unreleased reservation releases
  // itself when it expires (its timers predate the kinds, and carry none); an execution whose attempts
  // did not all report within the grace period gets its final cost with those counted missing.
  const poller = new TimerPoller(
    new DurableTimers<ReservationExpiry | ExecutionCostGrace>(platform.pool, platform.store.schema),
    async (timer) => {
      const { payload } = timer;
      if (isExecutionCostGrace(payload)) await executionCosts.expireGrace(payload.executionId, { inboxId: timerFiringId(timer) });
      else await budgets.apply(payload.budgetId, { type: 'Expire', reservationId: payload.reservationId, now: Date.now() }, { causationId: null, inboxId: timerFiringId(timer) });
    },
    platform.logger,
    {
      spanName: (timer) => (isExecutionCostGrace(timer.payload) ? 'timer.fire execution_cost_grace' : 'timer.fire reservation_expiry'),
      spanAttributes: ({ payload }): Record<string, string> =>
        isExecutionCostGrace(payload) ? { 'flotilla.execution_id': payload.executionId } : { 'flotilla.budget_id': payload.budgetId, 'flotilla.reservation_id': payload.reservationId },
    },
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
    { provide: EXECUTION_COSTS, useFactory: () => executionCosts },
    { provide: EXECUTION_COST_ROWS, useFactory: () => executionCostRows },
    { provide: BUDGET_COMMANDS, useFactory: () => budgets },
    { provide: BUDGET_QUERIES, useFactory: () => budgetRows },
    { provide: TIMER_POLLER, useFactory: () => poller },
    { provide: POOL_SAMPLES, useFactory: () => samples },
    { provide: RECOMMENDATION_ROWS, useFactory: () => recommendationRows },
    { provide: RECOMMENDER, useFactory: () => recommender },
    { provide: PRICE_SHEET, useFactory: () => sheet },
    { provide: PRICE_SHEET_PUBLISHER, useFactory: () => new PriceSheetPublisher(platform, sheet) },
    // The pools' metrics reports (kept by the recommendations) are also what idle cost is measured against.
    { provide: PROVISIONED_CAPACITY, useFactory: () => samples },
  ];
}
