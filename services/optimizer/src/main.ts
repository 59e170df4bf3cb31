import { telemetry } from './instrumentation';
import { TOPICS } from '@flotilla/contracts';
import { defineService } from '@flotilla/service-kit';
import * as path from 'node:path';
import { BudgetReservationHandlers } from './budgets/budget-reservation.handlers';
import { BudgetsController } from './budgets/budgets.controller';
import { CostOutcomeHandlers } from './costs/cost-outcome.handlers';
import { CostsController } from './costs/costs.controller';
import { ExecutionEndHandlers } from './costs/execution-end.handlers';
import { optimizerConfig } from './optimizer.config';
import { PRICE_SHEET_PUBLISHER, RECOMMENDER, TIMER_POLLER } from './optimizer.constants';
import { PoolMetricsHandlers } from './recommendations/pool-metrics.handlers';
import { RecommendationsController } from './recommendations/recommendations.controller';
import { optimizerProviders } from './optimizer.providers';

void defineService(telemetry, {
  name: 'optimizer',
  httpPort: 3003,
  config: optimizerConfig,
  migrationsDir: path.resolve(__dirname, '../migrations'),
  consumers: [
    { name: 'task-outcomes', topics: [TOPICS.taskEvents] },
    // Execution endings in a group of their own: they make costs final, and never wait behind task reports.
    { name: 'execution-ends', topics: [TOPICS.executions] },
    // The budget guard's commands in a group of their own: a reservation never waits behind a burst of task reports.
    { name: 'budget-commands', topics: [TOPICS.budgetCommands] },
    { name: 'pool-metrics', topics: [TOPICS.poolMetrics] },
  ],
  controllers: [CostOutcomeHandlers, ExecutionEndHandlers, CostsController, BudgetReservationHandlers, BudgetsController, PoolMetricsHandlers, RecommendationsController],
  providers: optimizerProviders,
  background: [TIMER_POLLER, RECOMMENDER, PRICE_SHEET_PUBLISHER],
  openApi: { title: 'Flotilla optimizer', description: 'Costs (what each execution, customer and pool cost, from the ledger of task attempts) and budgets (spend, thresholds, reservations for scale-ups), recommendations about the pools.' },
});
