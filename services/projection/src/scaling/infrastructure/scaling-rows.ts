import type { DecisionBudgetOutcome, DecisionStage } from '@flotilla/contracts';
import { decisionReasons } from '../domain/decision-record';
import type { DecidedForecast, ForecastPointRecord } from '../domain/forecast-band';
import type { ReporterMinute } from '../domain/metrics-rollup';
import type { ReplicaEvent } from '../domain/pool-timeline';
import type { PoolRecord } from '../domain/pool-view';
import type { SagaRecord } from '../domain/saga-view';
import type { DecisionDirection, DecisionOutcome, DecisionView, ReplicaEventKind } from '../domain/scaling-views';

/** The rows of the scaling tables (migrations/1700000006000_scaling.js) to and from the domain's records. */

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a pg row: columns typed by the table, read one by one below
type Row = Record<string, any>;

const ms = (d: Date | null): number | null => (d === null ? null : d.getTime());
const num = (v: string | number | null): number | null => (v === null ? null : Number(v));

export const SAGA_COLUMNS = [
  'saga_id',
  'agent_type',
  'decision_id',
  'direction',
  'from_replicas',
  'to_replicas',
  'reason',
  'status',
  'budget_id',
  'reservation_id',
  'amount_micros',
  'committed_micros',
  'ready_replicas',
  'replicas_after',
  'failure',
  'outcome',
  'requested_at',
  'started_at',
  'ended_at',
  'last_event_at',
  'steps',
  'compensations',
] as const;

export function sagaRecordOf(r: Row): SagaRecord {
  return {
    sagaId: r.saga_id,
    agentType: r.agent_type,
    decisionId: r.decision_id,
    direction: r.direction,
    fromReplicas: r.from_replicas,
    toReplicas: r.to_replicas,
    reason: r.reason,
    status: r.status,
    budgetId: r.budget_id,
    reservationId: r.reservation_id,
    amountMicros: num(r.amount_micros),
    committedMicros: num(r.committed_micros),
    readyReplicas: r.ready_replicas,
    replicasAfter: r.replicas_after,
    failure: r.failure,
    outcome: r.outcome,
    requestedAt: ms(r.requested_at),
    startedAt: ms(r.started_at),
    endedAt: ms(r.ended_at),
    lastEventAt: r.last_event_at.getTime(),
    steps: r.steps,
    compensations: r.compensations,
  };
}

/** The values of SAGA_COLUMNS, in order. */
export function sagaRowValues(s: SagaRecord): unknown[] {
  const ts = (t: number | null) => (t === null ? null : new Date(t).toISOString());
  return [
    s.sagaId,
    s.agentType,
    s.decisionId,
    s.direction,
    s.fromReplicas,
    s.toReplicas,
    s.reason,
    s.status,
    s.budgetId,
    s.reservationId,
    s.amountMicros,
    s.committedMicros,
    s.readyReplicas,
    s.replicasAfter,
    s.failure === null ? null : JSON.stringify(s.failure),
    s.outcome,
    ts(s.requestedAt),
    ts(s.startedAt),
    ts(s.endedAt),
    ts(s.lastEventAt),
    JSON.stringify(s.steps),
    JSON.stringify(s.compensations),
  ];
}

export function poolRecordOf(r: Row): PoolRecord {
  return {
    agentType: r.agent_type,
    policy:
      r.policy_version === null
        ? null
        : { json: r.policy ?? {}, version: r.policy_version, template: r.policy_template, definedAt: r.policy_defined_at.getTime(), definedBy: r.policy_defined_by, removedAt: ms(r.policy_removed_at) },
    override:
      r.override_set_at === null
        ? null
        : { replicas: r.override_replicas, reason: r.override_reason, expiresAt: r.override_expires_at.getTime(), setBy: r.override_set_by, setAt: r.override_set_at.getTime() },
    paused: r.paused_at === null ? null : { reason: r.paused_reason, by: r.paused_by, at: r.paused_at.getTime() },
    replicas:
      r.replicas_at === null ? null : { desired: r.desired_replicas, ready: r.ready_replicas, at: r.replicas_at.getTime(), provisioner: r.provisioner, slotsPerWorker: r.slots_per_worker },
    lastDecision: r.last_decision_id === null ? null : { decisionId: r.last_decision_id, evaluatedAt: r.last_decision_at.getTime() },
  };
}

export function decisionViewOf(r: Row): DecisionView {
  const stages = r.stages as DecisionStage[];
  return {
    decisionId: r.decision_id,
    agentType: r.agent_type,
    policyVersion: r.policy_version,
    evaluatedAt: r.evaluated_at.toISOString(),
    currentReplicas: r.current_replicas,
    desiredReplicas: r.desired_replicas,
    direction: r.direction as DecisionDirection,
    mode: r.mode,
    snapshot: r.snapshot,
    metrics: r.metrics,
    recommendation: r.recommendation,
    stages,
    budget: r.budget as DecisionBudgetOutcome | null,
    forecast: r.forecast,
    sagaId: r.saga_id,
    outcome: r.outcome as DecisionOutcome | null,
    waitingBehind: r.waiting_behind,
    reasons: decisionReasons(r.recommendation, stages),
  };
}

export function replicaEventOf(r: Row): ReplicaEvent {
  return { at: r.at.getTime(), event: r.event as ReplicaEventKind, desiredReplicas: r.desired_replicas, readyReplicas: r.ready_replicas, workerId: r.worker_id, detail: r.detail };
}

export function reporterMinuteOf(r: Row): ReporterMinute {
  return { minute: r.minute.getTime(), instanceId: r.instance_id, reports: r.reports, backlogMax: Number(r.backlog_max), arrivalRateSum: r.arrival_rate_sum, workersMax: r.workers_max };
}

export function decidedForecastOf(r: Row): DecidedForecast {
  return {
    decisionId: r.decision_id,
    decidedAt: r.decided_at.getTime(),
    record: {
      source: r.source,
      windowFrom: ms(r.window_from),
      windowTo: ms(r.window_to),
      peakRatePerSec: r.peak_rate,
      provisionForRatePerSec: r.provision_for_rate,
      observedRatePerSec: r.observed_rate,
      recentErrorPct: r.recent_error_pct,
      note: r.note,
      points: r.points as ForecastPointRecord[] | null,
    },
  };
}
