import { Controller, Get, Inject, NotFoundException, Param } from '@nestjs/common';
import { AGENT_POOLS } from '../agent-pool.constants';
import type { AgentPools } from '../application/agent-pools';

/** This instance's pools as they are right now: provisioned workers and slots, what runs and what waits. */
@Controller('v1/pools')
export class PoolsController {
  constructor(@Inject(AGENT_POOLS) private readonly pools: AgentPools) {}

  @Get()
  list() {
    return { pools: this.pools.agentTypes.map((agentType) => ({ agentType, ...this.pools.snapshot(agentType) })) };
  }

  @Get(':agentType')
  one(@Param('agentType') agentType: string) {
    if (!this.pools.agentTypes.includes(agentType)) throw new NotFoundException(`this instance runs no pool for agent type ${agentType} (it runs ${this.pools.agentTypes.join(', ')})`);
    return { agentType, ...this.pools.snapshot(agentType) };
  }
}
