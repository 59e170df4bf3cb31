import { NotFoundError } from '@flotilla/domain';
import { ApiErrors, RequireRole } from '@flotilla/service-kit';
import { Controller, Get, Inject, Param } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import type { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { AGENT_POOLS } from '../agent-pool.constants';
import type { AgentPools } from './agent-pools';

const POOL_SCHEMA: SchemaObject = {
  type: 'object',
  required: ['agentType', 'workers', 'concurrency', 'inFlight', 'queued'],
  properties: {
    agentType: { type: 'string' },
    workers: { type: 'integer', minimum: 0 },
    concurrency: { type: 'integer', minimum: 0, description: 'slots' },
    inFlight: { type: 'integer', minimum: 0 },
    queued: { type: 'integer', minimum: 0 },
  },
};

/** This instance's pools as they are right now (ops): provisioned workers and slots, what runs and what waits. */
@ApiTags('pools')
@ApiBearerAuth()
@RequireRole('ops')
@Controller('v1/pools')
export class PoolsController {
  constructor(@Inject(AGENT_POOLS) private readonly pools: AgentPools) {}

  @Get()
  @ApiOperation({ summary: "This instance's pools" })
  @ApiOkResponse({ description: 'Every pool: workers, concurrency (slots), in flight, queued', schema: { type: 'object', required: ['pools'], properties: { pools: { type: 'array', items: POOL_SCHEMA } } } })
  list() {
    return { pools: this.pools.agentTypes.map((agentType) => ({ agentType, ...this.pools.snapshot(agentType) })) };
  }

  @Get(':agentType')
  @ApiOperation({ summary: 'One pool of this instance' })
  @ApiParam({ name: 'agentType', description: 'an agent type this instance runs a pool for', schema: { type: 'string' } })
  @ApiOkResponse({ description: 'The pool: workers, concurrency (slots), in flight, queued', schema: POOL_SCHEMA })
  @ApiErrors({ status: 404, description: 'This instance runs no pool for that agent type' })
  one(@Param('agentType') agentType: string) {
    if (!this.pools.agentTypes.includes(agentType)) throw new NotFoundError('pool', agentType, `this instance runs no pool for agent type ${agentType} (it runs ${this.pools.agentTypes.join(', ')})`);
    return { agentType, ...this.pools.snapshot(agentType) };
  }
}
