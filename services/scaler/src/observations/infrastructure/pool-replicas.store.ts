import type { Pool } from 'pg';
import type { PoolReplicasRow } from '../domain/pool-replicas';
import type { PoolReplicasRows } from '../ports';

export class PostgresPoolReplicas implements PoolReplicasRows {
  constructor(
    private readonly pool: Pool,
    private readonly schema: string,
  ) {}

  async save(row: PoolReplicasRow): Promise<void> {
    await this.pool.query(
      `INSERT INTO ${this.schema}.pool_replicas (agent_type, replicas, ready_replicas, slots_per_worker, provisioner, updated_at) VALUES ($1, $2, $3, $4, $5, to_timestamp($6 / 1000.0))
       ON CONFLICT (agent_type) DO UPDATE SET replicas = EXCLUDED.replicas, ready_replicas = EXCLUDED.ready_replicas, slots_per_worker = EXCLUDED.slots_per_worker,
         provisioner = EXCLUDED.provisioner, updated_at = EXCLUDED.updated_at`,
      [row.agentType, row.replicas, row.readyReplicas, row.slotsPerWorker, row.provisioner, row.updatedAt],
    );
  }

  async all(): Promise<Map<string, PoolReplicasRow>> {
    const { rows } = await this.pool.query(`SELECT agent_type, replicas, ready_replicas, slots_per_worker, provisioner, (extract(epoch from updated_at) * 1000)::bigint AS updated_ms FROM ${this.schema}.pool_replicas`);
    return new Map(rows.map((r) => [r.agent_type as string, { agentType: r.agent_type, replicas: r.replicas, readyReplicas: r.ready_replicas, slotsPerWorker: r.slots_per_worker, provisioner: r.provisioner, updatedAt: Number(r.updated_ms) }]));
  }
}
