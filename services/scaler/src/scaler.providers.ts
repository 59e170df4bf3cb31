import { AdvisoryLeadership, TimerPoller, type ServiceContext } from '@flotilla/service-kit';
import type { Provider } from '@nestjs/common';
import { PostgresForecasterRows } from './forecasting/infrastructure/forecaster-rows';
import { PoolForecasts } from './forecasting/pool-forecasts';
import { KafkaGroupLag } from './observations/infrastructure/group-lag';
import { PostgresPoolReplicas } from './observations/infrastructure/pool-replicas.store';
import { PoolObservationsStore } from './observations/pool-observations.store';
import { PoolReplicasView } from './observations/pool-replicas.view';
import { PostgresPriceSheetRows } from './prices/infrastructure/price-sheet-rows';
import { WorkerPrices } from './prices/worker-prices';
import { PostgresSagaRows } from './sagas/infrastructure/saga-rows';
import { ScaleSagas } from './sagas/scale-sagas';
import type { ScalerConfig } from './scaler.config';
import { POOL_FORECASTS, POOL_OBSERVATIONS, POOL_REPLICAS_VIEW, SAGA_TIMERS, SCALE_SAGA_ROWS, SCALE_SAGAS, SCALING_LOOP, SCALING_POOLS, WORKER_PRICES } from './scaler.constants';
import { PostgresScalingPoolRows } from './scaling/infrastructure/scaling-pool-rows';
import { ScalingLoop } from './scaling/scaling-loop';
import { ScalingPools } from './scaling/scaling-pools';

/** The scaler's composition root: pools under policies, what it sees of them, the forecasts, the optimizer's prices, the sagas and their timers. */
export function scalerProviders({ platform, config }: ServiceContext<ScalerConfig>): Provider[] {
  const schema = platform.store.schema;
  const sagaRows = new PostgresSagaRows(platform.pool, schema);
  const prices = new WorkerPrices(new PostgresPriceSheetRows(platform.pool, schema), config.WORKER_HOUR_PRICE_MICROS, platform.logger);
  const sagas = new ScaleSagas(platform, sagaRows, (agentType) => ({ workerHourPriceMicros: prices.workerHour(agentType).micros, policy: { horizonMs: 3_600_000, requireBudget: false } }));
  const pools = new ScalingPools(platform, new PostgresScalingPoolRows(platform.pool, schema), sagas);
  const observations = new PoolObservationsStore();
  const replicas = new PoolReplicasView(new PostgresPoolReplicas(platform.pool, schema));
  const forecasts = new PoolForecasts(new PostgresForecasterRows(platform.pool, schema), platform.logger);
  const loop = new ScalingLoop({
    pools,
    observations,
    replicas,
    lag: new KafkaGroupLag(platform.kafka, platform.namespace),
    forecasts,
    prices,
    scaled: config.SCALED_AGENT_TYPES,
    staleAfterMs: config.METRICS_STALE_AFTER_MS,
    intervalMs: config.SCALER_INTERVAL_MS,
    logger: platform.logger,
    leadership: new AdvisoryLeadership(platform.pool, { name: `${platform.store.schema}.scaling-loop`, logger: platform.logger }),
  });
  const timers = new TimerPoller(sagas.timers, (timer) => sagas.fire(timer), platform.logger, { spanName: () => 'scale.saga.timer', spanAttributes: (timer) => ({ 'flotilla.saga_id': timer.payload.sagaId }) });
  // Factories, not useValue: Nest would otherwise walk these objects to compute the module token.
  return [
    { provide: SCALING_POOLS, useFactory: () => pools },
    { provide: SCALE_SAGAS, useFactory: () => sagas },
    { provide: SCALE_SAGA_ROWS, useFactory: () => sagaRows },
    { provide: POOL_OBSERVATIONS, useFactory: () => observations },
    { provide: POOL_REPLICAS_VIEW, useFactory: () => replicas },
    { provide: POOL_FORECASTS, useFactory: () => forecasts },
    { provide: SCALING_LOOP, useFactory: () => loop },
    { provide: SAGA_TIMERS, useFactory: () => timers },
    { provide: WORKER_PRICES, useFactory: () => prices },
  ];
}
