import type { Pool, PoolClient } from 'pg';
import type { PoolSample } from '../domain/over-provisioning';
import type { RecommendationState } from '../domain/recommendation';
import type { PoolSamples, RecommendationRows } from '../ports';
import type { ProvisionedCapacity, TimeRange } from '../../costs/ports';

export class PostgresPoolSamples implements PoolSamples, ProvisionedCapacity {
  constructor(
    private readonly pool: Pool,
    private readonly schema: string,
  ) {}

  async insert(agentType: string, s: PoolSample): Promise<void> {
    // One statement: the report and its hour's rollup (the busiest report of the hour wins).
    await this.pool.query(
      `WITH sample AS (
         INSERT INTO ${this.schema}.pool_metric_samples (agent_type, instance_id, window_ended_at, workers, concurrency, utilization) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING 1
       )
       INSERT INTO ${this.schema}.pool_hourly_usage (agent_type, instance_id, hour, max_busy, workers, concurrency, worker_ms)
         SELECT $1, $2, ($3::bigint / 3600000) * 3600000, $6 * $5, $4, $5, $4 * GREATEST(0, $3::bigint - $7::bigint) FROM sample
       ON CONFLICT (agent_type, instance_id, hour) DO UPDATE
         SET max_busy = GREATEST(pool_hourly_usage.max_busy, EXCLUDED.max_busy), workers = EXCLUDED.workers, concurrency = EXCLUDED.concurrency,
             worker_ms = pool_hourly_usage.worker_ms + EXCLUDED.worker_ms`,
      [agentType, s.instanceId, s.windowEndedAt, s.workers, s.concurrency, s.utilization, s.windowStartedAt ?? s.windowEndedAt],
    );
  }

  async hourly(since: number): Promise<Map<string, PoolSample[]>> {
    const { rows } = await this.pool.query(`SELECT agent_type, instance_id, hour, max_busy, workers, concurrency FROM ${this.schema}.pool_hourly_usage WHERE hour >= $1`, [since]);
    const byType = new Map<string, PoolSample[]>();
    for (const r of rows) {
      const sample: PoolSample = { instanceId: r.instance_id, windowEndedAt: Number(r.hour) + 1, workers: r.workers, concurrency: r.concurrency, utilization: r.concurrency > 0 ? Number(r.max_busy) / r.concurrency : 0 };
      appendTo(byType, r.agent_type, sample);
    }
    return byType;
  }

  async since(since: number): Promise<Map<string, PoolSample[]>> {
    const { rows } = await this.pool.query(`SELECT agent_type, instance_id, window_ended_at, workers, concurrency, utilization FROM ${this.schema}.pool_metric_samples WHERE window_ended_at > $1`, [since]);
    const byType = new Map<string, PoolSample[]>();
    for (const r of rows) {
      const sample: PoolSample = { instanceId: r.instance_id, windowEndedAt: Number(r.window_ended_at), workers: r.workers, concurrency: r.concurrency, utilization: Number(r.utilization) };
      appendTo(byType, r.agent_type, sample);
    }
    return byType;
  }

  async workerMs(range: TimeRange): Promise<Map<string, number>> {
    // Whole hours: an hour counts when it starts within [from, to).
    const { rows } = await this.pool.query(
      `SELECT agent_type, sum(worker_ms) AS worker_ms FROM ${this.schema}.pool_hourly_usage
        WHERE ($1::timestamptz IS NULL OR hour >= (extract(epoch from $1::timestamptz) * 1000)::bigint)
          AND ($2::timestamptz IS NULL OR hour < (extract(epoch from $2::timestamptz) * 1000)::bigint)
        GROUP BY agent_type`,
      [range.from ?? null, range.to ?? null],
    );
    return new Map(rows.map((r) => [r.agent_type as string, Number(r.worker_ms)]));
  }

  async prune(samplesBefore: number, hoursBefore: number): Promise<void> {
    await this.pool.query(`DELETE FROM ${this.schema}.pool_metric_samples WHERE window_ended_at < $1`, [samplesBefore]);
    await this.pool.query(`DELETE FROM ${this.schema}.pool_hourly_usage WHERE hour < $1`, [hoursBefore]);
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

/** Appends in place: a window holds hundreds of reports per pool, and copying the list for each would be quadratic. */
function appendTo<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}
