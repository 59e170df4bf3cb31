import type { Pool } from 'pg';
import type { WorkerProcessRows } from '../ports';

/** `pool_worker_processes`: the processes the process provisioner started, and how their drains ended. */
export class PostgresWorkerProcesses implements WorkerProcessRows {
  constructor(
    private readonly pool: Pool,
    private readonly schema: string,
  ) {}

  async recordStarted(row: { workerId: string; agentType: string; host: string; pid: number | null; port: number; startedAt: number }): Promise<void> {
    await this.pool.query(
      `INSERT INTO ${this.schema}.pool_worker_processes (worker_id, agent_type, host, pid, port, started_at) VALUES ($1, $2, $3, $4, $5, to_timestamp($6 / 1000.0))
       ON CONFLICT (worker_id) DO UPDATE SET pid = EXCLUDED.pid, port = EXCLUDED.port`,
      [row.workerId, row.agentType, row.host, row.pid, row.port, row.startedAt],
    );
  }

  async recordDrained(workerId: string, handedBack: number, at: number): Promise<void> {
    await this.pool.query(`UPDATE ${this.schema}.pool_worker_processes SET drained_at = to_timestamp($2 / 1000.0), handed_back = $3 WHERE worker_id = $1`, [workerId, at, handedBack]);
  }

  async find(workerIds: readonly string[]): Promise<Map<string, { host: string; pid: number | null; port: number; drainedAt: number | null; handedBack: number | null }>> {
    if (workerIds.length === 0) return new Map();
    const { rows } = await this.pool.query(`SELECT worker_id, host, pid, port, drained_at, handed_back FROM ${this.schema}.pool_worker_processes WHERE worker_id = ANY($1)`, [workerIds]);
    return new Map(rows.map((r) => [r.worker_id as string, { host: r.host, pid: r.pid, port: r.port, drainedAt: r.drained_at ? (r.drained_at as Date).getTime() : null, handedBack: r.handed_back }]));
  }

  async forget(workerIds: readonly string[]): Promise<void> {
    if (workerIds.length > 0) await this.pool.query(`DELETE FROM ${this.schema}.pool_worker_processes WHERE worker_id = ANY($1)`, [workerIds]);
  }
}
