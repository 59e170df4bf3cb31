import { NotFoundError } from '@flotilla/domain';
import { ApiErrors, ApiPathParam, ApiQueryFrom, assertMayActFor, assertOps, CurrentPrincipal, dateTime, parseInput, text, type Principal } from '@flotilla/service-kit';
import { Controller, Get, Inject, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { COST_QUERIES, EXECUTION_COST_ROWS, PRICE_SHEET, PROVISIONED_CAPACITY } from '../optimizer.constants';
import { idleCost } from './domain/attempt-cost';
import { pricesFor, type PriceSheet } from '@flotilla/contracts';
import { CUSTOMER_COST_SCHEMA, EXECUTION_COST_SCHEMA, POOL_COSTS_SCHEMA } from './costs.openapi';
import type { CostLedgerRows, ExecutionCost, ExecutionCostRows, ProvisionedCapacity } from './ports';

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
  constructor(
    @Inject(COST_QUERIES) private readonly costs: CostLedgerRows,
    @Inject(PROVISIONED_CAPACITY) private readonly capacity: ProvisionedCapacity,
    @Inject(PRICE_SHEET) private readonly sheet: PriceSheet,
    @Inject(EXECUTION_COST_ROWS) private readonly finality: ExecutionCostRows,
  ) {}

  @Get('executions/:id')
  @ApiOperation({
    summary: "What an execution cost so far, attempt by attempt; final once it ended. 404 for unknown ids and for other customers' executions",
    description:
      '`final` turns true once the execution ended and every attempt it started was costed, or the grace period after its end ran out (`missingAttempts` then says how many never reported): when ExecutionCostFinalized was published.',
  })
  @ApiPathParam('id', executionIdParam)
  @ApiOkResponse({ description: "The execution's cost", schema: EXECUTION_COST_SCHEMA })
  @ApiErrors(400, { status: 404, description: 'No attempt of this execution has ended (yet), or it is another customer’s' })
  async execution(@CurrentPrincipal() principal: Principal, @Param('id') idParam: string) {
    const id = parseInput(executionIdParam, idParam, 'id');
    const [ledger, state] = await Promise.all([this.costs.execution(id), this.finality.get(id)]);
    const final = state?.status === 'Final' ? state.final : null;
    // An execution that ended without starting an attempt (cancelled while queued) has a final cost of nothing.
    const cost: ExecutionCost | null = ledger ?? (final && { executionId: id, customerId: final.customerId, currency: final.currency, totalMicros: 0, attempts: [] });
    // Another customer's execution answers exactly like a missing one: its existence is not leaked.
    if (!cost || (principal.role === 'customer' && cost.customerId !== principal.customerId)) throw new NotFoundError('execution cost', id, `no attempt of execution ${id} has been costed (yet)`);
    return final ? { ...cost, final: true, finalizedAt: new Date(final.finalizedAt).toISOString(), missingAttempts: final.missingAttempts } : { ...cost, final: false };
  }

  @Get('customers/:id')
  @ApiOperation({ summary: "A customer's spend, by pool and by hour, optionally within [from, to); a customer token reads only its own (403)" })
  @ApiPathParam('id', customerIdParam)
  @ApiQueryFrom(rangeQuery)
  @ApiOkResponse({ description: "The customer's spend", schema: CUSTOMER_COST_SCHEMA })
  @ApiErrors(400, { status: 404, description: 'No costed attempt of this customer in the range' })
  async customer(@CurrentPrincipal() principal: Principal, @Param('id') idParam: string, @Query() query: unknown) {
    const id = parseInput(customerIdParam, idParam, 'id');
    assertMayActFor(principal, id);
    const range = parseInput(rangeQuery, query, '(query)');
    const cost = await this.costs.customer(id, range);
    if (!cost) throw new NotFoundError('customer cost', id, `customer ${id} has no costed attempt in this range`);
    return cost;
  }

  @Get('pools')
  @ApiOperation({
    summary: 'Spend per pool (agent type), optionally within [from, to): ops only (403 for a customer token)',
    description:
      "With each pool's provisioned cost (its workers' time at the sheet's worker-hour, from its metrics reports, in the whole hours that start in the range) and its idle cost: provisioned less what its attempts were charged, never below zero (OpenCost's idle).",
  })
  @ApiQueryFrom(rangeQuery)
  @ApiOkResponse({ description: 'Spend per pool', schema: POOL_COSTS_SCHEMA })
  @ApiErrors(400)
  async pools(@CurrentPrincipal() principal: Principal, @Query() query: unknown) {
    assertOps(principal, 'spend per pool');
    const range = parseInput(rangeQuery, query, '(query)');
    const [spent, provisioned] = await Promise.all([this.costs.pools(range), this.capacity.workerMs(range)]);
    const byType = new Map(spent.map((p) => [p.agentType, p]));
    const agentTypes = [...new Set([...byType.keys(), ...provisioned.keys()])].sort();
    const pools = agentTypes.map((agentType) => {
      const { totalMicros, attempts } = byType.get(agentType) ?? { totalMicros: 0, attempts: 0 };
      const idle = idleCost({ provisionedWorkerMs: provisioned.get(agentType) ?? 0, allocatedMicros: totalMicros }, pricesFor(this.sheet, agentType));
      return { agentType, totalMicros, attempts, provisionedMicros: idle.provisionedMicros, idleMicros: idle.idleMicros };
    });
    return { currency: this.costs.currency, pools };
  }
}
