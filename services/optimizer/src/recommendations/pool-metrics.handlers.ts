import type { PoolMetricsReported } from '@flotilla/contracts';
import type { ConsumedEvent } from '@flotilla/messaging';
import { Controller, Inject } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { POOL_SAMPLES } from '../optimizer.constants';
import type { PoolSamples } from './ports';

/** Keeps each pool metrics report as a sample for the recommendations (a redelivery is the same row). */
@Controller()
export class PoolMetricsHandlers {
  constructor(@Inject(POOL_SAMPLES) private readonly samples: PoolSamples) {}

  @EventPattern('flotilla.pool.PoolMetricsReported')
  async onPoolMetrics(@Payload() event: ConsumedEvent<PoolMetricsReported>): Promise<void> {
    const m = event.envelope.payload;
    await this.samples.insert(m.agentType, { instanceId: m.instanceId, windowStartedAt: m.windowStartedAt, windowEndedAt: m.windowEndedAt, workers: m.workers, concurrency: m.concurrency, utilization: m.utilization });
  }
}
