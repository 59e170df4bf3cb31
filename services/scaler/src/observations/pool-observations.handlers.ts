import type { PoolMetricsReported, PoolWorkerReady } from '@flotilla/contracts';
import type { ConsumedEvent } from '@flotilla/messaging';
import { Controller, Inject } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { POOL_FORECASTS, POOL_OBSERVATIONS, POOL_REPLICAS_VIEW, SCALE_SAGAS } from '../scaler.constants';
import type { PoolForecasts } from '../forecasting/pool-forecasts';
import type { ScaleSagas } from '../sagas/scale-sagas';
import type { PoolReplicasNews } from './domain/pool-replicas';
import type { PoolObservationsStore } from './pool-observations.store';
import type { PoolReplicasView } from './pool-replicas.view';

const POOL_NEWS = ['flotilla.pool.PoolReplicasChanged', 'flotilla.pool.PoolWorkerReady', 'flotilla.pool.PoolWorkerFailed', 'flotilla.pool.PoolWorkerDrained', 'flotilla.pool.PoolReplicasReached'];
const BUDGET_ANSWERS = ['flotilla.budget.BudgetReserved', 'flotilla.budget.BudgetReservationDenied', 'flotilla.budget.BudgetReservationCommitted', 'flotilla.budget.BudgetReservationReleased'];

/**
 * What the scaler hears: the pools' metrics (observations and the forecasters' input), the agent
 * pool's news of its replicas (the pools' sizes, times to ready, and the sagas' replies), and the
 * optimizer's answers to the sagas' reservations.
 */
@Controller()
export class PoolObservationHandlers {
  constructor(
    @Inject(POOL_OBSERVATIONS) private readonly observations: PoolObservationsStore,
    @Inject(POOL_FORECASTS) private readonly forecasts: PoolForecasts,
    @Inject(POOL_REPLICAS_VIEW) private readonly replicas: PoolReplicasView,
    @Inject(SCALE_SAGAS) private readonly sagas: ScaleSagas,
  ) {}

  @EventPattern('flotilla.pool.PoolMetricsReported')
  onPoolMetrics(@Payload() event: ConsumedEvent<PoolMetricsReported>): void {
    this.observations.report(event.envelope.payload);
    this.forecasts.report(event.envelope.payload);
  }

  @EventPattern(POOL_NEWS)
  async onPoolNews(@Payload() event: ConsumedEvent): Promise<void> {
    const news = { type: event.envelope.eventType, data: event.envelope.payload } as PoolReplicasNews;
    if (news.type === 'flotilla.pool.PoolWorkerReady') this.observations.workerReady(news.data.agentType, (news.data as PoolWorkerReady).timeToReadyMs);
    await this.replicas.apply(news);
    await this.sagas.reply(event);
  }

  @EventPattern(BUDGET_ANSWERS)
  onBudgetAnswer(@Payload() event: ConsumedEvent): Promise<void> {
    return this.sagas.reply(event);
  }
}
