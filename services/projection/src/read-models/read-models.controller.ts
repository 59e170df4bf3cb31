import { NotFoundError } from '@flotilla/domain';
import { ApiErrors, AuthError, CurrentPrincipal, parseInput, type Principal } from '@flotilla/service-kit';
import { Controller, Get, Inject, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiQuery, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import type { PageRequest, ReadModelQueries } from './domain/read-models';
import { READ_MODEL_QUERIES } from '../projection.constants';

const page = {
  limit: z.coerce.number({ invalid_type_error: 'must be a number' }).int('must be a whole number').min(1, 'must be at least 1').max(200, 'must be at most 200').default(50),
  cursor: z.string().min(1).optional(),
  access_token: z.string().optional(),
};
const isoTime = z.string().datetime({ offset: true, message: 'must be an ISO-8601 date-time' });
const executionsQuery = z
  .object({
    ...page,
    status: z.enum(['queued', 'running', 'completed', 'failed', 'rejected', 'cancelled']).optional(),
    customerId: z.string().min(1).optional(),
    kind: z.string().min(1).optional(),
    from: isoTime.optional(),
    to: isoTime.optional(),
  })
  .strict();
const cardsQuery = z.object({ ...page }).strict();
const alertsQuery = z.object({ ...page, customerId: z.string().min(1).optional(), severity: z.enum(['info', 'warning', 'critical']).optional() }).strict();
const slaQuery = z.object({ ...page, customerId: z.string().min(1).optional() }).strict();

const parse = <T extends z.ZodTypeAny>(schema: T, query: unknown): z.infer<T> => parseInput(schema, query, '(query)');

/** A customer sees only its own data: its own id is forced, asking for another's is refused. */
function scopeCustomer(principal: Principal, requested: string | undefined): string | undefined {
  if (principal.role === 'ops') return requested;
  if (requested !== undefined && requested !== principal.customerId) throw new AuthError(403, `a customer token may only read customer ${principal.customerId}`);
  return principal.customerId!;
}

/** The ops query API over the read models; every route needs a token (AuthGuard). */
const PAGE_QUERIES = [
  ApiQuery({ name: 'limit', required: false, schema: { type: 'integer', minimum: 1, maximum: 200, default: 50 } }),
  ApiQuery({ name: 'cursor', required: false, description: 'nextCursor of the previous page' }),
];
const apply = (...decorators: MethodDecorator[]): MethodDecorator => (target, key, descriptor) => {
  for (const decorator of decorators) decorator(target, key, descriptor);
};

@ApiTags('read models')
@ApiBearerAuth()
@ApiErrors(400, 401, 403, 429)
@Controller('v1')
export class ReadModelsController {
  constructor(@Inject(READ_MODEL_QUERIES) private readonly queries: ReadModelQueries) {}

  @Get('executions')
  @ApiOperation({ summary: 'Executions, newest first; a customer token sees only its own' })
  @apply(
    ...PAGE_QUERIES,
    ApiQuery({ name: 'status', required: false, enum: ['queued', 'running', 'completed', 'failed', 'rejected', 'cancelled'] }),
    ApiQuery({ name: 'customerId', required: false }),
    ApiQuery({ name: 'kind', required: false }),
    ApiQuery({ name: 'from', required: false, description: 'accepted at or after (ISO-8601)' }),
    ApiQuery({ name: 'to', required: false, description: 'accepted before (ISO-8601)' }),
  )
  async listExecutions(@CurrentPrincipal() principal: Principal, @Query() query: unknown) {
    const q = parse(executionsQuery, query);
    return this.queries.listExecutions({ status: q.status, customerId: scopeCustomer(principal, q.customerId), kind: q.kind, from: q.from, to: q.to }, pageOf(q));
  }

  @Get('executions/:id')
  @ApiErrors(404)
  @ApiOperation({ summary: 'One execution with its tasks; 404 for unknown ids and for other customers\' executions' })
  async getExecution(@CurrentPrincipal() principal: Principal, @Param('id') id: string) {
    const execution = await this.queries.getExecution(id);
    // Another customer's execution answers exactly like a missing one: its existence is not leaked.
    if (!execution || (principal.role === 'customer' && execution.customerId !== principal.customerId)) {
      throw new NotFoundError('execution', id, `execution ${id} is not known (yet): the read model may lag the events by a moment`);
    }
    return execution;
  }

  @Get('customers')
  @ApiOperation({ summary: 'Customer cards: phase, health, timeline, success rate, last activity' })
  @apply(...PAGE_QUERIES)
  async listCustomers(@CurrentPrincipal() principal: Principal, @Query() query: unknown) {
    const q = parse(cardsQuery, query);
    return this.queries.listCustomerCards({ customerId: scopeCustomer(principal, undefined) }, pageOf(q));
  }

  @Get('customers/:id')
  @ApiErrors(404)
  @ApiOperation({ summary: 'One customer card' })
  async getCustomer(@CurrentPrincipal() principal: Principal, @Param('id') id: string) {
    scopeCustomer(principal, id);
    const card = await this.queries.getCustomerCard(id);
    if (!card) throw new NotFoundError('customer', id, `customer ${id} has no executions`);
    return card;
  }

  @Get('overview')
  @ApiOperation({ summary: 'System overview (ops only)' })
  async overview(@CurrentPrincipal() principal: Principal) {
    if (principal.role !== 'ops') throw new AuthError(403, 'the system overview is for ops; a customer token reads its own card at /v1/customers/{id}');
    return this.queries.overview();
  }

  @Get('alerts')
  @ApiOperation({ summary: 'Alerts, newest first' })
  @apply(...PAGE_QUERIES, ApiQuery({ name: 'severity', required: false, enum: ['info', 'warning', 'critical'] }), ApiQuery({ name: 'customerId', required: false }))
  async alerts(@CurrentPrincipal() principal: Principal, @Query() query: unknown) {
    const q = parse(alertsQuery, query);
    return this.queries.listAlerts({ customerId: scopeCustomer(principal, q.customerId), severity: q.severity }, pageOf(q));
  }

  @Get('sla-violations')
  @ApiOperation({ summary: 'SLA violations, newest first' })
  @apply(...PAGE_QUERIES, ApiQuery({ name: 'customerId', required: false }))
  async slaViolations(@CurrentPrincipal() principal: Principal, @Query() query: unknown) {
    const q = parse(slaQuery, query);
    return this.queries.listSlaViolations({ customerId: scopeCustomer(principal, q.customerId) }, pageOf(q));
  }
}

function pageOf(q: { limit: number; cursor?: string }): PageRequest {
  return { limit: q.limit, cursor: q.cursor ?? null };
}
