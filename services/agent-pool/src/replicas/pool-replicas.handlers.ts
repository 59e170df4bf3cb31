import type { PoolReplicasRequested } from '@flotilla/contracts';
import type { ConsumedEvent } from '@flotilla/messaging';
import { Controller, Inject } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { POOL_REPLICAS } from '../agent-pool.constants';
import type { PoolReplicasCommands } from './pool-replicas.commands';

/** Replica requests (the scale saga's, an operator's), decided on the pool's stream once each. */
@Controller()
export class PoolReplicasHandlers {
  constructor(@Inject(POOL_REPLICAS) private readonly replicas: PoolReplicasCommands) {}

  @EventPattern('flotilla.pool.PoolReplicasRequested')
  onPoolReplicasRequested(@Payload() event: ConsumedEvent<PoolReplicasRequested>): Promise<void> {
    return this.replicas.request(event);
  }
}
