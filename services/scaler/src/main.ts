import { telemetry } from './instrumentation';
import { TOPICS } from '@flotilla/contracts';
import { defineService } from '@flotilla/service-kit';
import * as path from 'node:path';
import { PoolObservationHandlers } from './observations/pool-observations.handlers';
import { PriceSheetHandlers } from './prices/price-sheet.handlers';
import { PoliciesController } from './policies/policies.controller';
import { scalerConfig } from './scaler.config';
import { SAGA_TIMERS, SCALING_LOOP } from './scaler.constants';
import { scalerProviders } from './scaler.providers';

void defineService(telemetry, {
  name: 'scaler',
  httpPort: 3004,
  config: scalerConfig,
  migrationsDir: path.resolve(__dirname, '../migrations'),
  consumers: [
    // Metrics are observations: every instance reads them from now on; a lost one is superseded by the next.
    { name: 'pool-metrics', topics: [TOPICS.poolMetrics], broadcast: true },
    // The pools' news and the budgets' answers in durable groups: a saga's reply waits while the scaler is down.
    { name: 'pool-events', topics: [TOPICS.poolEvents] },
    { name: 'budgets', topics: [TOPICS.budgets] },
    // The optimizer's price sheet (a compacted topic): a new scaler reads the one in force from the beginning.
    { name: 'prices', topics: [TOPICS.prices] },
  ],
  controllers: [PoolObservationHandlers, PriceSheetHandlers, PoliciesController],
  providers: scalerProviders,
  background: [SCALING_LOOP, SAGA_TIMERS],
  openApi: { title: 'Flotilla scaler', description: 'Scaling policies, overrides and pauses per pool (ops). Decisions and scale sagas are events on flotilla.scaling.' },
});
