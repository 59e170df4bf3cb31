import type { Pool, PoolClient } from 'pg';
import type { ExecutionTimer, TimerKind } from '../domain/execution';
import type { DueTimer, TimerStore } from '../ports';

/** The orchestrator's durable timers, in its own schema. */
export class PostgresTimerStore implements TimerStore {
  constructor(
    private readonly pool: Pool,
    private readonly schema: string,
  ) {}

  async schedule(client: PoolClient, executionId: string, timers: readonly ExecutionTimer[], traceparent: string | null): Promise<void> {
    for (const t of timers) {
      await client.query(
        `INSERT INTO ${this.schema}.timers (execution_id, task_id, attempt, kind, due_at, traceparent) VALUES ($1, $2, $3, $4, to_timestamp($5 / 1000.0), $6)
         ON CONFLICT (execution_id, task_id, attempt, kind) DO UPDATE SET due_at = EXCLUDED.due_at`,
        [executionId, t.taskId, t.attempt, t.kind, t.dueAt, traceparent],
      );
    }
  }

  /** A heartbeat pushes the attempt's heartbeat deadline forward (if the attempt still has one). */
  async extendHeartbeat(executionId: string, taskId: string, attempt: number, dueAt: number): Promise<void> {
    await this.pool.query(
      `UPDATE ${this.schema}.timers SET due_at = GREATEST(due_at, to_timestamp($4 / 1000.0))
        WHERE execution_id = $1 AND task_id = $2 AND attempt = $3 AND kind = 'heartbeat'`,
      [executionId, taskId, attempt, dueAt],
    );
  }

  async due(now: number, limit: number): Promise<DueTimer[]> {
    const { rows } = await this.pool.query(
      `SELECT execution_id, task_id, attempt, kind, traceparent, (extract(epoch from due_at) * 1000)::bigint AS due_ms
         FROM ${this.schema}.timers WHERE due_at <= to_timestamp($1 / 1000.0) ORDER BY due_at LIMIT $2`,
      [now, limit],
    );
    return rows.map((r) => ({ executionId: r.execution_id, taskId: r.task_id, attempt: r.attempt, kind: r.kind as TimerKind, dueAt: Number(r.due_ms), traceparent: r.traceparent }));
  }

  async remove(timer: DueTimer): Promise<void> {
    await this.pool.query(`DELETE FROM ${this.schema}.timers WHERE execution_id = $1 AND task_id = $2 AND attempt = $3 AND kind = $4 AND due_at <= to_timestamp($5 / 1000.0)`, [
      timer.executionId,
      timer.taskId,
      timer.attempt,
      timer.kind,
      timer.dueAt,
    ]);
  }
}
