import type { Pool } from 'pg';
import { ValidationError } from '@flotilla/domain';
import { customerCard, phaseOf, systemOverview } from '../domain/customer-card';
import { decodeCursor, encodeCursor } from '../domain/cursor';
import type {
  AlertFilter,
  AlertView,
  CustomerCard,
  ExecutionFilter,
  ExecutionView,
  Page,
  PageRequest,
  ReadModelQueries,
  SlaViolationView,
  SystemOverview,
  TaskView,
} from '../domain/read-models';

/** Thrown for a cursor that was not issued by this API; the HTTP layer answers 400. */

const SUCCESS_WINDOW_MINUTES = 60;

/**
 * `ReadModelQueries` over the projection's tables. Lists use keyset pagination (stable under
 * inserts, no OFFSET scans); cards and the overview are aggregated from the rows at query time.
 */
export class PostgresReadModelQueries implements ReadModelQueries {
  constructor(
    private readonly pool: Pool,
    private readonly schema: string,
    private readonly defaultCapacity: number,
    private readonly now: () => number = Date.now,
  ) {}

  async listExecutions(filter: ExecutionFilter, page: PageRequest): Promise<Page<ExecutionView>> {
    const where: string[] = ['accepted_at IS NOT NULL'];
    const params: unknown[] = [];
    const add = (sql: string, value: unknown) => {
      params.push(value);
      where.push(sql.replace('?', `$${params.length}`));
    };
    if (filter.status) add('status = ?', filter.status);
    if (filter.customerId) add('customer_id = ?', filter.customerId);
    if (filter.kind) add('kind = ?', filter.kind);
    if (filter.from) add('accepted_at >= ?', filter.from);
    if (filter.to) add('accepted_at < ?', filter.to);
    if (page.cursor) {
      const [at, id] = this.cursor(page.cursor, 2);
      params.push(at, id);
      where.push(`(accepted_at, execution_id) < ($${params.length - 1}::timestamptz, $${params.length})`);
    }
    params.push(page.limit + 1);
    const { rows } = await this.pool.query(
      `SELECT * FROM ${this.schema}.executions WHERE ${where.join(' AND ')} ORDER BY accepted_at DESC, execution_id DESC LIMIT $${params.length}`,
      params,
    );
    return this.page(rows.map(toExecutionView), page.limit, (e) => [e.acceptedAt!, e.executionId]);
  }

  async getExecution(executionId: string): Promise<ExecutionView | null> {
    const { rows } = await this.pool.query(`SELECT * FROM ${this.schema}.executions WHERE execution_id = $1`, [executionId]);
    return rows.length === 0 ? null : toExecutionView(rows[0]);
  }

  async listCustomerCards(filter: { readonly customerId?: string }, page: PageRequest): Promise<Page<CustomerCard>> {
    const params: unknown[] = [];
    const where: string[] = ['customer_id IS NOT NULL'];
    if (filter.customerId) {
      params.push(filter.customerId);
      where.push(`customer_id = $${params.length}`);
    }
    if (page.cursor) {
      params.push(this.cursor(page.cursor, 1)[0]);
      where.push(`customer_id > $${params.length}`);
    }
    params.push(page.limit + 1);
    const { rows: customers } = await this.pool.query(
      `SELECT DISTINCT customer_id FROM ${this.schema}.executions WHERE ${where.join(' AND ')} ORDER BY customer_id LIMIT $${params.length}`,
      params,
    );
    const ids: string[] = customers.map((r) => r.customer_id);
    const cards = await this.cards(ids.slice(0, page.limit));
    return { items: cards, nextCursor: ids.length > page.limit ? encodeCursor([ids[page.limit - 1]]) : null };
  }

  async getCustomerCard(customerId: string): Promise<CustomerCard | null> {
    const [card] = await this.cards([customerId]);
    return card && card.lastActivityAt !== null ? card : null;
  }

