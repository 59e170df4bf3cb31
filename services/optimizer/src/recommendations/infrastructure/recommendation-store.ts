import type { Pool, PoolClient } from 'pg';
import type { PoolSample } from '../domain/over-provisioning';
import type { RecommendationState } from '../domain/recommendation';
import type { PoolSamples, RecommendationRows } from '../ports';

export class PostgresPoolSamples implements PoolSamples {
  constructor(
    private readonly pool: Pool,
    private readonly schema: string,
  ) {}

  async insert(agentType: string, s: PoolSample): Promise<void> {
    await this.pool.query(
      `INSERT INTO ${this.schema}.pool_metric_samples (agent_type, instance_id, window_ended_at, workers, concurrency, utilization) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
      [agentType, s.instanceId, s.windowEndedAt, s.workers, s.concurrency, s.utilization],
    );
  }

  async since(since: number): Promise<Map<string, PoolSample[]>> {
    const { rows } = await this.pool.query(`SELECT agent_type, instance_id, window_ended_at, workers, concurrency, utilization FROM ${this.schema}.pool_metric_samples WHERE window_ended_at > $1`, [since]);
    const byType = new Map<string, PoolSample[]>();
    for (const r of rows) {
      const sample: PoolSample = { instanceId: r.instance_id, windowEndedAt: Number(r.window_ended_at), workers: r.workers, concurrency: r.concurrency, utilization: Number(r.utilization) };
      byType.set(r.agent_type, [...(byType.get(r.agent_type) ?? []), sample]);
    }
    return byType;
  }

  async prune(before: number): Promise<void> {
    await this.pool.query(`DELETE FROM ${this.schema}.pool_metric_samples WHERE window_ended_at < $1`, [before]);
  }
}

export class PostgresRecommendationRows implements RecommendationRows {
  constructor(
    private readonly pool: Pool,
    private readonly schema: string,
  ) {}

  async save(tx: PoolClient, recommendationId: string, agentType: string, state: RecommendationState): Promise<void> {
    await tx.query(
      `INSERT INTO ${this.schema}.recommendations (recommendation_id, agent_type, status, state, updated_at) VALUES ($1, $2, $3, $4, now())
       ON CONFLICT (recommendation_id) DO UPDATE SET status = EXCLUDED.status, state = EXCLUDED.state, updated_at = now()`,
      [recommendationId, agentType, state.status, JSON.stringify(state)],
    );
  }

  async list(): Promise<RecommendationState[]> {
    const { rows } = await this.pool.query(`SELECT state FROM ${this.schema}.recommendations ORDER BY (state->'issued'->>'estimatedMonthlySavingMicros')::bigint DESC NULLS LAST, recommendation_id`);
    return rows.map((r) => r.state as RecommendationState);
  }

  async get(recommendationId: string): Promise<RecommendationState | null> {
    const { rows } = await this.pool.query(`SELECT state FROM ${this.schema}.recommendations WHERE recommendation_id = $1`, [recommendationId]);
    return rows[0] ? (rows[0].state as RecommendationState) : null;
  }
}
