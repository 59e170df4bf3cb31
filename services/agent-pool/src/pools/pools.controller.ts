import { NotFoundError } from '@flotilla/domain';
import { ApiErrors, RequireRole } from '@flotilla/service-kit';
import { Controller, Get, Inject, Param } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { AGENT_POOLS } from '../agent-pool.constants';
import type { AgentPools } from './agent-pools';

/** This instance's pools as they are right now (ops): provisioned workers and slots, what runs and what waits. */
@ApiTags('pools')
@ApiBearerAuth()
@RequireRole('ops')
@Controller('v1/pools')
export class PoolsController {
  constructor(@Inject(AGENT_POOLS) private readonly pools: AgentPools) {}

  @Get()
  @ApiOperation({ summary: "This instance's pools" })
  @ApiOkResponse({ description: 'Every pool: workers, concurrency (slots), in flight, queued' })
  @ApiErrors(401, 403)
  list() {
    return { pools: this.pools.agentTypes.map((agentType) => ({ agentType, ...this.pools.snapshot(agentType) })) };
  }

  @Get(':agentType')
  @ApiOperation({ summary: 'One pool of this instance' })
  @ApiParam({ name: 'agentType' })
  @ApiOkResponse({ description: 'The pool: workers, concurrency (slots), in flight, queued' })
  @ApiErrors(401, 403, 404)
  one(@Param('agentType') agentType: string) {
    if (!this.pools.agentTypes.includes(agentType)) throw new NotFoundError('pool', agentType, `this instance runs no pool for agent type ${agentType} (it runs ${this.pools.agentTypes.join(', ')})`);
    return { agentType, ...this.pools.snapshot(agentType) };
  }
}
