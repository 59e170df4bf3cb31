import type { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';

const micros: SchemaObject = { type: 'integer', description: 'micro-units of the currency' };
const time: SchemaObject = { type: 'string', format: 'date-time' };

export const BUDGET_SCHEMA: SchemaObject = {
  type: 'object',
  required: ['budgetId', 'period', 'amountMicros', 'thresholds', 'atExhaustion', 'periodKey', 'periodStart', 'periodEnd', 'spentMicros', 'reservedMicros', 'availableMicros', 'percentUsed', 'crossed', 'forecastMicros', 'forecastPercent'],
  properties: {
    budgetId: { type: 'string', description: 'customer:<customerId>, pool:<agentType> or global' },
    period: { type: 'string', enum: ['daily', 'weekly', 'monthly'] },
    amountMicros: micros,
    thresholds: { type: 'array', items: { type: 'integer' } },
    atExhaustion: { type: 'string', enum: ['alert', 'hold_executions', 'deny_scale_ups'] },
    periodKey: { type: 'string' },
    periodStart: time,
    periodEnd: time,
    spentMicros: micros,
    reservedMicros: micros,
    availableMicros: micros,
    percentUsed: { type: 'number' },
    crossed: { type: 'array', items: { type: 'integer' } },
    forecastMicros: micros,
    forecastPercent: { type: 'number' },
  },
};

export const BUDGET_LIST_SCHEMA: SchemaObject = { type: 'object', required: ['items'], properties: { items: { type: 'array', items: BUDGET_SCHEMA } } };
