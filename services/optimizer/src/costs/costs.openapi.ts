import type { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';

/** What the cost routes answer; amounts are integer micro-units of `currency` (1 USD = 1,000,000). */
const micros: SchemaObject = { type: 'integer', minimum: 0, description: 'micro-units of the currency' };
const time: SchemaObject = { type: 'string', format: 'date-time' };

export const EXECUTION_COST_SCHEMA: SchemaObject = {
  type: 'object',
  required: ['executionId', 'customerId', 'currency', 'totalMicros', 'attempts', 'final'],
  properties: {
    executionId: { type: 'string' },
    customerId: { type: 'string' },
    currency: { type: 'string' },
    totalMicros: micros,
    final: { type: 'boolean', description: 'the execution ended and its cost was finalized (ExecutionCostFinalized published)' },
    finalizedAt: { ...time, description: 'when its cost became final; only when final' },
    missingAttempts: { type: 'integer', minimum: 0, description: 'attempts it started that never reported before the grace period ran out; only when final' },
    attempts: {
      type: 'array',
      items: {
        type: 'object',
        required: ['costId', 'taskId', 'attempt', 'agentType', 'outcome', 'cpuMicros', 'memoryMicros', 'fixedMicros', 'unitsMicros', 'totalMicros', 'endedAt'],
        properties: {
          costId: { type: 'string' },
          taskId: { type: 'string' },
          attempt: { type: 'integer', minimum: 1 },
          agentType: { type: 'string' },
          outcome: { type: 'string', enum: ['completed', 'failed'] },
          cpuMicros: micros,
          memoryMicros: micros,
          fixedMicros: micros,
          unitsMicros: micros,
          totalMicros: micros,
          endedAt: time,
        },
      },
    },
  },
};

export const CUSTOMER_COST_SCHEMA: SchemaObject = {
  type: 'object',
  required: ['customerId', 'currency', 'totalMicros', 'executions', 'byAgentType', 'byHour'],
  properties: {
    customerId: { type: 'string' },
    currency: { type: 'string' },
    totalMicros: micros,
    executions: { type: 'integer', minimum: 0 },
    byAgentType: { type: 'array', items: { type: 'object', required: ['agentType', 'totalMicros'], properties: { agentType: { type: 'string' }, totalMicros: micros } } },
    byHour: { type: 'array', items: { type: 'object', required: ['hour', 'totalMicros'], properties: { hour: time, totalMicros: micros } } },
  },
};

export const POOL_COSTS_SCHEMA: SchemaObject = {
  type: 'object',
  required: ['currency', 'pools'],
  properties: {
    currency: { type: 'string' },
    pools: {
      type: 'array',
      items: {
        type: 'object',
        required: ['agentType', 'totalMicros', 'attempts', 'provisionedMicros', 'idleMicros'],
        properties: { agentType: { type: 'string' }, totalMicros: micros, attempts: { type: 'integer', minimum: 0 }, provisionedMicros: micros, idleMicros: micros },
      },
    },
  },
};
