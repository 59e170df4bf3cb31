import type {
  PoolMetricsReported,
  ScalingDecisionRecorded,
  ScalingOverrideCleared,
  ScalingOverrideSet,
  ScalingPaused,
  ScalingPolicyDefined,
  ScalingPolicyRemoved,
  ScalingResumed,
} from '@flotilla/contracts';
import type { PoolClient } from 'pg';
import type { DecisionOutcomeChange, ReplicaChange, ScalingWriter } from '../../read-models/read-model-events';
import { jsonArray, jsonObject, jsonObjectOrNull } from '../domain/decision-record';
import { forecastRecordOf } from '../domain/forecast-band';
import { minuteOf } from '../domain/metrics-rollup';
import { evolveSaga, type SagaEvent } from '../domain/saga-view';
import { sagaRecordOf, SAGA_COLUMNS, sagaRowValues } from './scaling-rows';

type Queryable = Pick<PoolClient, 'query'>;

const ts = (ms: number) => new Date(ms).toISOString();

/**
 * SQL of the scaling read models; each write runs in the event's projection transaction (applied
 * once). The scaler's events of a pool come in order (one partition per pool), as do the agent pool's
 * and the metrics reports; the pool's row takes columns from two topics, each writing only its own.
 */
export class ScalingRepository implements ScalingWriter {
  constructor(private readonly schema: string) {}

  /** Creates the pool's row if needed and sets `columns` on it, where `guard` (on `p`, the row) holds. */
  private async pool(client: Queryable, agentType: string, columns: Record<string, unknown>, guard = 'true'): Promise<void> {
    const names = Object.keys(columns);
    await client.query(
      `INSERT INTO ${this.schema}.scaling_pools AS p (agent_type, ${names.join(', ')}) VALUES ($1, ${names.map((_, i) => `$${i + 2}`).join(', ')})
       ON CONFLICT (agent_type) DO UPDATE SET ${names.map((n) => `${n} = EXCLUDED.${n}`).join(', ')} WHERE ${guard}`,
      [agentType, ...Object.values(columns)],
    );
  }

  /** A newer version replaces the policy; an older one arriving late does not. */
  async policyDefined(client: Queryable, e: ScalingPolicyDefined): Promise<void> {
    await this.pool(
      client,
      e.agentType,
      {
        ...{ policy: JSON.stringify(jsonObject(e.policy)), policy_version: e.version, policy_template: e.template },
        ...{ policy_defined_at: ts(e.definedAt), policy_defined_by: e.definedBy, policy_removed_at: null, policy_removed_by: null },
      },
      'p.policy_version IS NULL OR p.policy_version <= EXCLUDED.policy_version',
    );
  }

  /** Removes the version named; a version defined after it (arrived first) stays. */
  async policyRemoved(client: Queryable, e: ScalingPolicyRemoved): Promise<void> {
    await client.query(
      `INSERT INTO ${this.schema}.scaling_pools AS p (agent_type, policy_removed_at, policy_removed_by) VALUES ($1, $2, $3)
       ON CONFLICT (agent_type) DO UPDATE SET policy_removed_at = EXCLUDED.policy_removed_at, policy_removed_by = EXCLUDED.policy_removed_by
       WHERE p.policy_version IS NULL OR p.policy_version <= $4`,
      [e.agentType, ts(e.removedAt), e.removedBy, e.version],
    );
  }

  async overrideSet(client: Queryable, e: ScalingOverrideSet): Promise<void> {
    await this.pool(client, e.agentType, { override_replicas: e.replicas, override_reason: e.reason, override_expires_at: ts(e.expiresAt), override_set_by: e.setBy, override_set_at: ts(e.setAt) });
  }

  async overrideCleared(client: Queryable, e: ScalingOverrideCleared): Promise<void> {
    await this.pool(client, e.agentType, {
      override_replicas: null,
      override_reason: null,
      override_expires_at: null,
      override_set_by: null,
      override_set_at: null,
      override_cleared_at: ts(e.clearedAt),
      override_cleared_by: e.clearedBy,
      override_cleared_reason: e.reason,
    });
  }

  async paused(client: Queryable, e: ScalingPaused): Promise<void> {
    await this.pool(client, e.agentType, { paused_reason: e.reason, paused_by: e.pausedBy, paused_at: ts(e.pausedAt) });
  }

  async resumed(client: Queryable, e: ScalingResumed): Promise<void> {
    await this.pool(client, e.agentType, { paused_reason: null, paused_by: null, paused_at: null, resumed_at: ts(e.resumedAt), resumed_by: e.resumedBy });
  }

