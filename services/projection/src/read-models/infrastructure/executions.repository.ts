import type { PoolClient } from 'pg';
import type { TaskView } from '../domain/execution-view';
import { TERMINAL_STATUSES } from '../domain/execution-view';
import type { ExecutionChange, ExecutionsWriter } from '../read-model-events';

type Queryable = Pick<PoolClient, 'query'>;

const TERMINAL = `ARRAY[${TERMINAL_STATUSES.map((s) => `'${s}'`).join(',')}]`;

/** SQL of the executions read model. Every write is an upsert, so events may arrive in any order across topics. */
export class ExecutionsRepository implements ExecutionsWriter {
  constructor(readonly schema: string) {}

  async addCost(client: Queryable, executionId: string, customerId: string | null, micros: number, currency: string, eventAt: number): Promise<void> {
    // A cost may arrive before the execution's own events (another topic): a placeholder row, as an early task event makes.
    await client.query(
      `INSERT INTO ${this.schema}.executions AS e (execution_id, customer_id, status, cost_micros, cost_currency, cost_attempts, last_event_at)
       VALUES ($1, $2, 'requested', $3, $4, 1, to_timestamp($5 / 1000.0))
       ON CONFLICT (execution_id) DO UPDATE SET
         customer_id   = COALESCE(e.customer_id, EXCLUDED.customer_id),
         cost_micros   = e.cost_micros + EXCLUDED.cost_micros,
         cost_attempts = e.cost_attempts + 1,
         cost_currency = EXCLUDED.cost_currency,
         last_event_at = GREATEST(e.last_event_at, EXCLUDED.last_event_at),
         updated_at    = now()`,
      [executionId, customerId, micros, currency, eventAt],
    );
  }

  async upsertExecution(client: Queryable, change: ExecutionChange): Promise<void> {
    await client.query(
      `INSERT INTO ${this.schema}.executions AS e
         (execution_id, customer_id, kind, status, reasons, tasks, accepted_at, finished_at, duration_ms, last_event_at)
       VALUES ($1, $2, $3, $4, $5::jsonb, $6::jsonb, to_timestamp($7 / 1000.0), to_timestamp($8 / 1000.0), $9, to_timestamp($10 / 1000.0))
       ON CONFLICT (execution_id) DO UPDATE SET
         customer_id   = COALESCE(EXCLUDED.customer_id, e.customer_id),
         kind          = COALESCE(EXCLUDED.kind, e.kind),
         -- a terminal status is final; "requested" (a placeholder made by an early task event) never overrides
         status        = CASE WHEN e.status = ANY(${TERMINAL}) OR EXCLUDED.status = 'requested' THEN e.status ELSE EXCLUDED.status END,
         reasons       = CASE WHEN jsonb_array_length(EXCLUDED.reasons) > 0 THEN EXCLUDED.reasons ELSE e.reasons END,
         tasks         = EXCLUDED.tasks || e.tasks,
         accepted_at   = COALESCE(EXCLUDED.accepted_at, e.accepted_at),
         finished_at   = COALESCE(e.finished_at, EXCLUDED.finished_at),
         duration_ms   = COALESCE(e.duration_ms, EXCLUDED.duration_ms),
         last_event_at = GREATEST(e.last_event_at, EXCLUDED.last_event_at),
         updated_at    = now()`,
      [
        change.executionId,
        change.customerId ?? null,
        change.kind ?? null,
        change.status,
        JSON.stringify(change.reasons ?? []),
        JSON.stringify(change.tasks ?? {}),
        change.acceptedAt ?? null,
        change.finishedAt ?? null,
        change.durationMs ?? null,
        change.eventAt,
      ],
    );
  }

  /** Merges fields into one task of an execution, creating a placeholder execution row if needed. */
  /**
   * Merges a task update unless a later one already landed. Task events come from two topics (the
   * pools' reports and the orchestrator's retries), so they can arrive out of order: an update for
   * an older attempt, or an earlier step of the same attempt, never overwrites a newer state.
   */
  async updateTask(client: Queryable, executionId: string, taskId: string, fields: Partial<TaskView>, eventAt: number): Promise<void> {
    await this.upsertExecution(client, { executionId, status: 'requested', eventAt });
    const current = `tasks -> $2`;
    const newer = `($5::int IS NULL
        OR COALESCE((${current} ->> 'attempt')::int, 0) < $5
        OR (COALESCE((${current} ->> 'attempt')::int, 0) = $5 AND ${statusRank('$6::text')} >= ${statusRank(`${current} ->> 'status'`)}))`;
    await client.query(
      `UPDATE ${this.schema}.executions
          SET tasks = CASE WHEN ${newer} THEN jsonb_set(tasks, ARRAY[$2], COALESCE(${current}, '{}'::jsonb) || $3::jsonb, true) ELSE tasks END,
              last_event_at = GREATEST(last_event_at, to_timestamp($4 / 1000.0)),
              updated_at = now()
        WHERE execution_id = $1`,
      [executionId, taskId, JSON.stringify({ taskId, ...fields }), eventAt, fields.attempt ?? null, fields.status ?? null],
    );
  }

  async markAdmitted(client: Queryable, executionId: string, admittedAt: number): Promise<void> {
    await client.query(`UPDATE ${this.schema}.executions SET admitted_at = to_timestamp($2 / 1000.0) WHERE execution_id = $1`, [executionId, admittedAt]);
  }
}

/** How far along an attempt a task status is; a status without one (a reason only) always merges. */
function statusRank(expression: string): string {
  return `(CASE ${expression} WHEN 'pending' THEN 0 WHEN 'dispatched' THEN 1 WHEN 'running' THEN 2 WHEN 'failed' THEN 3
    WHEN 'retrying' THEN 4 WHEN 'completed' THEN 5 WHEN 'skipped' THEN 5 WHEN 'cancelled' THEN 5 ELSE 6 END)`;
}
