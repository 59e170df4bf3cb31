import { NotFoundError } from '@flotilla/domain';
import { ApiErrors, ApiPathParam, ApiQueryFrom, AuthError, CurrentPrincipal, dateTime, parseInput, text, type Principal } from '@flotilla/service-kit';
import { Controller, Get, Inject, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { COST_QUERIES } from '../optimizer.constants';
import { CUSTOMER_COST_SCHEMA, EXECUTION_COST_SCHEMA, POOL_COSTS_SCHEMA } from './costs.openapi';
import type { CostLedgerRows } from './ports';

const executionIdParam = text().min(1).max(200).describe('execution id');
const customerIdParam = text().min(1).max(200).describe('customer id');
const rangeQuery = z
  .object({
    from: dateTime().optional().describe('attempts ended at or after (RFC 3339 date-time with an offset)'),
    to: dateTime().optional().describe('attempts ended before (RFC 3339 date-time with an offset)'),
    access_token: z.string().optional(),
  })
  .strict();

/** The cost ledger read back: per execution, per customer (by pool and hour), per pool. Every route needs a token. */
@ApiTags('costs')
@ApiBearerAuth()
@Controller('v1/costs')
export class CostsController {
  constructor(@Inject(COST_QUERIES) private readonly costs: CostLedgerRows) {}

  @Get('executions/:id')
  @ApiOperation({ summary: "What an execution cost so far, attempt by attempt; final once it ended. 404 for unknown ids and for other customers' executions" })
  @ApiPathParam('id', executionIdParam)
  @ApiOkResponse({ description: "The execution's cost", schema: EXECUTION_COST_SCHEMA })
  @ApiErrors(400, { status: 404, description: 'No attempt of this execution has ended (yet), or it is another customer’s' })
  async execution(@CurrentPrincipal() principal: Principal, @Param('id') idParam: string) {
    const id = parseInput(executionIdParam, idParam, 'id');
    const cost = await this.costs.execution(id);
    // Another customer's execution answers exactly like a missing one: its existence is not leaked.
    if (!cost || (principal.role === 'customer' && cost.customerId !== principal.customerId)) throw new NotFoundError('execution cost', id, `no attempt of execution ${id} has been costed (yet)`);
    return cost;
  }

  @Get('customers/:id')
  @ApiOperation({ summary: "A customer's spend, by pool and by hour, optionally within [from, to); a customer token reads only its own (403)" })
  @ApiPathParam('id', customerIdParam)
  @ApiQueryFrom(rangeQuery)
  @ApiOkResponse({ description: "The customer's spend", schema: CUSTOMER_COST_SCHEMA })
  @ApiErrors(400, { status: 404, description: 'No costed attempt of this customer in the range' })
  async customer(@CurrentPrincipal() principal: Principal, @Param('id') idParam: string, @Query() query: unknown) {
    const id = parseInput(customerIdParam, idParam, 'id');
    if (principal.role !== 'ops' && principal.customerId !== id) throw new AuthError(403, `a customer token may only read customer ${principal.customerId}`);
    const range = parseInput(rangeQuery, query, '(query)');
    const cost = await this.costs.customer(id, range);
    if (!cost) throw new NotFoundError('customer cost', id, `customer ${id} has no costed attempt in this range`);
    return cost;
  }

  @Get('pools')
  @ApiOperation({ summary: 'Spend per pool (agent type), optionally within [from, to): ops only (403 for a customer token)' })
  @ApiQueryFrom(rangeQuery)
  @ApiOkResponse({ description: 'Spend per pool', schema: POOL_COSTS_SCHEMA })
  @ApiErrors(400)
  async pools(@CurrentPrincipal() principal: Principal, @Query() query: unknown) {
    if (principal.role !== 'ops') throw new AuthError(403, 'spend per pool is for ops; a customer token reads its own at /v1/costs/customers/{id}');
    const range = parseInput(rangeQuery, query, '(query)');
    return { currency: this.costs.currency, pools: await this.costs.pools(range) };
  }
}
