import { NotFoundError } from '@flotilla/domain';
import { ApiErrors, ApiPathParam, ApiQueryFrom, AuthError, CurrentPrincipal, dateTime, parseInput, RefusedInputError, text, type Principal } from '@flotilla/service-kit';
import { Controller, Get, Inject, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { decodeCursor } from './domain/cursor';
import type { PageRequest, ReadModelQueries } from './domain/read-models';
import { ALERT_SCHEMA, CUSTOMER_CARD_SCHEMA, EXECUTION_SCHEMA, OVERVIEW_SCHEMA, pageSchema, SLA_VIOLATION_SCHEMA } from './read-models.openapi';
import { scopeCustomer } from './customer-scope';
import { READ_MODEL_QUERIES } from '../projection.constants';

/** A cursor as this API issues them (nextCursor): base64url of the sort key of the last item served. */
const CURSOR_PATTERN = /^[A-Za-z0-9_-]+$/;
/** The query parameters of every cursor-paged list. */
export const PAGE_QUERY = {
  limit: z.coerce
    .number({ invalid_type_error: 'must be a number' })
    .int('must be a whole number')
    .min(1, 'must be at least 1')
    .max(200, 'must be at most 200')
    .default(50)
    .describe('page size'),
  cursor: z
    .string()
    .min(1)
    .max(2000)
    .regex(CURSOR_PATTERN, 'cursor is not one this API issued')
    .optional()
    .describe('`nextCursor` of the previous page, as it was given; another value answers 400 with code INVALID_CURSOR'),
  access_token: z.string().optional(),
};
const STATUSES = ['queued', 'running', 'completed', 'failed', 'rejected', 'cancelled'] as const;
export const customerFilter = text().min(1).max(200).optional().describe('only this customer\'s; a customer token may name only its own (403)');
const executionsQuery = z
  .object({
    ...PAGE_QUERY,
    status: z.enum(STATUSES).optional(),
    customerId: customerFilter,
    kind: text().min(1).max(100).optional(),
    from: dateTime('must be an ISO-8601 date-time').optional().describe('accepted at or after (RFC 3339 date-time with an offset)'),
    to: dateTime('must be an ISO-8601 date-time').optional().describe('accepted before (RFC 3339 date-time with an offset)'),
  })
  .strict();
const cardsQuery = z.object({ ...PAGE_QUERY }).strict();
const alertsQuery = z.object({ ...PAGE_QUERY, severity: z.enum(['info', 'warning', 'critical']).optional(), customerId: customerFilter }).strict();
const slaQuery = z.object({ ...PAGE_QUERY, customerId: customerFilter }).strict();
/** Ids in paths: the router takes at most 100 characters (a longer one answers 404). */
// As the orchestrator takes them (at most 200 characters each); the router takes path parameters of up to 1 024.
const executionIdParam = text().min(1).max(200).describe('execution id');
const customerIdParam = text().min(1).max(200).describe('customer id');

const parse = <T extends z.ZodTypeAny>(schema: T, query: unknown): z.infer<T> => parseInput(schema, query, '(query)');

/**
 * The cursor of a page request, checked to be one this API issued for that list: its key decodes
 * and has the shape the list sorts by (a time as the API writes them, then an id; or a customer id).
 * Anything else would reach the query as a time PostgreSQL cannot read.
 */
function pageOf(q: { limit: number; cursor?: string }, key: 'time-and-id' | 'id'): PageRequest {
  if (q.cursor !== undefined) {
    const decoded = decodeCursor(q.cursor, key === 'id' ? 1 : 2);
    const storable = (k: unknown): k is string => typeof k === 'string' && text().safeParse(k).success;
    const issuedTime = (k: unknown) => typeof k === 'string' && Number.isFinite(Date.parse(k)) && new Date(Date.parse(k)).toISOString() === k;
    const issued = decoded !== null && (key === 'id' ? storable(decoded[0]) : issuedTime(decoded[0]) && storable(decoded[1]));
    if (!issued) throw new RefusedInputError('INVALID_CURSOR', [{ field: 'cursor', problem: 'cursor is not one this API issued' }]);
  }
  return { limit: q.limit, cursor: q.cursor ?? null };
}

export const STRICT_QUERY = 'A parameter not listed here answers 400 (VALIDATION_FAILED), as does a listed one given twice.';
const LIST_400 = { status: 400, description: 'Invalid query (VALIDATION_FAILED), or a cursor this API did not issue (INVALID_CURSOR): every problem, each naming its parameter' };

/** The ops query API over the read models; every route needs a token (AuthGuard). */
@ApiTags('read models')
@ApiBearerAuth()
@Controller('v1')
export class ReadModelsController {
  constructor(@Inject(READ_MODEL_QUERIES) private readonly queries: ReadModelQueries) {}

  @Get('executions')
  @ApiOperation({ summary: 'Executions, newest first; a customer token sees only its own', description: STRICT_QUERY })
  @ApiQueryFrom(executionsQuery)
  @ApiOkResponse({ description: 'A page of executions', schema: pageSchema(EXECUTION_SCHEMA) })
  @ApiErrors(LIST_400)
  async listExecutions(@CurrentPrincipal() principal: Principal, @Query() query: unknown) {
    const q = parse(executionsQuery, query);
    return this.queries.listExecutions({ status: q.status, customerId: scopeCustomer(principal, q.customerId), kind: q.kind, from: q.from, to: q.to }, pageOf(q, 'time-and-id'));
  }

  @Get('executions/:id')
  @ApiOperation({ summary: 'One execution with its tasks; 404 for unknown ids and for other customers\' executions' })
  @ApiPathParam('id', executionIdParam)
  @ApiOkResponse({ description: 'The execution', schema: EXECUTION_SCHEMA })
  @ApiErrors(400, { status: 404, description: 'No such execution (yet: the read model may lag the events by a moment), or another customer\'s' })
  async getExecution(@CurrentPrincipal() principal: Principal, @Param('id') idParam: string) {
    const id = parseInput(executionIdParam, idParam, 'id');
    const execution = await this.queries.getExecution(id);
    // Another customer's execution answers exactly like a missing one: its existence is not leaked.
    if (!execution || (principal.role === 'customer' && execution.customerId !== principal.customerId)) {
      throw new NotFoundError('execution', id, `execution ${id} is not known (yet): the read model may lag the events by a moment`);
    }
    return execution;
  }

  @Get('customers')
  @ApiOperation({ summary: 'Customer cards: phase, health, timeline, success rate, last activity; a customer token sees only its own', description: STRICT_QUERY })
  @ApiQueryFrom(cardsQuery)
  @ApiOkResponse({ description: 'A page of customer cards', schema: pageSchema(CUSTOMER_CARD_SCHEMA) })
  @ApiErrors(LIST_400)
  async listCustomers(@CurrentPrincipal() principal: Principal, @Query() query: unknown) {
    const q = parse(cardsQuery, query);
    return this.queries.listCustomerCards({ customerId: scopeCustomer(principal, undefined) }, pageOf(q, 'id'));
  }

  @Get('customers/:id')
  @ApiOperation({ summary: 'One customer card; a customer token reads only its own (403)' })
  @ApiPathParam('id', customerIdParam)
  @ApiOkResponse({ description: 'The customer card', schema: CUSTOMER_CARD_SCHEMA })
  @ApiErrors(400, { status: 404, description: 'The customer has no executions' })
  async getCustomer(@CurrentPrincipal() principal: Principal, @Param('id') idParam: string) {
    const id = parseInput(customerIdParam, idParam, 'id');
    scopeCustomer(principal, id);
    const card = await this.queries.getCustomerCard(id);
    if (!card) throw new NotFoundError('customer', id, `customer ${id} has no executions`);
    return card;
  }

  @Get('overview')
  @ApiOperation({ summary: 'System overview (ops only: 403 for a customer token)' })
  @ApiOkResponse({ description: 'The overview', schema: OVERVIEW_SCHEMA })
  async overview(@CurrentPrincipal() principal: Principal) {
    if (principal.role !== 'ops') throw new AuthError(403, 'the system overview is for ops; a customer token reads its own card at /v1/customers/{id}');
    return this.queries.overview();
  }

  @Get('alerts')
  @ApiOperation({ summary: 'Alerts, newest first', description: STRICT_QUERY })
  @ApiQueryFrom(alertsQuery)
  @ApiOkResponse({ description: 'A page of alerts', schema: pageSchema(ALERT_SCHEMA) })
  @ApiErrors(LIST_400)
  async alerts(@CurrentPrincipal() principal: Principal, @Query() query: unknown) {
    const q = parse(alertsQuery, query);
    return this.queries.listAlerts({ customerId: scopeCustomer(principal, q.customerId), severity: q.severity }, pageOf(q, 'time-and-id'));
  }

  @Get('sla-violations')
  @ApiOperation({ summary: 'SLA violations, newest first', description: STRICT_QUERY })
  @ApiQueryFrom(slaQuery)
  @ApiOkResponse({ description: 'A page of SLA violations', schema: pageSchema(SLA_VIOLATION_SCHEMA) })
  @ApiErrors(LIST_400)
  async slaViolations(@CurrentPrincipal() principal: Principal, @Query() query: unknown) {
    const q = parse(slaQuery, query);
    return this.queries.listSlaViolations({ customerId: scopeCustomer(principal, q.customerId) }, pageOf(q, 'time-and-id'));
  }
}
