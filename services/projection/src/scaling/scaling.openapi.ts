import type { SchemaObject } from '@nestjs/swagger/dist/interfaces/open-api-spec.interface';
import { SAGA_STATUSES } from './domain/saga-view';

/** The OpenAPI schemas of the scaling read models (domain/scaling-views.ts) as JSON. A nullable enum lists null too (OpenAPI 3.0.3). */
const time: SchemaObject = { type: 'string', format: 'date-time' };
const nullableTime: SchemaObject = { ...time, nullable: true };
const nullableString: SchemaObject = { type: 'string', nullable: true };
const count: SchemaObject = { type: 'integer', minimum: 0 };
const nullableCount: SchemaObject = { ...count, nullable: true };
const rate: SchemaObject = { type: 'number', minimum: 0 };
const anyObject = (description: string): SchemaObject => ({ type: 'object', additionalProperties: true, description });
const object = (required: string[], properties: Record<string, SchemaObject>, extra: Partial<SchemaObject> = {}): SchemaObject => ({ type: 'object', required, properties, ...extra });

const SAGA_STATUS: SchemaObject = { type: 'string', enum: [...SAGA_STATUSES] };
const DIRECTION: SchemaObject = { type: 'string', enum: ['up', 'down', null], nullable: true };

const SAGA_STEP = object(['step', 'at', 'note'], {
  step: {
    type: 'string',
    enum: [
      ...['requested', 'started', 'budget_reserved', 'budget_waived', 'denied', 'replicas_accepted', 'worker_ready', 'replicas_reached', 'completed'],
      ...['compensation_started', 'compensation_retried', 'compensation_completed', 'compensated', 'ended'],
    ],
  },
  at: time,
  note: { type: 'string' },
});

const SAGA_SUMMARY_PROPERTIES: Record<string, SchemaObject> = {
  sagaId: { type: 'string' },
  status: SAGA_STATUS,
  direction: DIRECTION,
  fromReplicas: nullableCount,
  toReplicas: nullableCount,
  startedAt: nullableTime,
};

export const SCALING_POOL_SCHEMA: SchemaObject = object(['agentType', 'policy', 'override', 'paused', 'replicas', 'sagaInFlight', 'lastDecision'], {
  agentType: { type: 'string' },
  policy: object(
    ['version', 'template', 'minReplicas', 'maxReplicas', 'predictiveMode', 'definedAt', 'definedBy', 'removedAt', 'policy'],
    {
      version: { type: 'integer' },
      template: nullableString,
      minReplicas: nullableCount,
      maxReplicas: nullableCount,
      predictiveMode: { ...nullableString, description: 'off, forecast_only or forecast_and_scale' },
      definedAt: time,
      definedBy: { type: 'string' },
      removedAt: { ...nullableTime, description: 'set once the policy was removed' },
      policy: anyObject('the validated policy as the scaler published it (ScalingPolicyDefined.policy)'),
    },
    { nullable: true, description: 'the latest version; null when the scaler never had one' },
  ),
  override: object(
    ['replicas', 'reason', 'expiresAt', 'setBy', 'setAt', 'active'],
    { replicas: count, reason: { type: 'string' }, expiresAt: time, setBy: { type: 'string' }, setAt: time, active: { type: 'boolean', description: 'false once expiresAt has passed' } },
    { nullable: true },
  ),
  paused: object(['reason', 'by', 'at'], { reason: { type: 'string' }, by: { type: 'string' }, at: time }, { nullable: true }),
  replicas: object(
    ['desired', 'ready', 'at', 'provisioner', 'slotsPerWorker'],
    { desired: count, ready: count, at: time, provisioner: nullableString, slotsPerWorker: nullableCount },
    { nullable: true, description: "as the agent pool last reported them (flotilla.pool-events); null before any" },
  ),
  sagaInFlight: object(
    ['sagaId', 'status', 'direction', 'fromReplicas', 'toReplicas', 'startedAt', 'lastStep'],
    { ...SAGA_SUMMARY_PROPERTIES, lastStep: { ...SAGA_STEP, nullable: true } },
    { nullable: true },
  ),
  lastDecision: object(['decisionId', 'evaluatedAt'], { decisionId: { type: 'string' }, evaluatedAt: time }, { nullable: true }),
});

export const POOL_TIMELINE_SCHEMA: SchemaObject = object(['agentType', 'from', 'to', 'points', 'replicaChanges'], {
  agentType: { type: 'string' },
  from: time,
  to: time,
  points: {
    type: 'array',
    description: 'one per minute of the range',
    items: object(['minute', 'desiredReplicas', 'readyReplicas', 'backlog', 'arrivalRatePerSec', 'reportingWorkers', 'forecast'], {
      minute: time,
      desiredReplicas: { ...nullableCount, description: 'at the end of the minute' },
      readyReplicas: { ...nullableCount, description: 'at the end of the minute' },
      backlog: { ...nullableCount, description: "the minute's highest backlog, its reporters' added up; null when nobody reported" },
      arrivalRatePerSec: { ...rate, nullable: true, description: "the minute's mean arrival rate, the whole pool" },
      reportingWorkers: nullableCount,
      forecast: object(
        ['ratePerSec', 'lower', 'upper', 'decisionId'],
        { ratePerSec: rate, lower: rate, upper: rate, decisionId: { type: 'string' } },
        { nullable: true, description: "the forecast's band where a decision's forecast covers the minute (the latest decision's)" },
      ),
    }),
  },
  replicaChanges: {
    type: 'array',
    items: object(['at', 'event', 'desiredReplicas', 'readyReplicas', 'workerId', 'detail'], {
      at: time,
      event: { type: 'string', enum: ['accepted', 'rejected', 'worker_ready', 'worker_failed', 'worker_drained', 'reached'] },
      desiredReplicas: count,
      readyReplicas: count,
      workerId: nullableString,
      detail: nullableString,
    }),
  },
});

