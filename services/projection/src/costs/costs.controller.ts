import { AGENT_TYPES, budgetScopeOf } from '@flotilla/contracts';
import { NotFoundError } from '@flotilla/domain';
import { ApiErrors, ApiPathParam, ApiQueryFrom, assertOps, CurrentPrincipal, dateTime, parseInput, RefusedInputError, text, type Principal } from '@flotilla/service-kit';
import { Controller, Get, Inject, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { BUDGET_STATUS_SCHEMA, COST_SUMMARY_SCHEMA, EXECUTION_COSTS_SCHEMA, listOf, RECOMMENDATION_VIEW_SCHEMA } from './costs.openapi';
import { COST_GROUPINGS, type CostGrouping, type CostQueries } from './domain/cost-views';
import { COST_QUERIES } from '../projection.constants';
import { scopeCustomer } from '../read-models/customer-scope';
import { customerFilter, STRICT_QUERY } from '../read-models/read-models.controller';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Hourly rows of more than a month are a download, not a page: narrow the range or group coarser. */
const MAX_HOURLY_RANGE_DAYS = 31;
const MAX_RANGE_DAYS = 366;

const GROUPING = `\\s*(${COST_GROUPINGS.join('|')})\\s*`;
const agentType = z.enum(AGENT_TYPES).optional().describe('only this pool');
const costsQuery = z
  .object({
    groupBy: z
      .string()
      .regex(new RegExp(`^${GROUPING}(,${GROUPING})*$`), `must name some of ${COST_GROUPINGS.join(', ')}, comma-separated`)
      .default('pool')
      .describe(`comma-separated, of ${COST_GROUPINGS.join(', ')} (default pool); e.g. hour,pool for spend per pool over time`),
    customerId: customerFilter,
    agentType,
    from: dateTime().optional().describe('hours starting at or after (default: 24 hours before the current hour ends)'),
    to: dateTime().optional().describe(`hours starting before (default: the end of the current hour); at most ${MAX_HOURLY_RANGE_DAYS} days after from when grouped by hour, ${MAX_RANGE_DAYS} otherwise`),
    access_token: z.string().optional(),
  })
  .strict();
const executionCostsQuery = z
  .object({
    customerId: customerFilter,
    from: dateTime().optional().describe('accepted at or after'),
    to: dateTime().optional().describe('accepted before'),
    final: z.enum(['true', 'false']).optional().describe('only executions whose cost is final (true) or still accruing (false)'),
    limit: z.coerce.number({ invalid_type_error: 'must be a number' }).int('must be a whole number').min(1, 'must be at least 1').max(200, 'must be at most 200').default(20),
    access_token: z.string().optional(),
  })
  .strict();
const budgetsQuery = z
  .object({ customerId: customerFilter, scope: z.enum(['customer', 'pool', 'global']).optional(), access_token: z.string().optional() })
  .strict();
const budgetIdParam = text().min(1).max(210).describe('customer:<customerId>, pool:<agentType> or global');
const recommendationsQuery = z
  .object({
    status: z.enum(['open', 'dismissed']).optional().describe('default: both'),
    kind: text().min(1).max(100).optional(),
    agentType,
    limit: z.coerce.number({ invalid_type_error: 'must be a number' }).int('must be a whole number').min(1, 'must be at least 1').max(200, 'must be at most 200').default(50),
    access_token: z.string().optional(),
  })
  .strict();

const parse = <T extends z.ZodTypeAny>(schema: T, query: unknown): z.infer<T> => parseInput(schema, query, '(query)');

/**
 * The range of a cost summary, hour-aligned as the roll-up is: `from` rounds down and `to` up to whole
 * hours. A range too long for its grouping answers 400 INVALID_RANGE (a rule no schema states).
 */
function rangeOf(q: { from?: string; to?: string }, groupBy: readonly CostGrouping[], now: number): { from: string; to: string } {
  const to = Math.ceil((q.to ? Date.parse(q.to) : now + 1) / HOUR) * HOUR;
  const from = Math.floor((q.from ? Date.parse(q.from) : to - DAY) / HOUR) * HOUR;
  const maxDays = groupBy.includes('hour') ? MAX_HOURLY_RANGE_DAYS : MAX_RANGE_DAYS;
  if (to <= from) throw new RefusedInputError('INVALID_RANGE', [{ field: 'to', problem: 'must be after from (both round to whole hours)' }]);
  if (to - from > maxDays * DAY) throw new RefusedInputError('INVALID_RANGE', [{ field: 'from', problem: `the range may span at most ${maxDays} days${groupBy.includes('hour') ? ' when grouped by hour' : ''}` }]);
  return { from: new Date(from).toISOString(), to: new Date(to).toISOString() };
}

const LIST_400 = { status: 400, description: 'Invalid query (VALIDATION_FAILED): every problem, each naming its parameter' };

/**
 * The query API over what things cost: the attempts' costs summed per hour, customer and pool, the
 * costliest executions, budgets with their spend, and the optimizer's recommendations. A customer
 * token reads only its own costs and budgets; the pools' recommendations are for ops.
 */
@ApiTags('costs')
@ApiBearerAuth()
@Controller('v1')
export class CostsController {
  constructor(@Inject(COST_QUERIES) private readonly queries: CostQueries) {}

  @Get('costs')
  @ApiOperation({ summary: 'What attempts cost, summed per hour, customer and/or pool, with efficiency; a customer token sees only its own', description: STRICT_QUERY })
  @ApiQueryFrom(costsQuery)
  @ApiOkResponse({ description: 'Totals and the rows of each group', schema: COST_SUMMARY_SCHEMA })
  @ApiErrors({ status: 400, description: 'Invalid query (VALIDATION_FAILED), or a range too long or empty (INVALID_RANGE): each problem names its parameter' })
  async costs(@CurrentPrincipal() principal: Principal, @Query() query: unknown) {
    const q = parse(costsQuery, query);
    const groupBy = [...new Set(q.groupBy.split(',').map((g) => g.trim() as CostGrouping))];
    return this.queries.costSummary({ groupBy, customerId: scopeCustomer(principal, q.customerId), agentType: q.agentType, ...rangeOf(q, groupBy, Date.now()) });
  }

  @Get('costs/executions')
  @ApiOperation({ summary: 'The costliest executions, with whether their cost is final; a customer token sees only its own', description: STRICT_QUERY })
  @ApiQueryFrom(executionCostsQuery)
  @ApiOkResponse({ description: 'Executions by cost, highest first', schema: EXECUTION_COSTS_SCHEMA })
  @ApiErrors(LIST_400)
  async executionCosts(@CurrentPrincipal() principal: Principal, @Query() query: unknown) {
    const q = parse(executionCostsQuery, query);
    const items = await this.queries.costliestExecutions({
      customerId: scopeCustomer(principal, q.customerId),
      from: q.from,
      to: q.to,
      final: q.final === undefined ? undefined : q.final === 'true',
      limit: q.limit,
    });
    return { items };
  }

  @Get('budgets')
  @ApiOperation({ summary: 'Budgets with spend, percent, forecast and thresholds crossed this period; a customer token sees only its own budget', description: STRICT_QUERY })
  @ApiQueryFrom(budgetsQuery)
  @ApiOkResponse({ description: 'The budgets', schema: listOf(BUDGET_STATUS_SCHEMA) })
  @ApiErrors(LIST_400)
  async budgets(@CurrentPrincipal() principal: Principal, @Query() query: unknown) {
    const q = parse(budgetsQuery, query);
    const customerId = scopeCustomer(principal, q.customerId);
    return { items: await this.queries.listBudgets({ customerId, scope: q.scope }) };
  }

  @Get('budgets/:budgetId')
  @ApiOperation({ summary: 'One budget with its spend; a customer token reads only its own (another is 404)' })
  @ApiPathParam('budgetId', budgetIdParam)
  @ApiOkResponse({ description: 'The budget', schema: BUDGET_STATUS_SCHEMA })
  @ApiErrors(400, { status: 404, description: 'No such budget (yet: the read model may lag the events by a moment), or not the customer\'s own' })
  async budget(@CurrentPrincipal() principal: Principal, @Param('budgetId') param: string) {
    const budgetId = parseInput(budgetIdParam, param, 'budgetId');
    const scope = budgetScopeOf(budgetId);
    // Another customer's budget, or a pool's, answers exactly like a missing one.
    const mine = principal.role === 'ops' || (scope?.kind === 'customer' && scope.customerId === principal.customerId);
    const budget = mine ? await this.queries.getBudget(budgetId) : null;
    if (!budget) throw new NotFoundError('budget', budgetId, `budget ${budgetId} is not known (yet): the read model may lag the events by a moment`);
    return budget;
  }

  @Get('recommendations')
  @ApiOperation({ summary: "The optimizer's recommendations about the pools, biggest saving first (ops only: 403 for a customer token)", description: STRICT_QUERY })
  @ApiQueryFrom(recommendationsQuery)
  @ApiOkResponse({ description: 'The recommendations', schema: listOf(RECOMMENDATION_VIEW_SCHEMA) })
  @ApiErrors(LIST_400)
  async recommendations(@CurrentPrincipal() principal: Principal, @Query() query: unknown) {
    assertOps(principal, 'the pools\' recommendations');
    const q = parse(recommendationsQuery, query);
    return { items: await this.queries.listRecommendations({ status: q.status, kind: q.kind, agentType: q.agentType, limit: q.limit }) };
  }
}
