import type { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';

/** The OpenAPI schemas of the cost, budget and recommendation read models (domain/cost-views.ts) as JSON. */
const time: SchemaObject = { type: 'string', format: 'date-time' };
const nullableString: SchemaObject = { type: 'string', nullable: true };
const micros = (description: string): SchemaObject => ({ type: 'integer', minimum: 0, description: `${description}, micro-units of the currency` });
const efficiency: SchemaObject = { type: 'number', minimum: 0, maximum: 1, nullable: true, description: 'of what CPU and memory were charged (max(requested, used) × time), the share actually used; null when none was charged' };

export const COST_SUMMARY_SCHEMA: SchemaObject = {
  type: 'object',
  required: ['from', 'to', 'groupBy', 'totals', 'rows'],
  properties: {
    from: time,
    to: time,
    groupBy: { type: 'array', items: { type: 'string', enum: ['hour', 'customer', 'pool'] } },
    totals: {
      type: 'array',
      description: 'one per currency',
      items: { type: 'object', required: ['currency', 'attempts', 'totalMicros', 'efficiency'], properties: { currency: { type: 'string' }, attempts: { type: 'integer', minimum: 0 }, totalMicros: micros('what the attempts cost'), efficiency } },
    },
    rows: {
      type: 'array',
      items: {
        type: 'object',
        required: ['currency', 'attempts', 'totalMicros', 'efficiency'],
        properties: {
          hour: { ...time, description: 'the hour the attempts ended in (when grouped by hour)' },
          customerId: { type: 'string', description: 'when grouped by customer' },
          agentType: { type: 'string', description: 'the pool, when grouped by pool' },
          currency: { type: 'string' },
          attempts: { type: 'integer', minimum: 0 },
          totalMicros: micros('what the attempts cost'),
          efficiency,
        },
      },
    },
  },
};

export const EXECUTION_COSTS_SCHEMA: SchemaObject = {
  type: 'object',
  required: ['items'],
  properties: {
    items: {
      type: 'array',
      items: {
        type: 'object',
        required: ['executionId', 'customerId', 'status', 'costMicros', 'costCurrency', 'costFinal', 'costAttempts', 'costMissingAttempts', 'acceptedAt', 'finishedAt'],
        properties: {
          executionId: { type: 'string' },
          customerId: nullableString,
          status: { type: 'string' },
          costMicros: micros('the sum of its attempts\' costs'),
          costCurrency: nullableString,
          costFinal: { type: 'boolean', description: 'the execution ended and every attempt it started was costed' },
          costAttempts: { type: 'integer', minimum: 0 },
          costMissingAttempts: { type: 'integer', minimum: 0 },
          acceptedAt: { ...time, nullable: true },
          finishedAt: { ...time, nullable: true },
        },
      },
    },
  },
};

export const BUDGET_STATUS_SCHEMA: SchemaObject = {
  type: 'object',
  required: ['budgetId', 'scope', 'customerId', 'agentType', 'period', 'amountMicros', 'thresholds', 'atExhaustion', 'periodKey', 'periodStart', 'periodEnd', 'spentMicros', 'reservedMicros', 'availableMicros', 'percentUsed', 'forecastMicros', 'forecastPercent', 'crossed', 'level', 'definedAt', 'definedBy'],
  properties: {
    budgetId: { type: 'string', description: 'customer:<customerId>, pool:<agentType> or global' },
    scope: { type: 'string', enum: ['customer', 'pool', 'global'] },
    customerId: nullableString,
    agentType: nullableString,
    period: { type: 'string', enum: ['daily', 'weekly', 'monthly'] },
    amountMicros: micros('the budget per period'),
    thresholds: { type: 'array', items: { type: 'integer' }, description: 'percent' },
    atExhaustion: { type: 'string', enum: ['alert', 'hold_executions', 'deny_scale_ups'] },
    periodKey: { type: 'string' },
    periodStart: time,
    periodEnd: time,
    spentMicros: micros('spent in the current period (costs recorded since the budget was first set, and committed reservations)'),
    reservedMicros: micros('held by reservations not yet committed or released'),
    availableMicros: micros('amount − spent − reserved, never below 0'),
    percentUsed: { type: 'number', minimum: 0 },
    forecastMicros: micros('spend at the end of the period at the pace so far'),
    forecastPercent: { type: 'number', minimum: 0 },
    crossed: { type: 'array', items: { type: 'integer' }, description: 'thresholds crossed this period (BudgetThresholdCrossed)' },
    level: { type: 'string', enum: ['ok', 'warning', 'critical', 'exhausted'] },
    definedAt: time,
    definedBy: { type: 'string' },
  },
};

export const RECOMMENDATION_VIEW_SCHEMA: SchemaObject = {
  type: 'object',
  required: ['recommendationId', 'kind', 'agentType', 'summary', 'currentWorkers', 'recommendedWorkers', 'estimatedMonthlySavingMicros', 'confidence', 'evidence', 'issuedAt', 'status', 'dismissed'],
  properties: {
    recommendationId: { type: 'string' },
    kind: { type: 'string' },
    agentType: { type: 'string' },
    summary: { type: 'string' },
    currentWorkers: { type: 'integer' },
    recommendedWorkers: { type: 'integer' },
    estimatedMonthlySavingMicros: { type: 'integer' },
    confidence: { type: 'number' },
    evidence: { type: 'object', additionalProperties: { type: 'string' } },
    issuedAt: time,
    status: { type: 'string', enum: ['open', 'dismissed'] },
    dismissed: { type: 'object', nullable: true, required: ['at', 'by', 'reason'], properties: { at: time, by: { type: 'string' }, reason: { type: 'string' } } },
  },
};

export const listOf = (item: SchemaObject): SchemaObject => ({ type: 'object', required: ['items'], properties: { items: { type: 'array', items: item } } });
