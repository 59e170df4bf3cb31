import type { ExecutionRequested } from '@flotilla/contracts';
import { IllegalStateError, NotFoundError, ValidationError } from '@flotilla/domain';
import { ApiErrors, assertMayActFor, CurrentPrincipal, openApiSchema, parseInput, type Principal } from '@flotilla/service-kit';
import { Body, Controller, HttpCode, Inject, Param, Post, Res } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiBody, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { v7 as uuidv7 } from 'uuid';
import { z } from 'zod';
import { EXECUTION_COMMANDS } from '../orchestrator.constants';
import type { ExecutionCommands } from './execution-commands';

const taskSchema = z.object({
  taskId: z.string().min(1, 'must not be empty').max(200),
  agentType: z.string().min(1, 'must not be empty').max(100),
  dependsOn: z.array(z.string().max(200)).max(100).default([]),
  input: z.record(z.string(), { invalid_type_error: 'must be an object of string values' }).default({}),
});

/** The same contract as the Kafka ExecutionRequested record. */
const requestSchema = z
  .object({
    executionId: z.string().min(1, 'must not be empty').max(200).regex(/^[A-Za-z0-9._:-]+$/, 'may contain only letters, digits and . _ : -'),
    customerId: z.string().min(1, 'must not be empty').max(200),
    kind: z.string().min(1, 'must not be empty').max(100),
    tasks: z.array(taskSchema).max(100).default([]),
    contractValue: z.number().min(0, 'must be zero or positive').nullable().default(null),
    deadlineAt: z.union([z.number().int(), z.string().datetime({ offset: true, message: 'must be epoch milliseconds or an ISO-8601 date-time' })]).nullable().default(null),
    tier: z.enum(['standard', 'premium']).nullable().default(null),
  })
  .strict();

const cancelSchema = z.object({ reason: z.string().min(1).max(500).default('cancelled through the API') }).strict();

/**
 * Submitting and cancelling executions over HTTP. Role customer acts only for its own customer (a body
 * or an execution of another customer answers 403); role ops for anyone. Producers that are services
 * publish ExecutionRequested to Kafka instead.
 */
@ApiTags('executions')
@ApiBearerAuth()
@Controller('v1/executions')
export class ExecutionsController {
  constructor(@Inject(EXECUTION_COMMANDS) private readonly executions: ExecutionCommands) {}

  /** Idempotent by execution id: repeating a request answers 202 again and changes nothing. */
  @Post()
  @HttpCode(202)
  @ApiOperation({ summary: 'Submit an execution', description: 'Idempotent by executionId. A request the orchestrator rejects (unknown kind or agent type, a cycle…) answers 400 with every problem.' })
  @ApiBody({ schema: openApiSchema(requestSchema) })
  @ApiAcceptedResponse({ description: 'Accepted; Location names the execution in the query API' })
  @ApiErrors(400, 401, 403)
  async submit(@Body() body: unknown, @CurrentPrincipal() principal: Principal, @Res({ passthrough: true }) reply: FastifyReply) {
    const input = parseInput(requestSchema, body);
    assertMayActFor(principal, input.customerId);
    const request: ExecutionRequested = {
      ...input,
      deadlineAt: typeof input.deadlineAt === 'string' ? Date.parse(input.deadlineAt) : input.deadlineAt,
      requestedAt: Date.now(),
    };
    const result = await this.executions.apply(
      request.executionId,
      { type: 'RequestExecution', request, settings: this.executions.settings, now: Date.now() },
      { causationId: `http:${uuidv7()}` },
    );
    if (result.status === 'applied' && result.state.status === 'Rejected') {
      throw new ValidationError(result.state.reasons.map((reason) => ({ field: reason.split(' ')[0], problem: reason })));
    }
    const location = `/v1/executions/${encodeURIComponent(request.executionId)}`;
    reply.header('location', location);
    return { executionId: request.executionId, status: 'accepted', location };
  }

  @Post(':id/cancel')
  @HttpCode(202)
  @ApiOperation({ summary: 'Cancel an execution', description: 'A queued execution is cancelled without running; running attempts are stopped.' })
  @ApiParam({ name: 'id', description: 'execution id' })
  @ApiBody({ schema: openApiSchema(cancelSchema), required: false })
  @ApiAcceptedResponse({ description: 'Cancelled (or cancelling)' })
  @ApiErrors(400, 401, 403, 404, 409)
  async cancel(@Param('id') id: string, @Body() body: unknown, @CurrentPrincipal() principal: Principal) {
    const { reason } = parseInput(cancelSchema, body);
    const before = await this.executions.current(id);
    if (before.status === 'NotRequested') throw new NotFoundError('execution', id);
    if (before.status !== 'Rejected') assertMayActFor(principal, before.customerId);
    const result = await this.executions.apply(id, { type: 'CancelExecution', reason, now: Date.now() }, { causationId: `http:${uuidv7()}` });
    if (result.status !== 'applied') return { executionId: id, status: 'cancelling' };
    const status = result.state.status;
    if (status !== 'Cancelled') throw new IllegalStateError(`execution ${id} is ${status.toLowerCase()} and can no longer be cancelled`, 'EXECUTION_FINISHED');
    return { executionId: id, status: 'cancelled' };
  }
}
