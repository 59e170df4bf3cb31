import { telemetry } from './instrumentation';
import { TOPICS } from '@flotilla/contracts';
import { defineService } from '@flotilla/service-kit';
import * as path from 'node:path';
import { CostOutcomeHandlers } from './costs/cost-outcome.handlers';
import { CostsController } from './costs/costs.controller';
import { optimizerConfig } from './optimizer.config';
import { optimizerProviders } from './optimizer.providers';

void defineService(telemetry, {
  name: 'optimizer',
  httpPort: 3003,
  config: optimizerConfig,
  migrationsDir: path.resolve(__dirname, '../migrations'),
  consumers: [{ name: 'task-outcomes', topics: [TOPICS.taskEvents] }],
  controllers: [CostOutcomeHandlers, CostsController],
  providers: optimizerProviders,
  openApi: { title: 'Flotilla optimizer', description: 'Costs: what each execution, customer and pool cost, from the ledger of task attempts.' },
});
