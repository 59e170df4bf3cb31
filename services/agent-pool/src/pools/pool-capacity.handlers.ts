import type { PoolCapacityChangeRequested } from '@flotilla/contracts';
import { AGENT_TYPES, TOPICS } from '@flotilla/contracts';
import type { ConsumedEvent } from '@flotilla/messaging';
import { currentTraceContext } from '@flotilla/observability';
import { PLATFORM, type Platform } from '@flotilla/service-kit';
import { Controller, Inject } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { v7 as uuidv7 } from 'uuid';
import { AGENT_POOL_SETTINGS, AGENT_POOLS, type AgentPoolSettings } from '../agent-pool.constants';
import { initialPoolCapacityState, type PoolCapacityState } from './domain/pool-capacity';
import { poolCapacityDecider } from './domain/pool-capacity.decider';
import type { AgentPools } from './agent-pools';

/**
 * Capacity commands, read by every instance (each applies them to its own pools, see the decider for
 * the rules) and answered with PoolCapacityProvisioned. The capacity lives with the process: a
 * restarted instance starts from POOL_CONCURRENCY again and says so in its metrics reports. A
 * redelivered command (e.g. after the answer could not be published) is answered the same.
 */
@Controller()
export class PoolCapacityHandlers {
  private state: PoolCapacityState;

  constructor(
    @Inject(PLATFORM) private readonly platform: Platform,
    @Inject(AGENT_POOLS) private readonly pools: AgentPools,
    @Inject(AGENT_POOL_SETTINGS) private readonly settings: AgentPoolSettings,
  ) {
    this.state = initialPoolCapacityState(pools.capacities());
  }

  @EventPattern('flotilla.pool.PoolCapacityChangeRequested')
  async onPoolCapacityChangeRequested(@Payload() event: ConsumedEvent<PoolCapacityChangeRequested>): Promise<void> {
    const request = event.envelope.payload;
    const events = poolCapacityDecider.decide(
      { type: 'ChangePoolCapacity', request, instanceId: this.settings.instanceId, knownAgentTypes: AGENT_TYPES, bounds: this.settings.capacityBounds, now: Date.now() },
      this.state,
    );
    this.state = events.reduce(poolCapacityDecider.evolve, this.state);
    const capacity = this.state.pools[request.agentType];
    if (capacity) this.pools.setCapacity(request.agentType, capacity);
    for (const { data } of events) {
      this.platform.logger.info({ ...data }, 'pool capacity command answered');
    }
    await this.platform.publisher.publish(
      events.map(({ type, data }) => ({
        topic: this.platform.topic(TOPICS.poolEvents.name),
        key: data.agentType,
        envelope: {
          eventId: uuidv7(),
          eventType: type,
          aggregateId: `Pool-${data.agentType}-${data.instanceId}`,
          aggregateVersion: 0,
          occurredAt: data.provisionedAt,
          correlationId: data.requestId,
          causationId: event.envelope.eventId,
          ...currentTraceContext(),
          payload: data,
        },
      })),
    );
  }
}
