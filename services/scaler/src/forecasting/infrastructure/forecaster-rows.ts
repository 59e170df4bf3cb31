import type { Pool } from 'pg';
import type { ForecasterRows } from '../ports';

export class PostgresForecasterRows implements ForecasterRows {
  constructor(
    private readonly pool: Pool,
    private readonly schema: string,
  ) {}

  async load(): Promise<Map<string, unknown>> {
    const { rows } = await this.pool.query(`SELECT agent_type, state FROM ${this.schema}.forecasters`);
    return new Map(rows.map((r) => [r.agent_type as string, r.state as unknown]));
  }

  async save(agentType: string, state: unknown): Promise<void> {
    await this.pool.query(
      `INSERT INTO ${this.schema}.forecasters (agent_type, state, saved_at) VALUES ($1, $2, now()) ON CONFLICT (agent_type) DO UPDATE SET state = EXCLUDED.state, saved_at = now()`,
      [agentType, JSON.stringify(state)],
    );
  }
}
