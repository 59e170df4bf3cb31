import { AGENT_TYPES, type ExecutionRequested } from '@flotilla/contracts';
import { IllegalStateError, NotFoundError } from '@flotilla/domain';
import { ApiErrors, ApiPathParam, assertMayActFor, CurrentPrincipal, openApiSchema, parseInput, RefusedInputError, text, type Principal } from '@flotilla/service-kit';
import { Body, Controller, HttpCode, Inject, Param, Post, Res } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBearerAuth, ApiBody, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { v7 as uuidv7 } from 'uuid';
import { z } from 'zod';
import { EXECUTION_COMMANDS } from '../orchestrator.constants';
import type { ExecutionCommands } from './execution-commands';

const taskSchema = z.object({
  taskId: text().min(1, 'must not be empty').max(200),
  agentType: text().min(1, 'must not be empty').max(100),
  dependsOn: z.array(text().max(200)).max(100).default([]),
  input: z
    .record(text(), text(), { invalid_type_error: 'must be an object of string values' })
    .default({})
    .describe('string values by name; neither a name nor a value may contain NUL (U+0000)'),
});

/** The range of instants a JavaScript Date holds: epoch milliseconds beyond it are no time at all (and no Avro long). */
const EPOCH_MS_RANGE = 8.64e15;

/** The same contract as the Kafka ExecutionRequested record. */
const requestSchema = z
  .object({
    executionId: z.string().min(1, 'must not be empty').max(200).regex(/^[A-Za-z0-9._:-]+$/, 'may contain only letters, digits and . _ : -'),
    customerId: text().min(1, 'must not be empty').max(200),
    kind: text().min(1, 'must not be empty').max(100).describe('a workflow of the execution settings; any name when the request carries its own tasks'),
    tasks: z.array(taskSchema).max(100).default([]),
    contractValue: z.number().min(0, 'must be zero or positive').nullable().default(null),
    deadlineAt: z
      .union([
        z.number().int('must be whole epoch milliseconds').min(-EPOCH_MS_RANGE, 'is before any date').max(EPOCH_MS_RANGE, 'is after any date'),
        z.string().datetime({ offset: true, message: 'must be epoch milliseconds or an ISO-8601 date-time' }),
      ])
      .nullable()
      .default(null),
    tier: z.enum(['standard', 'premium']).nullable().default(null),
  })
  .strict();

/**
 * What the document says of a request: the schema above, and what the orchestrator's own validation
 * refuses that is a plain enumeration (the agent types). The rest of what it refuses (an unknown
 * workflow without tasks, a task id used twice, a dependency on no task, a cycle) no schema states:
 * those answer 400 with code EXECUTION_REJECTED.
 */
const documentedRequestSchema = requestSchema.extend({
  tasks: z.array(taskSchema.extend({ agentType: z.enum(AGENT_TYPES) })).max(100).default([]),
});

const cancelSchema = z.object({ reason: text().min(1).max(500).default('cancelled through the API') }).strict();

/** An execution id in a path: what the submit schema allows (the router takes path parameters of up to 1 024 characters). */
const executionIdParam = text().min(1).max(200).describe('execution id');

const ACCEPTED_SCHEMA = {
  type: 'object',
  required: ['executionId', 'status', 'location'],
  properties: { executionId: { type: 'string' }, status: { type: 'string', enum: ['accepted'] }, location: { type: 'string', description: 'the execution in the query API' } },
};
const CANCELLED_SCHEMA = {
  type: 'object',
  required: ['executionId', 'status'],
  properties: { executionId: { type: 'string' }, status: { type: 'string', enum: ['cancelled', 'cancelling'] } },
};

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

  /** Idempotent by execution id: repeating a request answers as the first time did (202, or 400 with the same reasons) and changes nothing. */
  @Post()
  @HttpCode(202)
  @ApiOperation({
    summary: 'Submit an execution',
    description:
      'Idempotent by executionId: a repeated request answers as the first did. A request that does not fit the schema answers 400 with code VALIDATION_FAILED; ' +
      'one the orchestrator rejects (a kind that is no configured workflow and no tasks of its own, a task id used twice, a dependency on no task, a cycle) ' +
      'answers 400 with code EXECUTION_REJECTED and every reason, and the rejection is recorded (ExecutionRejected). A customer token submits only for its own customer (403).',
  })
  @ApiBody({ schema: openApiSchema(documentedRequestSchema) })
  @ApiAcceptedResponse({
    description: 'Accepted; Location names the execution in the query API',
    schema: ACCEPTED_SCHEMA,
    links: { cancel: { operationId: 'ExecutionsController_cancel', parameters: { id: '$response.body#/executionId' }, description: 'Cancel the execution' } },
  })
  @ApiErrors({ status: 400, description: 'Invalid input (VALIDATION_FAILED), or rejected by the orchestrator (EXECUTION_REJECTED): every problem, each naming its field' })
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
      throw new RefusedInputError(
        'EXECUTION_REJECTED',
        result.state.reasons.map((reason) => ({ field: reason.split(' ')[0], problem: reason })),
      );
    }
    const location = `/v1/executions/${encodeURIComponent(request.executionId)}`;
    reply.header('location', location);
    return { executionId: request.executionId, status: 'accepted', location };
  }

  @Post(':id/cancel')
  @HttpCode(202)
  @ApiOperation({
    summary: 'Cancel an execution',
    description: 'A queued execution is cancelled without running; running attempts are stopped. The body is optional. A customer token cancels only its own customer\'s executions (403).',
  })
  @ApiPathParam('id', executionIdParam)
  @ApiBody({ schema: openApiSchema(cancelSchema), required: false })
  @ApiAcceptedResponse({ description: 'Cancelled (or cancelling)', schema: CANCELLED_SCHEMA })
  @ApiErrors(400, { status: 404, description: 'No such execution' }, { status: 409, description: 'The execution has finished (completed, failed, rejected or cancelled)' })
  async cancel(@Param('id') idParam: string, @Body() body: unknown, @CurrentPrincipal() principal: Principal) {
    const id = parseInput(executionIdParam, idParam, 'id');
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
