import { BadRequestException, Controller, ForbiddenException, Get, Inject, NotFoundException, Param, Query, Req, UseGuards } from '@nestjs/common';
import { z } from 'zod';
import type { PageRequest, ReadModelQueries } from '../domain/read-models';
import { InvalidCursorError } from '../infrastructure/read-model.queries';
import { READ_MODEL_QUERIES } from '../projection.constants';
import { AuthGuard, type AuthenticatedRequest } from './auth/auth.guard';
import type { Principal } from './auth/principal';

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

function parse<T extends z.ZodTypeAny>(schema: T, query: unknown): z.infer<T> {
  const parsed = schema.safeParse(query ?? {});
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => ({ parameter: i.path.join('.') || (i.code === 'unrecognized_keys' ? i.keys.join(', ') : '(query)'), problem: i.message }));
  throw new BadRequestException({ statusCode: 400, error: 'Bad Request', message: problems.map((p) => `${p.parameter}: ${p.problem}`).join('; '), problems });
}

/** A customer sees only its own data: its own id is forced, asking for another's is refused. */
function scopeCustomer(principal: Principal, requested: string | undefined): string | undefined {
  if (principal.role === 'ops') return requested;
  if (requested !== undefined && requested !== principal.customerId) throw new ForbiddenException(`a customer token may only read customer ${principal.customerId}`);
  return principal.customerId!;
}

/** The ops query API over the read models; every route needs a token (AuthGuard). */
@Controller('v1')
@UseGuards(AuthGuard)
export class ReadModelsController {
  constructor(@Inject(READ_MODEL_QUERIES) private readonly queries: ReadModelQueries) {}

  @Get('executions')
  async listExecutions(@Req() request: AuthenticatedRequest, @Query() query: unknown) {
    const q = parse(executionsQuery, query);
    return this.paged(() => this.queries.listExecutions({ status: q.status, customerId: scopeCustomer(request.principal!, q.customerId), kind: q.kind, from: q.from, to: q.to }, pageOf(q)));
  }

  @Get('executions/:id')
  async getExecution(@Req() request: AuthenticatedRequest, @Param('id') id: string) {
    const execution = await this.queries.getExecution(id);
    // Another customer's execution answers exactly like a missing one: its existence is not leaked.
    if (!execution || (request.principal!.role === 'customer' && execution.customerId !== request.principal!.customerId)) {
      throw new NotFoundException(`execution ${id} is not known (yet): the read model may lag the events by a moment`);
    }
    return execution;
  }

  @Get('customers')
  async listCustomers(@Req() request: AuthenticatedRequest, @Query() query: unknown) {
    const q = parse(cardsQuery, query);
    return this.paged(() => this.queries.listCustomerCards({ customerId: scopeCustomer(request.principal!, undefined) }, pageOf(q)));
  }

  @Get('customers/:id')
  async getCustomer(@Req() request: AuthenticatedRequest, @Param('id') id: string) {
    scopeCustomer(request.principal!, id);
    const card = await this.queries.getCustomerCard(id);
    if (!card) throw new NotFoundException(`customer ${id} has no executions`);
    return card;
  }

  @Get('overview')
  async overview(@Req() request: AuthenticatedRequest) {
    if (request.principal!.role !== 'ops') throw new ForbiddenException('the system overview is for ops; a customer token reads its own card at /v1/customers/{id}');
    return this.queries.overview();
  }

  @Get('alerts')
  async alerts(@Req() request: AuthenticatedRequest, @Query() query: unknown) {
    const q = parse(alertsQuery, query);
    return this.paged(() => this.queries.listAlerts({ customerId: scopeCustomer(request.principal!, q.customerId), severity: q.severity }, pageOf(q)));
  }

  @Get('sla-violations')
  async slaViolations(@Req() request: AuthenticatedRequest, @Query() query: unknown) {
    const q = parse(slaQuery, query);
    return this.paged(() => this.queries.listSlaViolations({ customerId: scopeCustomer(request.principal!, q.customerId) }, pageOf(q)));
  }

  private async paged<T>(query: () => Promise<T>): Promise<T> {
    try {
      return await query();
    } catch (error) {
      if (error instanceof InvalidCursorError) throw new BadRequestException({ statusCode: 400, error: 'Bad Request', message: `cursor: ${error.message}`, problems: [{ parameter: 'cursor', problem: error.message }] });
      throw error;
    }
  }
}

function pageOf(q: { limit: number; cursor?: string }): PageRequest {
  return { limit: q.limit, cursor: q.cursor ?? null };
}
