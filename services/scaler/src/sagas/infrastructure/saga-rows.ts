import type { Transaction } from '@flotilla/event-store';
import type { Pool } from 'pg';
import type { PoolSagasState } from '../domain/pool-sagas';
import type { ScaleSagaState } from '../domain/scale-saga';
import type { SagaRows, Versioned } from '../ports';

export class PostgresSagaRows implements SagaRows {
  constructor(
    private readonly pool: Pool,
    private readonly schema: string,
  ) {}

  async lockPool(tx: Transaction, agentType: string): Promise<Versioned<PoolSagasState> | null> {
    // The row exists before it is locked, so that two first decisions for a pool wait for each other.
    await tx.query(`INSERT INTO ${this.schema}.pool_sagas (agent_type, state, version) VALUES ($1, 'null'::jsonb, 0) ON CONFLICT DO NOTHING`, [agentType]);
    const { rows } = await tx.query(`SELECT state, version FROM ${this.schema}.pool_sagas WHERE agent_type = $1 FOR UPDATE`, [agentType]);
    return rows[0].state === null ? null : { state: rows[0].state as PoolSagasState, version: rows[0].version };
  }

  async savePool(tx: Transaction, agentType: string, row: Versioned<PoolSagasState>): Promise<void> {
    await tx.query(`UPDATE ${this.schema}.pool_sagas SET state = $2, version = $3 WHERE agent_type = $1`, [agentType, JSON.stringify(row.state), row.version]);
  }

  async lockSaga(tx: Transaction, sagaId: string): Promise<(Versioned<ScaleSagaState> & { agentType: string }) | null> {
    const { rows } = await tx.query(`SELECT agent_type, state, version FROM ${this.schema}.scale_sagas WHERE saga_id = $1 FOR UPDATE`, [sagaId]);
    return rows[0] ? { agentType: rows[0].agent_type, state: rows[0].state as ScaleSagaState, version: rows[0].version } : null;
  }

  async saveSaga(tx: Transaction, sagaId: string, agentType: string, row: Versioned<ScaleSagaState>, ended: boolean): Promise<void> {
    await tx.query(
      `INSERT INTO ${this.schema}.scale_sagas (saga_id, agent_type, state, version, ended, updated_at) VALUES ($1, $2, $3, $4, $5, now())
       ON CONFLICT (saga_id) DO UPDATE SET state = EXCLUDED.state, version = EXCLUDED.version, ended = EXCLUDED.ended, updated_at = now()`,
      [sagaId, agentType, JSON.stringify(row.state), row.version, ended],
    );
  }

  async running(): Promise<Map<string, { sagaId: string; state: ScaleSagaState }>> {
    const { rows } = await this.pool.query(`SELECT saga_id, agent_type, state FROM ${this.schema}.scale_sagas WHERE NOT ended`);
    return new Map(rows.map((r) => [r.agent_type as string, { sagaId: r.saga_id as string, state: r.state as ScaleSagaState }]));
  }
}