  /** The decision whole, its forecast where it has one, and the pool's latest decision. */
  async decisionRecorded(client: Queryable, e: ScalingDecisionRecorded): Promise<void> {
    const forecast = jsonObjectOrNull(e.forecast);
    await client.query(
      `INSERT INTO ${this.schema}.scaling_decisions (decision_id, agent_type, policy_version, evaluated_at, current_replicas, desired_replicas, direction, mode,
         snapshot, metrics, recommendation, stages, budget, forecast, saga_id, outcome)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
       ON CONFLICT (decision_id) DO NOTHING`,
      [
        e.decisionId,
        e.agentType,
        e.policyVersion,
        ts(e.evaluatedAt),
        e.currentReplicas,
        e.desiredReplicas,
        e.direction,
        e.mode,
        JSON.stringify(jsonObject(e.snapshot)),
        JSON.stringify(jsonArray(e.metrics)),
        JSON.stringify(jsonObject(e.recommendation)),
        JSON.stringify(e.stages),
        e.budget === null ? null : JSON.stringify(e.budget),
        forecast === null ? null : JSON.stringify(forecast),
        e.sagaId,
        e.sagaId === null ? null : 'saga',
      ],
    );
    const record = forecastRecordOf(forecast);
    if (record) {
      await client.query(
        `INSERT INTO ${this.schema}.scaling_forecasts
           (decision_id, agent_type, decided_at, source, window_from, window_to, peak_rate, provision_for_rate, observed_rate, recent_error_pct, note, points)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT (decision_id) DO NOTHING`,
        [
          e.decisionId,
          e.agentType,
          ts(e.evaluatedAt),
          record.source,
          record.windowFrom === null ? null : ts(record.windowFrom),
          record.windowTo === null ? null : ts(record.windowTo),
          record.peakRatePerSec,
          record.provisionForRatePerSec,
          record.observedRatePerSec,
          record.recentErrorPct,
          record.note,
          record.points === null ? null : JSON.stringify(record.points),
        ],
      );
    }
    await this.pool(client, e.agentType, { last_decision_id: e.decisionId, last_decision_at: ts(e.evaluatedAt) }, 'p.last_decision_at IS NULL OR p.last_decision_at <= EXCLUDED.last_decision_at');
  }

  /** A decision carried out by a saga stays so; one waiting may be replaced, or go to a saga later. */
  async decisionOutcome(client: Queryable, c: DecisionOutcomeChange): Promise<void> {
    await client.query(
      `UPDATE ${this.schema}.scaling_decisions SET outcome = $2, saga_id = COALESCE($3, saga_id), waiting_behind = CASE WHEN $2 = 'waiting' THEN $4 ELSE waiting_behind END
        WHERE decision_id = $1 AND (outcome IS NULL OR outcome <> 'saga' OR $2 = 'saga')`,
      [c.decisionId, c.outcome, c.sagaId ?? null, c.waitingBehind ?? null],
    );
  }

  /** The saga's row folded with one more event (scaling/domain/saga-view.ts). */
  async saga(client: Queryable, event: SagaEvent): Promise<void> {
    const { rows } = await client.query(`SELECT * FROM ${this.schema}.scaling_sagas WHERE saga_id = $1 FOR UPDATE`, [event.data.sagaId]);
    const next = evolveSaga(rows[0] ? sagaRecordOf(rows[0]) : null, event);
    await client.query(
      `INSERT INTO ${this.schema}.scaling_sagas (${SAGA_COLUMNS.join(', ')}) VALUES (${SAGA_COLUMNS.map((_, i) => `$${i + 1}`).join(', ')})
       ON CONFLICT (saga_id) DO UPDATE SET ${SAGA_COLUMNS.filter((c) => c !== 'saga_id').map((c) => `${c} = EXCLUDED.${c}`).join(', ')}`,
      sagaRowValues(next),
    );
  }

  /**
   * One row per pool event, numbered in its pool's order (a pool's events come in order, one at a
   * time, live and in a rebuild alike), and the pool's current replicas (a late, older event does not
   * move them back).
   */
  async replicas(client: Queryable, r: ReplicaChange): Promise<void> {
    await client.query(
      `INSERT INTO ${this.schema}.scaling_replicas (event_id, agent_type, seq, at, event, desired_replicas, ready_replicas, worker_id, request_id, detail)
       VALUES ($1, $2, (SELECT COALESCE(max(seq), 0) + 1 FROM ${this.schema}.scaling_replicas WHERE agent_type = $2), $3, $4, $5, $6, $7, $8, $9)
       ON CONFLICT (event_id) DO NOTHING`,
      [r.eventId, r.agentType, ts(r.at), r.event, r.desiredReplicas, r.readyReplicas, r.workerId, r.requestId, r.detail],
    );
    const columns: Record<string, unknown> = { desired_replicas: r.desiredReplicas, ready_replicas: r.readyReplicas, replicas_at: ts(r.at) };
    await this.pool(client, r.agentType, columns, 'p.replicas_at IS NULL OR p.replicas_at <= EXCLUDED.replicas_at');
    if (r.provisioner !== undefined) await this.pool(client, r.agentType, { provisioner: r.provisioner, slots_per_worker: r.slotsPerWorker ?? null });
  }

  /** Into its reporter's minute, once: only a report whose window ends after the last one applied there counts. */
  async metricsReported(client: Queryable, e: PoolMetricsReported): Promise<void> {
    await client.query(
      `INSERT INTO ${this.schema}.scaling_pool_metrics AS m (agent_type, minute, instance_id, reports, backlog_max, arrival_rate_sum, workers_max, last_window_ended_at)
       VALUES ($1, $2, $3, 1, $4, $5, $6, $7)
       ON CONFLICT (agent_type, minute, instance_id) DO UPDATE SET
         reports              = m.reports + 1,
         backlog_max          = GREATEST(m.backlog_max, EXCLUDED.backlog_max),
         arrival_rate_sum     = m.arrival_rate_sum + EXCLUDED.arrival_rate_sum,
         workers_max          = GREATEST(m.workers_max, EXCLUDED.workers_max),
         last_window_ended_at = EXCLUDED.last_window_ended_at
       WHERE m.last_window_ended_at < EXCLUDED.last_window_ended_at`,
      [e.agentType, ts(minuteOf(e.windowEndedAt)), e.instanceId, Math.max(0, Math.round(e.backlog)), Math.max(0, e.arrivalRatePerSec), Math.max(0, Math.round(e.workers)), ts(e.windowEndedAt)],
    );
  }
}