  async overview(): Promise<SystemOverview> {
    const { rows } = await this.pool.query(
      `SELECT
         count(*) FILTER (WHERE status = 'running')                                                   AS active,
         count(*) FILTER (WHERE status = 'queued')                                                    AS queued,
         count(*) FILTER (WHERE status = 'completed' AND finished_at > now() - make_interval(mins => $1)) AS completed,
         count(*) FILTER (WHERE status = 'failed' AND finished_at > now() - make_interval(mins => $1))    AS failed,
         count(DISTINCT customer_id)                                                                   AS customers,
         (SELECT capacity FROM ${this.schema}.admission_capacity WHERE id = 'global')                 AS capacity,
         (SELECT count(*) FROM ${this.schema}.alerts WHERE severity = 'critical' AND raised_at > now() - interval '24 hours')   AS critical_24h,
         (SELECT count(*) FROM ${this.schema}.alerts WHERE severity = 'critical' AND raised_at > now() - interval '15 minutes') AS critical_15m
       FROM ${this.schema}.executions`,
      [SUCCESS_WINDOW_MINUTES],
    );
    const r = rows[0];
    return systemOverview(
      {
        active: Number(r.active),
        queued: Number(r.queued),
        capacity: r.capacity ?? this.defaultCapacity,
        windowMinutes: SUCCESS_WINDOW_MINUTES,
        completedInWindow: Number(r.completed),
        failedInWindow: Number(r.failed),
        criticalAlerts24h: Number(r.critical_24h),
        criticalAlerts15m: Number(r.critical_15m),
        customers: Number(r.customers),
      },
      this.now(),
    );
  }

  async listAlerts(filter: AlertFilter, page: PageRequest): Promise<Page<AlertView>> {
    const { rows, limit } = await this.keyset('alerts', 'raised_at', 'alert_id', { customer_id: filter.customerId, severity: filter.severity }, page);
    const items = rows.map(
      (r): AlertView => ({ alertId: r.alert_id, severity: r.severity, kind: r.kind, source: r.source, customerId: r.customer_id, executionId: r.execution_id, message: r.message, raisedAt: r.raised_at.toISOString() }),
    );
    return this.page(items, limit, (a) => [a.raisedAt, a.alertId]);
  }

  async listSlaViolations(filter: { readonly customerId?: string }, page: PageRequest): Promise<Page<SlaViolationView>> {
    const { rows, limit } = await this.keyset('sla_violations', 'violated_at', 'execution_id', { customer_id: filter.customerId }, page);
    const items = rows.map(
      (r): SlaViolationView => ({ executionId: r.execution_id, customerId: r.customer_id, sla: r.sla, limitMs: Number(r.limit_ms), actualMs: Number(r.actual_ms), violatedAt: r.violated_at.toISOString() }),
    );
    return this.page(items, limit, (v) => [v.violatedAt, v.executionId]);
  }

  private async cards(customerIds: readonly string[]): Promise<CustomerCard[]> {
    if (customerIds.length === 0) return [];
    const { rows } = await this.pool.query(
      `WITH mine AS (SELECT * FROM ${this.schema}.executions WHERE customer_id = ANY($1)),
       active AS (
         SELECT DISTINCT ON (customer_id) customer_id, tasks FROM mine
          WHERE status IN ('queued', 'running') ORDER BY customer_id, (status = 'running') DESC, last_event_at DESC
       )
       SELECT m.customer_id,
              count(*) FILTER (WHERE m.status = 'queued')    AS queued,
              count(*) FILTER (WHERE m.status = 'running')   AS running,
              count(*) FILTER (WHERE m.status = 'completed') AS completed,
              count(*) FILTER (WHERE m.status = 'failed')    AS failed,
              count(*) FILTER (WHERE m.status = 'cancelled') AS cancelled,
              count(*) FILTER (WHERE m.status = 'rejected')  AS rejected,
              max(m.last_event_at)                           AS last_activity_at,
              min(m.deadline_at) FILTER (WHERE m.status IN ('queued', 'running')) AS nearest_deadline_at,
              (SELECT count(*) FROM ${this.schema}.sla_violations v JOIN mine a ON a.execution_id = v.execution_id
                WHERE a.customer_id = m.customer_id AND a.status IN ('queued', 'running')) AS active_sla_violations,
              (SELECT tasks FROM active WHERE active.customer_id = m.customer_id) AS active_tasks,
              coalesce((SELECT status FROM ${this.schema}.customer_circuits c WHERE c.customer_id = m.customer_id), 'closed') AS circuit
         FROM mine m GROUP BY m.customer_id ORDER BY m.customer_id`,
      [customerIds],
    );
    const now = this.now();
    return rows.map((r) =>
      customerCard(
        {
          customerId: r.customer_id,
          counts: { queued: Number(r.queued), running: Number(r.running), completed: Number(r.completed), failed: Number(r.failed), cancelled: Number(r.cancelled), rejected: Number(r.rejected) },
          lastActivityAt: r.last_activity_at ? r.last_activity_at.getTime() : null,
          nearestDeadlineAt: r.nearest_deadline_at ? r.nearest_deadline_at.getTime() : null,
          activeSlaViolations: Number(r.active_sla_violations),
          activeTasks: r.active_tasks ? Object.values(r.active_tasks as Record<string, TaskView>) : null,
          circuit: r.circuit,
        },
        now,
      ),
    );
  }

