import type { Transaction } from '@flotilla/event-store';
import type { Pool } from 'pg';
import type { ScalingPoolState } from '../domain/scaling-pool';
import type { ScalingPoolRows } from '../ports';

export class PostgresScalingPoolRows implements ScalingPoolRows {
  constructor(
    private readonly pool: Pool,
    private readonly schema: string,
  ) {}

  async lock(tx: Transaction, agentType: string): Promise<{ state: ScalingPoolState; version: number }> {
    await tx.query(`INSERT INTO ${this.schema}.scaling_pools (agent_type, state, version) VALUES ($1, $2, 0) ON CONFLICT DO NOTHING`, [agentType, JSON.stringify({ status: 'Unmanaged' })]);
    const { rows } = await tx.query(`SELECT state, version FROM ${this.schema}.scaling_pools WHERE agent_type = $1 FOR UPDATE`, [agentType]);
    return { state: rows[0].state as ScalingPoolState, version: rows[0].version };
  }

  async save(tx: Transaction, agentType: string, row: { state: ScalingPoolState; version: number }): Promise<void> {
    await tx.query(`UPDATE ${this.schema}.scaling_pools SET state = $2, version = $3 WHERE agent_type = $1`, [agentType, JSON.stringify(row.state), row.version]);
  }

  async all(): Promise<Map<string, ScalingPoolState>> {
    const { rows } = await this.pool.query(`SELECT agent_type, state FROM ${this.schema}.scaling_pools`);
    return new Map(rows.map((r) => [r.agent_type as string, r.state as ScalingPoolState]));
  }
}
