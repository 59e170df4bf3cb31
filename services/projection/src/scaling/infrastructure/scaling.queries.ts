import type { Pool } from 'pg';
import { assembleTimeline } from '../domain/pool-timeline';
import { poolView } from '../domain/pool-view';
import { SAGA_ENDS, sagaViewOf } from '../domain/saga-view';
import type { DecisionFilter, DecisionPageRequest, DecisionView, PoolTimelineView, SagaFilter, SagaView, ScalingPoolView, ScalingQueries } from '../domain/scaling-views';
import { decidedForecastOf, decisionViewOf, poolRecordOf, replicaEventOf, reporterMinuteOf, sagaRecordOf } from './scaling-rows';

/** `ScalingQueries` over the projection's scaling tables. */
export class PostgresScalingQueries implements ScalingQueries {
  constructor(
    private readonly pool: Pool,
    private readonly schema: string,
  ) {}

  /** Every pool, with its latest saga still in flight (at most one runs per pool). */
  async listPools(now: number): Promise<readonly ScalingPoolView[]> {
    const { rows } = await this.pool.query(
      `SELECT p.*, to_jsonb(s) AS saga FROM ${this.schema}.scaling_pools p
         LEFT JOIN LATERAL (
           SELECT * FROM ${this.schema}.scaling_sagas s WHERE s.agent_type = p.agent_type AND s.status <> ALL($1) ORDER BY s.last_event_at DESC, s.saga_id DESC LIMIT 1
         ) s ON true
        ORDER BY p.agent_type`,
      [SAGA_ENDS],
    );
    return rows.map((r) => poolView(poolRecordOf(r), r.saga ? sagaRecordOf(jsonbRow(r.saga)) : null, now));
  }

  async timeline(agentType: string, from: number, to: number): Promise<PoolTimelineView> {
    const range = [agentType, new Date(from).toISOString(), new Date(to).toISOString()];
    const [before, events, reporters, forecasts] = await Promise.all([
      this.pool.query(`SELECT * FROM ${this.schema}.scaling_replicas WHERE agent_type = $1 AND at < $2 ORDER BY at DESC, seq DESC LIMIT 1`, range.slice(0, 2)),
      // Pool events of a busy range: a step line needs no more than a few thousand.
      this.pool.query(`SELECT * FROM ${this.schema}.scaling_replicas WHERE agent_type = $1 AND at >= $2 AND at < $3 ORDER BY at, seq LIMIT 5000`, range),
      this.pool.query(`SELECT * FROM ${this.schema}.scaling_pool_metrics WHERE agent_type = $1 AND minute >= $2 AND minute < $3`, range),
      this.pool.query(
        `SELECT * FROM ${this.schema}.scaling_forecasts
          WHERE agent_type = $1 AND window_to >= $2 AND window_from < $3 AND (peak_rate IS NOT NULL OR points IS NOT NULL)
          ORDER BY decided_at DESC LIMIT 2000`,
        range,
      ),
    ]);
    return assembleTimeline({
      agentType,
      from,
      to,
      before: before.rows[0] ? replicaEventOf(before.rows[0]) : null,
      events: events.rows.map(replicaEventOf),
      reporters: reporters.rows.map(reporterMinuteOf),
      forecasts: forecasts.rows.map(decidedForecastOf),
    });
  }

  async listDecisions(filter: DecisionFilter, page: DecisionPageRequest): Promise<{ items: DecisionView[]; nextCursor: [string, string] | null }> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.agentType !== undefined) where.push(`agent_type = $${params.push(filter.agentType)}`);
    if (filter.direction !== undefined) where.push(`direction = $${params.push(filter.direction)}`);
    if (page.after) where.push(`(evaluated_at, decision_id) < ($${params.push(page.after[0])}::timestamptz, $${params.push(page.after[1])})`);
    const { rows } = await this.pool.query(
      `SELECT * FROM ${this.schema}.scaling_decisions ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY evaluated_at DESC, decision_id DESC LIMIT $${params.push(page.limit + 1)}`,
      params,
    );
    const items = rows.slice(0, page.limit).map(decisionViewOf);
    const last = items[items.length - 1];
    return { items, nextCursor: rows.length > page.limit && last ? [last.evaluatedAt, last.decisionId] : null };
  }

  async listSagas(filter: SagaFilter): Promise<SagaView[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.agentType !== undefined) where.push(`agent_type = $${params.push(filter.agentType)}`);
    if (filter.status === 'in_flight') where.push(`status <> ALL($${params.push(SAGA_ENDS)})`);
    else if (filter.status !== undefined) where.push(`status = $${params.push(filter.status)}`);
    const { rows } = await this.pool.query(
      `SELECT * FROM ${this.schema}.scaling_sagas ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY COALESCE(started_at, requested_at, last_event_at) DESC, saga_id DESC LIMIT $${params.push(filter.limit)}`,
      params,
    );
    return rows.map((r) => sagaViewOf(sagaRecordOf(r)));
  }

  async getSaga(sagaId: string): Promise<SagaView | null> {
    const { rows } = await this.pool.query(`SELECT * FROM ${this.schema}.scaling_sagas WHERE saga_id = $1`, [sagaId]);
    return rows[0] ? sagaViewOf(sagaRecordOf(rows[0])) : null;
  }
}

/** A row read back through to_jsonb: its timestamps are strings there, Dates as pg gives them otherwise. */
function jsonbRow(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...row };
  for (const column of ['requested_at', 'started_at', 'ended_at', 'last_event_at']) {
    const value = out[column];
    if (typeof value === 'string') out[column] = new Date(value);
  }
  return out;
}
