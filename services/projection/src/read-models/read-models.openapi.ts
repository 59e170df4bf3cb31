import type { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';

/**
 * The OpenAPI schemas of what the query API answers: the read models of domain/read-models.ts as
 * JSON (times are ISO-8601 strings, durations milliseconds). The fuzz test checks every answer
 * against them.
 */
const time: SchemaObject = { type: 'string', format: 'date-time' };
const nullableTime: SchemaObject = { ...time, nullable: true };
const nullableString: SchemaObject = { type: 'string', nullable: true };
const HEALTH: SchemaObject = {
  type: 'object',
  required: ['status', 'reason'],
  properties: { status: { type: 'string', enum: ['green', 'yellow', 'red'] }, reason: { type: 'string' } },
};

export const TASK_SCHEMA: SchemaObject = {
  type: 'object',
  required: ['taskId', 'agentType', 'status', 'attempt'],
  properties: {
    taskId: { type: 'string' },
    agentType: nullableString,
    status: { type: 'string', enum: ['pending', 'dispatched', 'running', 'retrying', 'completed', 'failed', 'skipped', 'cancelled'] },
    attempt: { type: 'integer', minimum: 0 },
    workerId: nullableString,
    reason: nullableString,
    nextAttemptAt: nullableTime,
    startedAt: nullableTime,
    finishedAt: nullableTime,
    usage: {
      type: 'object',
      nullable: true,
      required: ['cpuTimeMs', 'peakRssBytes', 'wallTimeMs'],
      properties: { cpuTimeMs: { type: 'number' }, peakRssBytes: { type: 'number' }, wallTimeMs: { type: 'number' } },
    },
  },
};

export const EXECUTION_SCHEMA: SchemaObject = {
  type: 'object',
  required: ['executionId', 'customerId', 'kind', 'status', 'reasons', 'tasks', 'acceptedAt', 'finishedAt', 'durationMs', 'lastEventAt'],
  properties: {
    executionId: { type: 'string' },
    customerId: nullableString,
    kind: nullableString,
    status: { type: 'string', enum: ['requested', 'queued', 'running', 'completed', 'failed', 'rejected', 'cancelled'] },
    reasons: { type: 'array', items: { type: 'string' }, description: 'why it was rejected or failed' },
    phase: { ...nullableString, description: 'the agent type being worked on' },
    progressPct: { type: 'number', minimum: 0, maximum: 100 },
    tasks: { type: 'array', items: TASK_SCHEMA },
    acceptedAt: nullableTime,
    queuedAt: nullableTime,
    admittedAt: nullableTime,
    deadlineAt: nullableTime,
    finishedAt: nullableTime,
    durationMs: { type: 'number', nullable: true },
    costMicros: { type: 'integer', minimum: 0, description: 'what its attempts cost so far (the optimizer), micro-units of costCurrency' },
    costCurrency: { type: 'string', nullable: true },
    costAttempts: { type: 'integer', minimum: 0, description: 'attempts costed so far' },
    costFinal: { type: 'boolean', description: 'true once the execution ended and every attempt it started was costed (ExecutionCostFinalized)' },
    costMissingAttempts: { type: 'integer', minimum: 0, description: 'attempts the final cost could not include because they never reported' },
    lastEventAt: time,
  },
};

export const CUSTOMER_CARD_SCHEMA: SchemaObject = {
  type: 'object',
  required: ['customerId', 'name', 'phase', 'health', 'timeline', 'successRate', 'lastActivityAt', 'counts', 'circuit'],
  properties: {
    customerId: { type: 'string' },
    name: { type: 'string' },
    phase: { type: 'object', nullable: true, required: ['name', 'progressPct'], properties: { name: { type: 'string' }, progressPct: { type: 'number' } } },
    health: HEALTH,
    timeline: {
      type: 'object',
      required: ['status', 'daysRemaining'],
      properties: { status: { type: 'string', enum: ['on_time', 'at_risk', 'delayed'] }, daysRemaining: { type: 'number', nullable: true } },
    },
    successRate: { type: 'number', nullable: true, minimum: 0, maximum: 1 },
    lastActivityAt: nullableTime,
    counts: {
      type: 'object',
      required: ['queued', 'running', 'completed', 'failed', 'cancelled', 'rejected'],
      properties: Object.fromEntries(['queued', 'running', 'completed', 'failed', 'cancelled', 'rejected'].map((k) => [k, { type: 'integer', minimum: 0 }])),
    },
    circuit: { type: 'string', enum: ['closed', 'open', 'half_open'] },
  },
};

export const OVERVIEW_SCHEMA: SchemaObject = {
  type: 'object',
  required: ['active', 'capacity', 'queued', 'utilization', 'health', 'successRate', 'criticalAlerts', 'customers', 'updatedAt'],
  properties: {
    active: { type: 'integer', minimum: 0 },
    capacity: { type: 'integer', nullable: true },
    queued: { type: 'integer', minimum: 0 },
    utilization: { type: 'number', nullable: true, description: 'active / capacity' },
    health: HEALTH,
    successRate: {
      type: 'object',
      required: ['windowMinutes', 'rate', 'completed', 'failed'],
      properties: { windowMinutes: { type: 'integer' }, rate: { type: 'number', nullable: true }, completed: { type: 'integer' }, failed: { type: 'integer' } },
    },
    criticalAlerts: { type: 'integer', minimum: 0, description: 'critical alerts raised in the last 24 h' },
    customers: { type: 'integer', minimum: 0 },
    updatedAt: time,
  },
};

export const ALERT_SCHEMA: SchemaObject = {
  type: 'object',
  required: ['alertId', 'severity', 'kind', 'source', 'customerId', 'executionId', 'message', 'raisedAt'],
  properties: {
    alertId: { type: 'string' },
    severity: { type: 'string', enum: ['info', 'warning', 'critical'] },
    kind: { type: 'string' },
    source: { type: 'string' },
    customerId: nullableString,
    executionId: nullableString,
    message: { type: 'string' },
    raisedAt: time,
  },
};

export const SLA_VIOLATION_SCHEMA: SchemaObject = {
  type: 'object',
  required: ['executionId', 'customerId', 'sla', 'limitMs', 'actualMs', 'violatedAt'],
  properties: {
    executionId: { type: 'string' },
    customerId: { type: 'string' },
    sla: { type: 'string' },
    limitMs: { type: 'number' },
    actualMs: { type: 'number' },
    violatedAt: time,
  },
};

/** A page of a list: pass `nextCursor` back as `cursor` for the next one; null on the last. */
export function pageSchema(items: SchemaObject): SchemaObject {
  return {
    type: 'object',
    required: ['items', 'nextCursor'],
    properties: { items: { type: 'array', items }, nextCursor: { type: 'string', nullable: true, description: 'the cursor of the next page; null on the last' } },
  };
}
