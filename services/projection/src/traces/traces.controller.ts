import { NotFoundError } from '@flotilla/domain';
import { ApiErrors, ApiPathParam, CurrentPrincipal, parseInput, text, type Principal } from '@flotilla/service-kit';
import { Controller, Get, Inject, Param } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import type { ExecutionTrace } from './domain/execution-trace';
import type { ExecutionTraces, TraceWindow } from './execution-traces';
import { EXECUTION_TRACES } from './traces.constants';
import type { ReadModelQueries } from '../read-models/domain/read-models';
import type { ExecutionView } from '../read-models/domain/execution-view';
import { READ_MODEL_QUERIES } from '../projection.constants';

/** As GET /v1/executions/:id takes it (the orchestrator accepts ids of at most 200 characters). */
const executionIdParam = text().min(1).max(200).describe('execution id');

/** Spans may start a little before the execution was accepted (the HTTP request that submitted it). */
const BEFORE_ACCEPTED_MS = 5 * 60_000;
/** And the projection's own spans of the last events end a moment after the read model shows them. */
const AFTER_NOW_MS = 60_000;

const SPAN_SCHEMA: SchemaObject = {
  type: 'object',
  required: ['traceId', 'spanId', 'parentSpanId', 'service', 'operation', 'startTime', 'startTimeUs', 'offsetUs', 'durationUs', 'depth', 'attributes', 'status', 'error'],
  properties: {
    traceId: { type: 'string' },
    spanId: { type: 'string' },
    parentSpanId: { type: 'string', nullable: true, description: 'null for a root; the parent may be a span of another service' },
    service: { type: 'string', example: 'agent-pool' },
    operation: { type: 'string', example: 'kafka.consume flotilla.task.TaskDispatched' },
    startTime: { type: 'string', format: 'date-time', description: 'to the millisecond' },
    startTimeUs: { type: 'integer', description: 'microseconds since the epoch' },
    offsetUs: { type: 'integer', description: 'microseconds from the first span of the execution' },
    durationUs: { type: 'integer' },
    depth: { type: 'integer', description: '0 for a root (or a span whose parent was not recorded), else parent depth + 1' },
    attributes: { type: 'object', additionalProperties: { oneOf: [{ type: 'string' }, { type: 'number' }, { type: 'boolean' }] }, description: 'the flotilla.* tags and a few messaging/HTTP ones (topic, partition, offset, method, route, status code)' },
    status: { type: 'string', enum: ['ok', 'error', 'unset'] },
    error: { type: 'string', nullable: true, description: 'why the span failed (status description or exception message)' },
  },
};
const TRACE_SCHEMA: SchemaObject = {
  type: 'object',
  required: ['executionId', 'traceId', 'otherTraceIds', 'services', 'startTime', 'durationUs', 'spanCount', 'errorCount', 'spans'],
  properties: {
    executionId: { type: 'string' },
    traceId: { type: 'string', description: 'the main trace: the one with the most spans' },
    otherTraceIds: { type: 'array', items: { type: 'string' }, description: 'other traces carrying the execution id (e.g. a request submitted twice); their spans are merged into `spans`' },
    services: { type: 'array', items: { type: 'string' }, description: 'in order of their first span' },
    startTime: { type: 'string', format: 'date-time' },
    durationUs: { type: 'integer', description: 'first span start to last span end' },
    spanCount: { type: 'integer' },
    errorCount: { type: 'integer' },
    spans: { type: 'array', items: SPAN_SCHEMA, description: 'sorted by start' },
  },
};

/**
 * `GET /v1/executions/:id/trace`: an execution followed end to end, from the trace store (Jaeger).
 * Scoped like the execution itself: the read model must know it, and a customer token sees only its
 * own customer's.
 */
@ApiTags('traces')
@ApiBearerAuth()
@Controller('v1')
export class TracesController {
  constructor(
    @Inject(READ_MODEL_QUERIES) private readonly queries: ReadModelQueries,
    @Inject(EXECUTION_TRACES) private readonly traces: ExecutionTraces,
  ) {}

  @Get('executions/:id/trace')
  @ApiOperation({
    summary: "An execution's spans across services, from Jaeger",
    description:
      'Finds the traces whose spans carry `flotilla.correlation_id` = the execution id. An execution is normally one trace; when several match ' +
      '(a request submitted twice, say), their spans are merged into one list: `traceId` is the main trace (the one with the most spans) and ' +
      '`otherTraceIds` names the others. Spans are sorted by start and carry their parent, depth, service, operation, timing (µs) and status. ' +
      'Jaeger ingests spans a few seconds after they end, so a new execution answers 404 for a moment, and a running one grows.',
  })
  @ApiPathParam('id', executionIdParam)
  @ApiOkResponse({ description: 'The execution\'s spans', schema: TRACE_SCHEMA })
  // 401, 403 and 429 are the guard's, documented on every route that needs a token (documentService).
  @ApiErrors(
    400,
    { status: 404, description: 'No such execution (yet: the read model may lag the events by a moment), another customer\'s, or no spans of it in Jaeger yet (code NOT_FOUND; the message says which)' },
    { status: 503, description: 'Jaeger\'s query API is unreachable, did not answer within JAEGER_QUERY_TIMEOUT_MS, or failed (code TRACE_STORE_UNAVAILABLE; the message gives the reason); retry later' },
  )
  async trace(@CurrentPrincipal() principal: Principal, @Param('id') idParam: string): Promise<ExecutionTrace> {
    const id = parseInput(executionIdParam, idParam, 'id');
    const execution = await this.queries.getExecution(id);
    // Another customer's execution answers exactly like a missing one: its existence is not leaked.
    if (!execution || (principal.role === 'customer' && execution.customerId !== principal.customerId)) {
      throw new NotFoundError('execution', id, `execution ${id} is not known (yet): the read model may lag the events by a moment`);
    }
    const trace = await this.traces.find(id, windowOf(execution, Date.now()));
    if (!trace) throw new NotFoundError('trace', id, `Jaeger has no spans of execution ${id} (yet): spans arrive a few seconds after they end; try again shortly`);
    return trace;
  }
}

function windowOf(execution: ExecutionView, nowMs: number): TraceWindow {
  const times = [execution.acceptedAt, execution.queuedAt, execution.lastEventAt].flatMap((t) => (t ? [Date.parse(t)] : [])).filter((t) => Number.isFinite(t));
  const first = times.length > 0 ? Math.min(...times) : nowMs;
  return { from: new Date(first - BEFORE_ACCEPTED_MS), to: new Date(Math.max(nowMs, first) + AFTER_NOW_MS) };
}
