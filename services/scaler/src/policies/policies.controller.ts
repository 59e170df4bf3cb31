import { AGENT_TYPES } from '@flotilla/contracts';
import { NotFoundError } from '@flotilla/domain';
import { ApiErrors, ApiPathParam, assertOps, CurrentPrincipal, openApiSchema, parseInput, RefusedInputError, text, type Principal } from '@flotilla/service-kit';
import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post, Put } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import type { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { z } from 'zod';
import { POOL_FORECASTS, POOL_REPLICAS_VIEW, SCALE_SAGA_ROWS, SCALING_POOLS } from '../scaler.constants';
import type { PoolForecasts } from '../forecasting/pool-forecasts';
import type { PoolReplicasView } from '../observations/pool-replicas.view';
import type { SagaRows } from '../sagas/ports';
import type { ScalingPoolState } from '../scaling/domain/scaling-pool';
import type { ScalingPools } from '../scaling/scaling-pools';
import { POLICY_TEMPLATES, TEMPLATE_NAMES, type TemplateName } from './domain/policy-templates';
import { scalingPolicyInputSchema, validatePolicy } from './domain/scaling-policy';

const agentTypeParam = z.enum(AGENT_TYPES).describe('the pool (agent type)');
const overrideBody = z
  .object({
    replicas: z.number().int('must be a whole number').min(0).max(1_000),
    reason: text().min(1).max(500),
    durationSeconds: z.number().int('must be a whole number of seconds').min(1).max(7 * 86_400).describe('the policy resumes after this long'),
  })
  .strict();
const pauseBody = z.object({ reason: text().min(1).max(500) }).strict();
/** A template's name, or nothing; the body's other fields replace the template's (top level). */
const policyBody = scalingPolicyInputSchema.partial().extend({ agentType: z.string().optional(), template: z.enum(TEMPLATE_NAMES).optional().describe('start from this template; the other fields replace its own') });

const POOL_SCHEMA: SchemaObject = {
  type: 'object',
  required: ['agentType', 'managed', 'policy', 'template', 'override', 'paused', 'replicas', 'runningSaga', 'forecastOnly'],
  properties: {
    agentType: { type: 'string' },
    managed: { type: 'boolean', description: 'a policy was ever set' },
    policy: { type: 'object', nullable: true, description: 'the policy in force, with its version; null when removed or never set' },
    template: { type: 'string', nullable: true },
    override: { type: 'object', nullable: true, required: ['replicas', 'reason', 'expiresAt', 'setBy'], properties: { replicas: { type: 'integer' }, reason: { type: 'string' }, expiresAt: { type: 'string', format: 'date-time' }, setBy: { type: 'string' } } },
    paused: { type: 'object', nullable: true, required: ['reason', 'by', 'at'], properties: { reason: { type: 'string' }, by: { type: 'string' }, at: { type: 'string', format: 'date-time' } } },
    replicas: { type: 'object', nullable: true, required: ['replicas', 'readyReplicas', 'slotsPerWorker'], properties: { replicas: { type: 'integer' }, readyReplicas: { type: 'integer' }, slotsPerWorker: { type: 'integer' } } },
    runningSaga: { type: 'object', nullable: true, required: ['sagaId', 'status'], properties: { sagaId: { type: 'string' }, status: { type: 'string' } } },
    forecastOnly: {
      type: 'object',
      nullable: true,
      description: "forecast-only mode's tally since the scaler started: how often the forecast, and the reactive rate of the moment, would have covered the peak of the window ahead; null when the pool never ran forecast-only",
      required: ['scored', 'pending', 'unavailable', 'forecastCoveredPct', 'reactiveCoveredPct', 'medianPeakErrorPct', 'lastScoredAt'],
      properties: {
        scored: { type: 'integer' },
        pending: { type: 'integer' },
        unavailable: { type: 'integer' },
        forecastCoveredPct: { type: 'number', nullable: true },
        reactiveCoveredPct: { type: 'number', nullable: true },
        medianPeakErrorPct: { type: 'number', nullable: true },
        lastScoredAt: { type: 'string', format: 'date-time', nullable: true },
      },
    },
  },
};
const TEMPLATES_SCHEMA: SchemaObject = {
  type: 'object',
  required: ['items'],
  properties: { items: { type: 'array', items: { type: 'object', required: ['name', 'purpose', 'spec'], properties: { name: { type: 'string' }, purpose: { type: 'string' }, spec: { type: 'object' } } } } },
};
const POLICY_400 = { status: 400, description: 'A policy that is not valid (INVALID_POLICY): every problem, each naming its field as a path (metrics[1].target, behavior.scaleDown.policies[0].value)' };

/** The scaler's policies, overrides and pauses, per pool (ops only). Every decision and saga they lead to is on flotilla.scaling. */
@ApiTags('scaling')
@ApiBearerAuth()
@Controller('v1')
export class PoliciesController {
  constructor(
    @Inject(SCALING_POOLS) private readonly pools: ScalingPools,
    @Inject(POOL_REPLICAS_VIEW) private readonly replicas: PoolReplicasView,
    @Inject(SCALE_SAGA_ROWS) private readonly sagas: SagaRows,
    @Inject(POOL_FORECASTS) private readonly forecasts: PoolForecasts,
  ) {}

  @Get('policy-templates')
  @ApiOperation({ summary: 'The named starting points for a policy: what each is for, and its settings' })
  @ApiOkResponse({ description: 'The templates', schema: TEMPLATES_SCHEMA })
  templates(@CurrentPrincipal() principal: Principal) {
    assertOps(principal, 'scaling policies');
    return { items: TEMPLATE_NAMES.map((name) => ({ name, purpose: POLICY_TEMPLATES[name].purpose, spec: POLICY_TEMPLATES[name].spec })) };
  }

  @Get('pools')
  @ApiOperation({ summary: 'Every pool the scaler knows: policy, override, pause, replicas, the saga in progress' })
  @ApiOkResponse({ description: 'The pools', schema: { type: 'object', required: ['items'], properties: { items: { type: 'array', items: POOL_SCHEMA } } } })
  async list(@CurrentPrincipal() principal: Principal) {
    assertOps(principal, 'scaling policies');
    const [states, running] = await Promise.all([this.pools.all(), this.sagas.running(), this.replicas.loaded()]);
    return { items: [...states.keys()].sort().map((agentType) => this.view(agentType, states.get(agentType)!, running.get(agentType) ?? null)) };
  }

  @Get('pools/:agentType')
  @ApiOperation({ summary: 'One pool: policy, override, pause, replicas, the saga in progress' })
  @ApiPathParam('agentType', agentTypeParam)
  @ApiOkResponse({ description: 'The pool', schema: POOL_SCHEMA })
  @ApiErrors(400, { status: 404, description: 'The scaler has no policy, override or pause for this pool' })
  async get(@CurrentPrincipal() principal: Principal, @Param('agentType') param: string) {
    assertOps(principal, 'scaling policies');
    const agentType = parseInput(agentTypeParam, param, 'agentType');
    const [states] = await Promise.all([this.pools.all(), this.replicas.loaded()]);
    const state = states.get(agentType);
    if (!state || state.status === 'Unmanaged') throw new NotFoundError('pool', agentType, `the scaler has no policy, override or pause for pool ${agentType}`);
    return this.view(agentType, state, (await this.sagas.running()).get(agentType) ?? null);
  }

  @Put('pools/:agentType/policy')
  @HttpCode(200)
  @ApiOperation({ summary: 'Set the pool\'s policy (the next version), from scratch or from a template with changes' })
  @ApiPathParam('agentType', agentTypeParam)
  @ApiBody({ schema: openApiSchema(policyBody) })
  @ApiOkResponse({ description: 'The pool with its new policy', schema: POOL_SCHEMA })
  @ApiErrors(POLICY_400)
  async put(@CurrentPrincipal() principal: Principal, @Param('agentType') param: string, @Body() body: unknown) {
    assertOps(principal, 'setting a scaling policy');
    const agentType = parseInput(agentTypeParam, param, 'agentType');
    const { template, ...fields } = (body && typeof body === 'object' && !Array.isArray(body) ? body : {}) as { template?: unknown } & Record<string, unknown>;
    if (template !== undefined && !TEMPLATE_NAMES.includes(template as TemplateName)) throw new RefusedInputError('INVALID_POLICY', [{ field: 'template', problem: `must be one of ${TEMPLATE_NAMES.join(', ')}` }]);
    const base = template === undefined ? {} : POLICY_TEMPLATES[template as TemplateName].spec;
    const validation = validatePolicy({ ...base, ...fields, agentType });
    if (!validation.ok) throw new RefusedInputError('INVALID_POLICY', validation.problems);
    const { state } = await this.pools.apply(agentType, { type: 'DefinePolicy', agentType, policy: validation.policy, template: (template as string | undefined) ?? null, by: principal.subject, now: Date.now() });
    return this.view(agentType, state, null);
  }

  @Delete('pools/:agentType/policy')
  @ApiOperation({ summary: 'Remove the pool\'s policy: the scaler stops evaluating it (its size stays)' })
  @ApiPathParam('agentType', agentTypeParam)
  @ApiOkResponse({ description: 'The pool without a policy', schema: POOL_SCHEMA })
  @ApiErrors(400)
  async remove(@CurrentPrincipal() principal: Principal, @Param('agentType') param: string) {
    return this.change(principal, param, () => ({ type: 'RemovePolicy', by: principal.subject, now: Date.now() }), 'removing a scaling policy');
  }

  @Put('pools/:agentType/override')
  @HttpCode(200)
  @ApiOperation({ summary: 'Hold the pool at these replicas, for this reason, for this long; then the policy resumes' })
  @ApiPathParam('agentType', agentTypeParam)
  @ApiBody({ schema: openApiSchema(overrideBody) })
  @ApiOkResponse({ description: 'The pool with its override', schema: POOL_SCHEMA })
  @ApiErrors(400)
  async override(@CurrentPrincipal() principal: Principal, @Param('agentType') param: string, @Body() body: unknown) {
    const o = parseInput(overrideBody, body);
    const now = Date.now();
    return this.change(principal, param, (agentType) => ({ type: 'SetOverride', agentType, override: { replicas: o.replicas, reason: o.reason, expiresAt: now + o.durationSeconds * 1000, setBy: principal.subject }, now }), 'overriding a pool\'s size');
  }

  @Delete('pools/:agentType/override')
  @ApiOperation({ summary: 'End the override now: the policy resumes' })
  @ApiPathParam('agentType', agentTypeParam)
  @ApiOkResponse({ description: 'The pool', schema: POOL_SCHEMA })
  @ApiErrors(400)
  async clearOverride(@CurrentPrincipal() principal: Principal, @Param('agentType') param: string) {
    return this.change(principal, param, () => ({ type: 'ClearOverride', by: principal.subject, now: Date.now() }), 'overriding a pool\'s size');
  }

  @Post('pools/:agentType/pause')
  @HttpCode(200)
  @ApiOperation({ summary: 'Pause scaling the pool: it keeps its size; decisions still say what the policy would do' })
  @ApiPathParam('agentType', agentTypeParam)
  @ApiBody({ schema: openApiSchema(pauseBody) })
  @ApiOkResponse({ description: 'The pool', schema: POOL_SCHEMA })
  @ApiErrors(400)
  async pause(@CurrentPrincipal() principal: Principal, @Param('agentType') param: string, @Body() body: unknown) {
    const { reason } = parseInput(pauseBody, body);
    return this.change(principal, param, (agentType) => ({ type: 'Pause', agentType, reason, by: principal.subject, now: Date.now() }), 'pausing a pool');
  }

  @Post('pools/:agentType/resume')
  @HttpCode(200)
  @ApiOperation({ summary: 'Resume scaling the pool' })
  @ApiPathParam('agentType', agentTypeParam)
  @ApiOkResponse({ description: 'The pool', schema: POOL_SCHEMA })
  @ApiErrors(400)
  async resume(@CurrentPrincipal() principal: Principal, @Param('agentType') param: string) {
    return this.change(principal, param, () => ({ type: 'Resume', by: principal.subject, now: Date.now() }), 'pausing a pool');
  }

  private async change(principal: Principal, param: string, command: (agentType: string) => Parameters<ScalingPools['apply']>[1], what: string) {
    assertOps(principal, what);
    const agentType = parseInput(agentTypeParam, param, 'agentType');
    const { state } = await this.pools.apply(agentType, command(agentType));
    return this.view(agentType, state, (await this.sagas.running()).get(agentType) ?? null);
  }

  private view(agentType: string, state: ScalingPoolState, running: { readonly sagaId: string; readonly state: { readonly status: string } } | null) {
    const managed = state.status === 'Managed' ? state : null;
    const replicas = this.replicas.get(agentType);
    const shadow = this.forecasts.shadowSummary(agentType);
    const iso = (ms: number) => new Date(ms).toISOString();
    return {
      agentType,
      managed: managed !== null,
      policy: managed?.policy ?? null,
      template: managed?.template ?? null,
      override: managed?.override ? { ...managed.override, expiresAt: iso(managed.override.expiresAt) } : null,
      paused: managed?.paused ? { ...managed.paused, at: iso(managed.paused.at) } : null,
      replicas: replicas && { replicas: replicas.replicas, readyReplicas: replicas.readyReplicas, slotsPerWorker: replicas.slotsPerWorker },
      runningSaga: running && { sagaId: running.sagaId, status: running.state.status },
      forecastOnly: shadow && { ...shadow, lastScoredAt: shadow.lastScoredAt === null ? null : iso(shadow.lastScoredAt) },
    };
  }
}