  private async keyset(table: string, timeColumn: string, idColumn: string, equals: Record<string, string | undefined>, page: PageRequest) {
    const params: unknown[] = [];
    const where: string[] = ['true'];
    for (const [column, value] of Object.entries(equals)) {
      if (value === undefined) continue;
      params.push(value);
      where.push(`${column} = $${params.length}`);
    }
    if (page.cursor) {
      const [at, id] = this.cursor(page.cursor, 2);
      params.push(at, id);
      where.push(`(${timeColumn}, ${idColumn}) < ($${params.length - 1}::timestamptz, $${params.length})`);
    }
    params.push(page.limit + 1);
    const { rows } = await this.pool.query(
      `SELECT * FROM ${this.schema}.${table} WHERE ${where.join(' AND ')} ORDER BY ${timeColumn} DESC, ${idColumn} DESC LIMIT $${params.length}`,
      params,
    );
    return { rows, limit: page.limit };
  }

  private page<T>(items: T[], limit: number, keyOf: (item: T) => (string | number)[]): Page<T> {
    const more = items.length > limit;
    const served = items.slice(0, limit);
    return { items: served, nextCursor: more ? encodeCursor(keyOf(served[served.length - 1])) : null };
  }

  private cursor(cursor: string, arity: number): (string | number)[] {
    const key = decodeCursor(cursor, arity);
    if (!key) throw ValidationError.of('cursor', 'cursor is not one this API issued');
    return key;
  }
}

interface ExecutionRow {
  readonly execution_id: string;
  readonly customer_id: string | null;
  readonly kind: string | null;
  readonly status: ExecutionView['status'];
  readonly reasons: string[];
  readonly tasks: Record<string, TaskView>;
  readonly accepted_at: Date | null;
  readonly queued_at: Date | null;
  readonly admitted_at: Date | null;
  readonly deadline_at: Date | null;
  readonly finished_at: Date | null;
  readonly duration_ms: string | null;
  readonly cost_micros: string;
  readonly cost_currency: string | null;
  readonly cost_attempts: number;
  readonly cost_final: boolean;
  readonly cost_missing_attempts: number;
  readonly last_event_at: Date;
}

function toExecutionView(row: ExecutionRow): ExecutionView {
  const tasks = Object.values(row.tasks);
  const phase = phaseOf(tasks);
  return {
    executionId: row.execution_id,
    customerId: row.customer_id,
    kind: row.kind,
    status: row.status,
    reasons: row.reasons,
    phase: phase?.name ?? null,
    progressPct: phase?.progressPct ?? 0,
    tasks,
    acceptedAt: row.accepted_at?.toISOString() ?? null,
    queuedAt: row.queued_at?.toISOString() ?? null,
    admittedAt: row.admitted_at?.toISOString() ?? null,
    deadlineAt: row.deadline_at?.toISOString() ?? null,
    finishedAt: row.finished_at?.toISOString() ?? null,
    durationMs: row.duration_ms === null ? null : Number(row.duration_ms),
    costMicros: Number(row.cost_micros),
    costCurrency: row.cost_currency,
    costAttempts: row.cost_attempts,
    costFinal: row.cost_final,
    costMissingAttempts: row.cost_missing_attempts,
    lastEventAt: row.last_event_at.toISOString(),
  };
}
