import { AGENT_TYPES } from '@flotilla/contracts';
import { NotFoundError } from '@flotilla/domain';
import { ApiErrors, ApiPathParam, ApiQueryFrom, assertOps, CurrentPrincipal, dateTime, parseInput, RefusedInputError, text, type Principal } from '@flotilla/service-kit';
import { Controller, Get, Inject, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { timelineRange } from './domain/pool-timeline';
import { SAGA_STATUSES } from './domain/saga-view';
import type { ScalingQueries } from './domain/scaling-views';
import { DECISION_PAGE_SCHEMA, listOf, POOL_TIMELINE_SCHEMA, SAGA_SCHEMA, SCALING_POOL_SCHEMA } from './scaling.openapi';
import { SCALING_QUERIES } from '../projection.constants';
import { decodeCursor, encodeCursor } from '../read-models/domain/cursor';
import { STRICT_QUERY } from '../read-models/read-models.controller';

const MAX_TIMELINE_MINUTES = 1_440;
const limit = (fallback: number) =>
  z.coerce
    .number({ invalid_type_error: 'must be a number' })
    .int('must be a whole number')
    .min(1, 'must be at least 1')
    .max(200, 'must be at most 200')
    .default(fallback)
    .describe('at most this many');
const agentType = z.enum(AGENT_TYPES);
const agentTypeParam = agentType.describe('the pool (agent type)');
const poolsQuery = z.object({ access_token: z.string().optional() }).strict();
const timelineQuery = z
  .object({
    from: dateTime().optional().describe('minutes starting at or after (rounded down to the minute; default: an hour before to)'),
    to: dateTime().optional().describe(`minutes starting before (rounded up to the minute; default: the end of the current minute); at most ${MAX_TIMELINE_MINUTES} minutes after from`),
    access_token: z.string().optional(),
  })
  .strict();
const decisionsQuery = z
  .object({
    agentType: agentType.optional().describe('only this pool\'s'),
    direction: z.enum(['up', 'down', 'none']).optional(),
    limit: limit(50),
    cursor: z
      .string()
      .min(1)
      .max(2000)
      .regex(/^[A-Za-z0-9_-]+$/, 'cursor is not one this API issued')
      .optional()
      .describe('`nextCursor` of the previous page, as it was given; another value answers 400 with code INVALID_CURSOR'),
    access_token: z.string().optional(),
  })
  .strict();
const sagasQuery = z
  .object({
    agentType: agentType.optional().describe('only this pool\'s'),
    status: z.enum([...SAGA_STATUSES, 'in_flight']).optional().describe('a status, or in_flight for every one but completed, denied and compensated'),
    limit: limit(50),
    access_token: z.string().optional(),
  })
  .strict();
const sagaIdParam = text().min(1).max(200).describe('the scale saga\'s id');

const parse = <T extends z.ZodTypeAny>(schema: T, query: unknown): z.infer<T> => parseInput(schema, query, '(query)');

/** The key in a cursor this API issued for decisions: [evaluatedAt as the API writes it, decisionId]; else 400 INVALID_CURSOR. */
function decisionCursor(cursor: string | undefined): [string, string] | null {
  if (cursor === undefined) return null;
  const key = decodeCursor(cursor, 2);
  const issuedTime = (k: unknown): k is string => typeof k === 'string' && Number.isFinite(Date.parse(k)) && new Date(Date.parse(k)).toISOString() === k;
  const issued = key !== null && issuedTime(key[0]) && typeof key[1] === 'string' && text().safeParse(key[1]).success;
  if (!issued) throw new RefusedInputError('INVALID_CURSOR', [{ field: 'cursor', problem: 'cursor is not one this API issued' }]);
  return [key[0] as string, key[1] as string];
}

const LIST_400 = { status: 400, description: 'Invalid query (VALIDATION_FAILED), or a cursor this API did not issue (INVALID_CURSOR): every problem, each naming its parameter' };
const OPS_ONLY = '(ops only: 403 for a customer token)';

/**
 * The query API over scaling: the pools under the scaler, each pool's minutes (replicas against
 * backlog and arrival rate, the forecast's band), the decisions with what they saw and why, and the
 * scale sagas with their steps. The platform's own sizing: for ops only.
 */
@ApiTags('scaling')
@ApiBearerAuth()
@Controller('v1/scaling')
export class ScalingController {
  constructor(@Inject(SCALING_QUERIES) private readonly queries: ScalingQueries) {}

  @Get('pools')
  @ApiOperation({ summary: `Each pool: its policy (version, template, bounds), override, pause, replicas desired and ready, the saga in flight ${OPS_ONLY}`, description: STRICT_QUERY })
  @ApiQueryFrom(poolsQuery)
  @ApiOkResponse({ description: 'The pools, by agent type', schema: listOf(SCALING_POOL_SCHEMA) })
  @ApiErrors({ status: 400, description: 'A parameter not listed here (VALIDATION_FAILED)' })
  async pools(@CurrentPrincipal() principal: Principal, @Query() query: unknown) {
    assertOps(principal, 'the pools\' scaling');
    parse(poolsQuery, query);
    return { items: await this.queries.listPools(Date.now()) };
  }

  @Get('pools/:agentType/timeline')
  @ApiOperation({
    summary: `A pool minute by minute: replicas, backlog, arrival rate and the forecast's band where a forecast covers the minute ${OPS_ONLY}`,
    description: `${STRICT_QUERY} A pool nothing is known of answers its minutes with nulls.`,
  })
  @ApiPathParam('agentType', agentTypeParam)
  @ApiQueryFrom(timelineQuery)
  @ApiOkResponse({ description: 'One point per minute, and the pool events of the range', schema: POOL_TIMELINE_SCHEMA })
  @ApiErrors({ status: 400, description: 'Invalid query or pool (VALIDATION_FAILED), or a range that is empty or too long (INVALID_RANGE): each problem names its parameter' })
  async timeline(@CurrentPrincipal() principal: Principal, @Param('agentType') param: string, @Query() query: unknown) {
    assertOps(principal, 'a pool\'s scaling timeline');
    const pool = parseInput(agentTypeParam, param, 'agentType');
    const range = timelineRange(parse(timelineQuery, query), Date.now(), { maxMinutes: MAX_TIMELINE_MINUTES });
    if ('problem' in range) throw new RefusedInputError('INVALID_RANGE', [range.problem]);
    return this.queries.timeline(pool, range.from, range.to);
  }

  @Get('decisions')
  @ApiOperation({ summary: `Scaling decisions, newest first, with their snapshot, stages, reasons and saga ${OPS_ONLY}`, description: STRICT_QUERY })
  @ApiQueryFrom(decisionsQuery)
  @ApiOkResponse({ description: 'A page of decisions', schema: DECISION_PAGE_SCHEMA })
  @ApiErrors(LIST_400)
  async decisions(@CurrentPrincipal() principal: Principal, @Query() query: unknown) {
    assertOps(principal, 'scaling decisions');
    const q = parse(decisionsQuery, query);
    const page = await this.queries.listDecisions({ agentType: q.agentType, direction: q.direction }, { limit: q.limit, after: decisionCursor(q.cursor) });
    return { items: page.items, nextCursor: page.nextCursor ? encodeCursor(page.nextCursor) : null };
  }

  @Get('sagas')
  @ApiOperation({ summary: `Scale sagas, latest first, with their steps ${OPS_ONLY}`, description: STRICT_QUERY })
  @ApiQueryFrom(sagasQuery)
  @ApiOkResponse({ description: 'The sagas', schema: listOf(SAGA_SCHEMA) })
  @ApiErrors({ status: 400, description: 'Invalid query (VALIDATION_FAILED): every problem, each naming its parameter' })
  async sagas(@CurrentPrincipal() principal: Principal, @Query() query: unknown) {
    assertOps(principal, 'scale sagas');
    const q = parse(sagasQuery, query);
    return { items: await this.queries.listSagas({ agentType: q.agentType, status: q.status, limit: q.limit }) };
  }

  @Get('sagas/:sagaId')
  @ApiOperation({ summary: `One scale saga: its steps in order and its compensations ${OPS_ONLY}` })
  @ApiPathParam('sagaId', sagaIdParam)
  @ApiOkResponse({ description: 'The saga', schema: SAGA_SCHEMA })
  @ApiErrors(400, { status: 404, description: 'No such saga (yet: the read model may lag the events by a moment)' })
  async saga(@CurrentPrincipal() principal: Principal, @Param('sagaId') param: string) {
    assertOps(principal, 'scale sagas');
    const sagaId = parseInput(sagaIdParam, param, 'sagaId');
    const saga = await this.queries.getSaga(sagaId);
    if (!saga) throw new NotFoundError('scale saga', sagaId, `scale saga ${sagaId} is not known (yet): the read model may lag the events by a moment`);
    return saga;
  }
}
