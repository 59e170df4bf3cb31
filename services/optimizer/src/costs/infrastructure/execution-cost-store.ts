import type { Pool, PoolClient } from 'pg';
import { attemptKey, type CostedAttempts, type ExecutionCostState } from '../domain/execution-cost';
import type { ExecutionCostRows, StoredExecutionCost } from '../ports';

/** Execution cost rows, locked in id order (so that two transactions never deadlock on them), and the ledger's sums per execution. */
export class ExecutionCostStore implements ExecutionCostRows {
  constructor(
    private readonly pool: Pool,
    private readonly schema: string,
  ) {}

  async ensure(client: PoolClient, executionIds: readonly string[]): Promise<void> {
    if (executionIds.length === 0) return;
    await client.query(
      `INSERT INTO ${this.schema}.execution_costs (execution_id, state, stream_version)
         SELECT id, '{"status":"Open"}'::jsonb, 0 FROM unnest($1::text[]) AS id ORDER BY id
       ON CONFLICT (execution_id) DO NOTHING`,
      [[...new Set(executionIds)].sort()],
    );
  }

  async lock(client: PoolClient, executionIds: readonly string[]): Promise<Map<string, StoredExecutionCost>> {
    const ids = [...new Set(executionIds)].sort();
    const { rows } = await client.query(`SELECT execution_id, state, stream_version FROM ${this.schema}.execution_costs WHERE execution_id = ANY($1::text[]) ORDER BY execution_id FOR UPDATE`, [ids]);
    return new Map(rows.map((r) => [r.execution_id as string, { state: r.state as ExecutionCostState, version: r.stream_version as number }]));
  }

  async costed(client: PoolClient, executionIds: readonly string[]): Promise<Map<string, CostedAttempts>> {
    if (executionIds.length === 0) return new Map();
    const { rows } = await client.query(
      `SELECT execution_id, array_agg(task_id ORDER BY task_id, attempt) AS task_ids, array_agg(attempt ORDER BY task_id, attempt) AS attempts, sum(total_micros) AS total
         FROM ${this.schema}.attempt_costs WHERE execution_id = ANY($1::text[]) GROUP BY execution_id`,
      [[...new Set(executionIds)]],
    );
    return new Map(
      rows.map((r) => [
        r.execution_id as string,
        // BIGINT sums come back as text: exact below 2^53 micro-units.
        { attempts: (r.task_ids as string[]).map((taskId, i) => attemptKey({ taskId, attempt: (r.attempts as number[])[i] })), totalMicros: Number(r.total) },
      ]),
    );
  }

  async save(client: PoolClient, rows: ReadonlyArray<{ readonly executionId: string } & StoredExecutionCost>): Promise<void> {
    if (rows.length === 0) return;
    await client.query(
      `UPDATE ${this.schema}.execution_costs AS c SET state = x.state, stream_version = x.version, updated_at = now()
         FROM unnest($1::text[], $2::jsonb[], $3::int[]) AS x(execution_id, state, version) WHERE c.execution_id = x.execution_id`,
      [rows.map((r) => r.executionId), rows.map((r) => JSON.stringify(r.state)), rows.map((r) => r.version)],
    );
  }

  async get(executionId: string): Promise<ExecutionCostState | null> {
    const { rows } = await this.pool.query(`SELECT state FROM ${this.schema}.execution_costs WHERE execution_id = $1`, [executionId]);
    return rows[0] ? (rows[0].state as ExecutionCostState) : null;
  }
}