const STAGE = object(['stage', 'from', 'to', 'note'], {
  stage: { type: 'string', description: 'stabilization, rate_limit, bounds, cooldown, override, pause or budget' },
  from: { type: 'integer' },
  to: { type: 'integer' },
  note: { type: 'string' },
});

export const DECISION_SCHEMA: SchemaObject = object(
  [
    'decisionId', 'agentType', 'policyVersion', 'evaluatedAt', 'currentReplicas', 'desiredReplicas', 'direction', 'mode', 'snapshot', 'metrics', 'recommendation', 'stages',
    'budget', 'forecast', 'sagaId', 'outcome', 'waitingBehind', 'reasons',
  ],
  {
    decisionId: { type: 'string' },
    agentType: { type: 'string' },
    policyVersion: { type: 'integer' },
    evaluatedAt: time,
    currentReplicas: { type: 'integer' },
    desiredReplicas: { type: 'integer' },
    direction: { type: 'string', enum: ['up', 'down', 'none'] },
    mode: { type: 'string', description: 'act or shadow' },
    snapshot: anyObject('what the scaler saw of the pool (PoolSnapshot)'),
    metrics: { type: 'array', items: {}, description: "each policy metric's HPA proposal" },
    recommendation: anyObject('the combined proposal before the stages, with the weighted score and the queue-aware proposal'),
    stages: { type: 'array', items: STAGE, description: 'in the order they applied' },
    budget: object(
      ['reservationId', 'outcome', 'replicas', 'reason'],
      { reservationId: { type: 'string' }, outcome: { type: 'string', enum: ['reserved', 'denied'] }, replicas: { type: 'integer' }, reason: nullableString },
      { nullable: true },
    ),
    forecast: { ...anyObject("the forecast's advice; null when predictive scaling is off"), nullable: true },
    sagaId: { ...nullableString, description: 'the scale saga that carried it out' },
    outcome: { type: 'string', enum: ['saga', 'waiting', 'replaced', 'skipped', null], nullable: true, description: 'what became of it; null when it asked for no change' },
    waitingBehind: { ...nullableString, description: 'the saga it waits behind (outcome waiting)' },
    reasons: { type: 'array', items: { type: 'string' }, description: "the recommendation's note, then each stage that changed the count" },
  },
);

export const DECISION_PAGE_SCHEMA: SchemaObject = object(['items', 'nextCursor'], {
  items: { type: 'array', items: DECISION_SCHEMA },
  nextCursor: { type: 'string', nullable: true, description: 'the cursor of the next page; null on the last' },
});

export const SAGA_SCHEMA: SchemaObject = object(
  [
    'sagaId', 'agentType', 'decisionId', 'status', 'direction', 'fromReplicas', 'toReplicas', 'reason', 'budgetId', 'reservationId', 'amountMicros', 'committedMicros',
    'readyReplicas', 'replicasAfter', 'failure', 'outcome', 'requestedAt', 'startedAt', 'endedAt', 'lastEventAt', 'steps', 'compensations',
  ],
  {
    ...SAGA_SUMMARY_PROPERTIES,
    agentType: { type: 'string' },
    decisionId: nullableString,
    reason: nullableString,
    budgetId: nullableString,
    reservationId: nullableString,
    amountMicros: { ...nullableCount, description: 'micro-units reserved for the scale-up' },
    committedMicros: nullableCount,
    readyReplicas: nullableCount,
    replicasAfter: { ...nullableCount, description: "the pool's desired replicas as the saga left them" },
    failure: object(['failedStep', 'cause', 'reason'], { failedStep: { type: 'string' }, cause: { type: 'string' }, reason: { type: 'string' } }, { nullable: true }),
    outcome: { type: 'string', enum: ['completed', 'denied', 'compensated', null], nullable: true },
    requestedAt: nullableTime,
    endedAt: nullableTime,
    lastEventAt: time,
    steps: { type: 'array', items: SAGA_STEP, description: 'in the order they happened' },
    compensations: {
      type: 'array',
      description: 'in the order they run (the reverse of the steps that pushed them)',
      items: object(['step', 'status', 'attempts', 'detail'], {
        step: { type: 'string', enum: ['roll_back_replicas', 'release_budget'] },
        status: { type: 'string', enum: ['pending', 'running', 'done', 'not_needed', 'abandoned'] },
        attempts: count,
        detail: nullableString,
      }),
    },
  },
);

export const listOf = (item: SchemaObject): SchemaObject => object(['items'], { items: { type: 'array', items: item } });
