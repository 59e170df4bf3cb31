import type { ExecutionRequested } from '@flotilla/contracts';
import { BadRequestException, Body, Controller, HttpCode, Inject, NotFoundException, ConflictException, Param, Post, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { v7 as uuidv7 } from 'uuid';
import { z } from 'zod';
import type { ExecutionCommands } from '../application/execution-commands';
import { EXECUTION_COMMANDS } from '../orchestrator.constants';
import { badRequest } from './bad-request';

const taskSchema = z.object({
  taskId: z.string().min(1, 'must not be empty'),
  agentType: z.string().min(1, 'must not be empty'),
  dependsOn: z.array(z.string()).default([]),
  input: z.record(z.string(), { invalid_type_error: 'must be an object of string values' }).default({}),
});

/** The same contract as the Kafka ExecutionRequested record. */
const requestSchema = z
  .object({
    executionId: z.string().min(1, 'must not be empty').max(200).regex(/^[A-Za-z0-9._:-]+$/, 'may contain only letters, digits and . _ : -'),
    customerId: z.string().min(1, 'must not be empty'),
    kind: z.string().min(1, 'must not be empty'),
    tasks: z.array(taskSchema).default([]),
    contractValue: z.number().min(0, 'must be zero or positive').nullable().default(null),
    deadlineAt: z.union([z.number().int(), z.string().datetime({ offset: true, message: 'must be epoch milliseconds or an ISO-8601 date-time' })]).nullable().default(null),
    tier: z.enum(['standard', 'premium']).nullable().default(null),
  })
  .strict();

const cancelSchema = z.object({ reason: z.string().min(1).max(500).default('cancelled through the API') }).strict();


@Controller('v1/executions')
export class ExecutionsController {
  constructor(@Inject(EXECUTION_COMMANDS) private readonly executions: ExecutionCommands) {}

  /** Idempotent by execution id: repeating a request answers 202 again and changes nothing. */
  @Post()
  @HttpCode(202)
  async submit(@Body() body: unknown, @Res({ passthrough: true }) reply: FastifyReply) {
    const parsed = requestSchema.safeParse(body ?? {});
    if (!parsed.success) throw badRequest(parsed.error);
    const input = parsed.data;
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
      throw new BadRequestException({
        statusCode: 400,
        error: 'Bad Request',
        message: result.state.reasons.join('; '),
        problems: result.state.reasons.map((r) => ({ field: r.split(' ')[0], problem: r })),
      });
    }
    const location = `/v1/executions/${encodeURIComponent(request.executionId)}`;
    reply.header('location', location);
    return { executionId: request.executionId, status: 'accepted', location };
  }

  @Post(':id/cancel')
  @HttpCode(202)
  async cancel(@Param('id') id: string, @Body() body: unknown) {
    const parsed = cancelSchema.safeParse(body ?? {});
    if (!parsed.success) throw badRequest(parsed.error);
    const result = await this.executions.apply(id, { type: 'CancelExecution', reason: parsed.data.reason, now: Date.now() }, { causationId: `http:${uuidv7()}` });
    if (result.status !== 'applied') return { executionId: id, status: 'cancelling' };
    const status = result.state.status;
    if (status === 'NotRequested') throw new NotFoundException(`execution ${id} does not exist`);
    if (status !== 'Cancelled') throw new ConflictException(`execution ${id} is ${status.toLowerCase()} and can no longer be cancelled`);
    return { executionId: id, status: 'cancelled' };
  }
}
