import { AGENT_TYPES, budgetScopeOf, isAgentType } from '@flotilla/contracts';
import { NotFoundError, ValidationError } from '@flotilla/domain';
import { ApiErrors, ApiPathParam, assertOps, CurrentPrincipal, parseInput, text, type Principal } from '@flotilla/service-kit';
import { Body, Controller, Get, HttpCode, Inject, Param, Put } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { BUDGET_COMMANDS, BUDGET_QUERIES } from '../optimizer.constants';
import type { BudgetCommands } from './budget-commands';
import { AT_EXHAUSTION, DEFAULT_THRESHOLDS, type AtExhaustion } from './domain/budget';
import { budgetView } from './domain/budget-view';
import type { BudgetRows } from './ports';
import { BUDGET_LIST_SCHEMA, BUDGET_SCHEMA } from './budgets.openapi';

// The document states the whole format (every agent type included), so that a request it allows is never refused.
const budgetIdParam = text()
  .min(1)
  .max(210)
  .regex(new RegExp(`^(customer:.+|pool:(${AGENT_TYPES.join('|')})|global)$`, 's'), 'must be customer:<customerId>, pool:<agentType> or global')
  .describe('customer:<customerId>, pool:<agentType> or global');
const budgetBody = z
  .object({
    period: z.enum(['daily', 'weekly', 'monthly']),
    amountMicros: z.number().int('must be a whole number of micro-units').min(1, 'must be at least 1').max(Number.MAX_SAFE_INTEGER),
    thresholds: z
      .array(z.number().int('must be a whole percentage').min(1, 'must be at least 1').max(1_000, 'must be at most 1000'))
      .min(1)
      .max(10)
      .refine((t) => new Set(t).size === t.length, 'must not name a threshold twice')
      .transform((t) => [...t].sort((a, b) => a - b))
      .default([...DEFAULT_THRESHOLDS]),
    atExhaustion: z.enum(AT_EXHAUSTION as [AtExhaustion, ...AtExhaustion[]]).default('alert'),
  })
  .strict();

/** The scope a budget id names, refused with the field when it names none. */
function parseBudgetId(raw: string): string {
  const budgetId = parseInput(budgetIdParam, raw, 'budgetId');
  const scope = budgetScopeOf(budgetId);
  // The pattern above already holds both; kept so that a change to one of them cannot let a bad id through.
  if (!scope || (scope.kind === 'pool' && !isAgentType(scope.agentType))) throw ValidationError.of('budgetId', 'must be customer:<customerId>, pool:<agentType> or global');
  return budgetId;
}

/** Ops sees every budget; a customer token only its own customer budget. */
function mayRead(principal: Principal, budgetId: string): boolean {
  return principal.role === 'ops' || budgetId === `customer:${principal.customerId}`;
}

/** Budgets per customer, pool and the platform: set, read with spend, reservations and forecast. Every route needs a token. */
@ApiTags('budgets')
@ApiBearerAuth()
@Controller('v1/budgets')
export class BudgetsController {
  constructor(
    @Inject(BUDGET_COMMANDS) private readonly commands: BudgetCommands,
    @Inject(BUDGET_QUERIES) private readonly budgets: BudgetRows,
  ) {}

  @Put(':budgetId')
  @HttpCode(200)
  @ApiOperation({ summary: 'Set a budget: create it, or change its amount, period, thresholds or what 100 % does (ops only). Spend counts from its creation on' })
  @ApiPathParam('budgetId', budgetIdParam)
  @ApiBody({
    schema: {
      type: 'object',
      required: ['period', 'amountMicros'],
      additionalProperties: false,
      properties: {
        period: { type: 'string', enum: ['daily', 'weekly', 'monthly'] },
        amountMicros: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER },
        thresholds: { type: 'array', items: { type: 'integer', minimum: 1, maximum: 1_000 }, minItems: 1, maxItems: 10, uniqueItems: true, description: 'percentages, in any order; 75, 90, 100 by default' },
        atExhaustion: { type: 'string', enum: [...AT_EXHAUSTION], description: 'alert (default), hold_executions (customer budgets: the orchestrator holds its new executions) or deny_scale_ups' },
      },
    },
  })
  @ApiOkResponse({ description: 'The budget as it is now', schema: BUDGET_SCHEMA })
  @ApiErrors(400)
  async put(@CurrentPrincipal() principal: Principal, @Param('budgetId') idParam: string, @Body() body: unknown) {
    assertOps(principal, 'setting a budget');
    const budgetId = parseBudgetId(idParam);
    const b = parseInput(budgetBody, body);
    const now = Date.now();
    const state = await this.commands.apply(budgetId, { type: 'DefineBudget', definition: { budgetId, ...b }, definedBy: principal.subject, now });
    if (state?.status !== 'Active') throw new Error(`budget ${budgetId} was not set`);
    return budgetView(state, now);
  }

  @Get()
  @ApiOperation({ summary: 'Every budget with its spend; a customer token sees only its own customer budget' })
  @ApiOkResponse({ description: 'The budgets', schema: BUDGET_LIST_SCHEMA })
  async list(@CurrentPrincipal() principal: Principal) {
    const states = await this.budgets.list(principal.role === 'ops' ? undefined : [`customer:${principal.customerId}`]);
    const now = Date.now();
    return { items: states.flatMap((s) => (s.status === 'Active' ? [budgetView(s, now)] : [])) };
  }

  @Get(':budgetId')
  @ApiOperation({ summary: "A budget with its current period's spend, reservations, what is left and the forecast to the period's end; 404 when none is set, or it is not the caller's" })
  @ApiPathParam('budgetId', budgetIdParam)
  @ApiOkResponse({ description: 'The budget', schema: BUDGET_SCHEMA })
  @ApiErrors(400, { status: 404, description: 'No such budget, or not one this token may read' })
  async get(@CurrentPrincipal() principal: Principal, @Param('budgetId') idParam: string) {
    const budgetId = parseBudgetId(idParam);
    const state = mayRead(principal, budgetId) ? await this.budgets.get(budgetId) : null;
    if (state?.status !== 'Active') throw new NotFoundError('budget', budgetId, `no budget is set for ${budgetId}`);
    return budgetView(state, Date.now());
  }
}
