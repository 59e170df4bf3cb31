import { NotFoundError } from '@flotilla/domain';
import { ApiErrors, ApiPathParam, assertOps, CurrentPrincipal, parseInput, text, type Principal } from '@flotilla/service-kit';
import { Body, Controller, Get, HttpCode, Inject, Param, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { z } from 'zod';
import { RECOMMENDATION_ROWS, RECOMMENDER } from '../optimizer.constants';
import type { RecommendationState } from './domain/recommendation';
import type { RecommendationRows } from './ports';
import type { Recommender } from './recommender';

const RECOMMENDATION_SCHEMA: SchemaObject = {
  type: 'object',
  required: ['recommendationId', 'kind', 'agentType', 'status', 'summary', 'currentWorkers', 'recommendedWorkers', 'estimatedMonthlySavingMicros', 'confidence', 'evidence', 'issuedAt'],
  properties: {
    recommendationId: { type: 'string' },
    kind: { type: 'string', enum: ['over_provisioned', 'idle_pool', 'schedule', 'schedule_weekly'] },
    agentType: { type: 'string' },
    status: { type: 'string', enum: ['open', 'dismissed'] },
    summary: { type: 'string' },
    currentWorkers: { type: 'integer' },
    recommendedWorkers: { type: 'integer' },
    estimatedMonthlySavingMicros: { type: 'integer' },
    confidence: { type: 'number' },
    evidence: { type: 'object', additionalProperties: { type: 'string' } },
    issuedAt: { type: 'string', format: 'date-time' },
    dismissedReason: { type: 'string', nullable: true },
  },
};
const LIST_SCHEMA: SchemaObject = { type: 'object', required: ['items'], properties: { items: { type: 'array', items: RECOMMENDATION_SCHEMA } } };
const idParam = text().min(1).max(200).describe('recommendation id, kind:agentType');
const dismissBody = z.object({ reason: text().min(1).max(500) }).strict();

function view(state: RecommendationState) {
  if (state.status === 'None' || (state.status === 'Dismissed' && state.issued === null)) return null;
  const issued = state.issued!;
  return {
    recommendationId: issued.recommendationId,
    kind: issued.kind,
    agentType: issued.agentType,
    status: state.status === 'Open' ? 'open' : 'dismissed',
    summary: issued.summary,
    currentWorkers: issued.currentWorkers,
    recommendedWorkers: issued.recommendedWorkers,
    estimatedMonthlySavingMicros: issued.estimatedMonthlySavingMicros,
    confidence: issued.confidence,
    evidence: issued.evidence,
    issuedAt: new Date(issued.issuedAt).toISOString(),
    dismissedReason: state.status === 'Dismissed' ? state.dismissed.reason : null,
  };
}

/** Recommendations about the pools, with their evidence and estimated saving (ops only). */
@ApiTags('recommendations')
@ApiBearerAuth()
@Controller('v1/recommendations')
export class RecommendationsController {
  constructor(
    @Inject(RECOMMENDATION_ROWS) private readonly rows: RecommendationRows,
    @Inject(RECOMMENDER) private readonly recommender: Recommender,
  ) {}

  @Get()
  @ApiOperation({ summary: 'Every recommendation, largest estimated saving first, open and dismissed (ops only)' })
  @ApiOkResponse({ description: 'The recommendations', schema: LIST_SCHEMA })
  async list(@CurrentPrincipal() principal: Principal) {
    assertOps(principal, 'recommendations');
    return { items: (await this.rows.list()).flatMap((s) => view(s) ?? []) };
  }

  @Post('refresh')
  @HttpCode(200)
  @ApiOperation({ summary: 'Recompute the recommendations now from the metrics so far, and answer them (ops only)' })
  @ApiOkResponse({ description: 'The recommendations after the recomputation', schema: LIST_SCHEMA })
  async refresh(@CurrentPrincipal() principal: Principal) {
    assertOps(principal, 'recommendations');
    return { items: (await this.recommender.refresh()).flatMap((s) => view(s) ?? []) };
  }

  @Post(':id/dismiss')
  @HttpCode(200)
  @ApiOperation({ summary: 'Dismiss a recommendation, with the reason: it is not issued again (ops only)' })
  @ApiPathParam('id', idParam)
  @ApiBody({ schema: { type: 'object', required: ['reason'], additionalProperties: false, properties: { reason: { type: 'string', minLength: 1, maxLength: 500 } } } })
  @ApiOkResponse({ description: 'The dismissed recommendation', schema: RECOMMENDATION_SCHEMA })
  @ApiErrors(400, { status: 404, description: 'No such recommendation' })
  async dismiss(@CurrentPrincipal() principal: Principal, @Param('id') idRaw: string, @Body() body: unknown) {
    assertOps(principal, 'recommendations');
    const id = parseInput(idParam, idRaw, 'id');
    const { reason } = parseInput(dismissBody, body);
    const current = await this.rows.get(id);
    const shown = current && view(current);
    if (!current || !shown) throw new NotFoundError('recommendation', id, `no recommendation ${id}`);
    const after = await this.recommender.apply(id, shown.agentType, { type: 'Dismiss', agentType: shown.agentType, dismissedBy: principal.subject, reason, now: Date.now() });
    return view(after);
  }
}
