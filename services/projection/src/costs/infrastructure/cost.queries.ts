import type { BudgetPeriodKind } from '@flotilla/contracts';
import type { Pool } from 'pg';
import { efficiency } from '../domain/attempt-efficiency';
import { budgetScopeColumns, budgetStatus, spendWindow, type BudgetDefinitionRow } from '../domain/budget-status';
import type { BudgetFilter, BudgetStatusView, CostFilter, CostQueries, CostRow, CostSummary, ExecutionCostFilter, ExecutionCostView, RecommendationFilter, RecommendationView } from '../domain/cost-views';

const GROUP_COLUMNS = { hour: 'hour', customer: 'customer_id', pool: 'agent_type' } as const;

/** `CostQueries` over the projection's cost tables. */
export class PostgresCostQueries implements CostQueries {
  constructor(
    private readonly pool: Pool,
    private readonly schema: string,
    private readonly now: () => number = Date.now,
  ) {}

  /** Summed from the hourly roll-up: an hour-aligned range reads a few rows per hour, however many attempts ran. */
  async costSummary(filter: CostFilter): Promise<CostSummary> {
    const where = ['hour >= $1', 'hour < $2'];
    const params: unknown[] = [filter.from, filter.to];
    if (filter.customerId !== undefined) where.push(`customer_id = $${params.push(filter.customerId)}`);
    if (filter.agentType !== undefined) where.push(`agent_type = $${params.push(filter.agentType)}`);
    const keys = filter.groupBy.map((g) => GROUP_COLUMNS[g]);
    const select = [...keys, 'currency', 'sum(attempts)::bigint AS attempts', 'sum(total_micros)::bigint AS total_micros', 'sum(resource_micros)::bigint AS resource_micros', 'sum(used_micros) AS used_micros'];
    const order = keys.includes('hour') ? ['hour', ...keys.filter((k) => k !== 'hour')] : ['total_micros DESC', ...keys];
    const { rows } = await this.pool.query(
      `SELECT ${select.join(', ')} FROM ${this.schema}.cost_hourly WHERE ${where.join(' AND ')}
        GROUP BY ${[...keys, 'currency'].join(', ')} ORDER BY ${[...order, 'currency'].join(', ')}`,
      params,
    );
    const totals = new Map<string, { attempts: number; total: number; resource: number; used: number }>();
    for (const r of rows) {
      const t = totals.get(r.currency) ?? { attempts: 0, total: 0, resource: 0, used: 0 };
      t.attempts += Number(r.attempts);
      t.total += Number(r.total_micros);
      t.resource += Number(r.resource_micros);
      t.used += Number(r.used_micros);
      totals.set(r.currency, t);
    }
    return {
      from: new Date(filter.from).toISOString(),
      to: new Date(filter.to).toISOString(),
      groupBy: filter.groupBy,
      totals: [...totals].map(([currency, t]) => ({ currency, attempts: t.attempts, totalMicros: t.total, efficiency: efficiency(t.used, t.resource) })),
      rows: rows.map(
        (r): CostRow => ({
          ...(r.hour !== undefined ? { hour: (r.hour as Date).toISOString() } : {}),
          ...(r.customer_id !== undefined ? { customerId: r.customer_id } : {}),
          ...(r.agent_type !== undefined ? { agentType: r.agent_type } : {}),
          currency: r.currency,
          attempts: Number(r.attempts),
          totalMicros: Number(r.total_micros),
          efficiency: efficiency(Number(r.used_micros), Number(r.resource_micros)),
        }),
      ),
    };
  }

  async costliestExecutions(filter: ExecutionCostFilter): Promise<readonly ExecutionCostView[]> {
    // The partial index's predicate: executions with a cost, zero included once final.
    const where = ['(cost_attempts > 0 OR cost_final)'];
    const params: unknown[] = [];
    if (filter.customerId !== undefined) where.push(`customer_id = $${params.push(filter.customerId)}`);
    if (filter.from !== undefined) where.push(`accepted_at >= $${params.push(filter.from)}`);
    if (filter.to !== undefined) where.push(`accepted_at < $${params.push(filter.to)}`);
    if (filter.final !== undefined) where.push(`cost_final = $${params.push(filter.final)}`);
    const { rows } = await this.pool.query(
      `SELECT execution_id, customer_id, status, cost_micros, cost_currency, cost_final, cost_attempts, cost_missing_attempts, accepted_at, finished_at
         FROM ${this.schema}.executions WHERE ${where.join(' AND ')} ORDER BY cost_micros DESC, execution_id DESC LIMIT $${params.push(filter.limit)}`,
      params,
    );
    return rows.map((r) => ({
      executionId: r.execution_id,
      customerId: r.customer_id,
      status: r.status,
      costMicros: Number(r.cost_micros),
      costCurrency: r.cost_currency,
      costFinal: r.cost_final,
      costAttempts: r.cost_attempts,
      costMissingAttempts: r.cost_missing_attempts,
      acceptedAt: r.accepted_at?.toISOString() ?? null,
      finishedAt: r.finished_at?.toISOString() ?? null,
    }));
  }

  async listBudgets(filter: BudgetFilter): Promise<readonly BudgetStatusView[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.customerId !== undefined) where.push(`customer_id = $${params.push(filter.customerId)}`);
    if (filter.scope === 'customer') where.push('customer_id IS NOT NULL');
    if (filter.scope === 'pool') where.push('agent_type IS NOT NULL');
    if (filter.scope === 'global') where.push(`budget_id = 'global'`);
    const { rows } = await this.pool.query(`SELECT * FROM ${this.schema}.budgets ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY budget_id`, params);
    return this.withSpend(rows.map(toDefinition));
  }

  async getBudget(budgetId: string): Promise<BudgetStatusView | null> {
    const { rows } = await this.pool.query(`SELECT * FROM ${this.schema}.budgets WHERE budget_id = $1`, [budgetId]);
    const [view] = await this.withSpend(rows.map(toDefinition));
    return view ?? null;
  }

  /**
   * Each budget's spend in its current period, as the ledger counts it: costs of attempts that ended
   * in the period and were recorded after the budget was first defined, plus reservations committed
   * for the period. Whole hours come from the roll-up; only the hour the budget was defined in, when
   * it falls in the period, is read per attempt.
   */
  private async withSpend(budgets: readonly BudgetDefinitionRow[]): Promise<BudgetStatusView[]> {
    if (budgets.length === 0) return [];
    const now = this.now();
    const windows = budgets.map((b) => ({ budget: b, window: spendWindow(b, now) }));
    const iso = (ms: number) => new Date(ms).toISOString();
    const { rows } = await this.pool.query(
      `WITH b AS (
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::timestamptz[], $6::text[]) AS b(budget_id, customer_id, agent_type, counts_from, period_end, period_key)
       ), w AS (
         -- The first whole hour at or after counts_from.
         SELECT b.*, CASE WHEN date_trunc('hour', b.counts_from) = b.counts_from THEN b.counts_from ELSE date_trunc('hour', b.counts_from) + interval '1 hour' END AS whole_from FROM b
       )
       SELECT w.budget_id,
         (SELECT COALESCE(sum(h.total_micros), 0) FROM ${this.schema}.cost_hourly h
           WHERE h.hour >= w.whole_from AND h.hour < w.period_end
             AND (w.customer_id IS NULL OR h.customer_id = w.customer_id) AND (w.agent_type IS NULL OR h.agent_type = w.agent_type))
         + (SELECT COALESCE(sum(a.total_micros), 0) FROM ${this.schema}.cost_attempts a
           WHERE a.ended_at >= date_trunc('hour', w.counts_from) AND a.ended_at < w.whole_from AND a.ended_at < w.period_end AND a.recorded_at >= w.counts_from
             AND (w.customer_id IS NULL OR a.customer_id = w.customer_id) AND (w.agent_type IS NULL OR a.agent_type = w.agent_type))
         + (SELECT COALESCE(sum(r.amount_micros), 0) FROM ${this.schema}.budget_reservations r WHERE r.budget_id = w.budget_id AND r.status = 'committed' AND r.period_key = w.period_key) AS spent_micros,
         (SELECT COALESCE(sum(r.amount_micros), 0) FROM ${this.schema}.budget_reservations r WHERE r.budget_id = w.budget_id AND r.status = 'reserved' AND r.period_key = w.period_key) AS reserved_micros,
         (SELECT COALESCE(array_agg(c.threshold ORDER BY c.threshold), '{}') FROM ${this.schema}.budget_crossings c WHERE c.budget_id = w.budget_id AND c.period_key = w.period_key) AS crossed
       FROM w`,
      [
        windows.map((w) => w.budget.budgetId),
        windows.map((w) => budgetScopeColumns(w.budget.budgetId).customerId),
        windows.map((w) => budgetScopeColumns(w.budget.budgetId).agentType),
        windows.map((w) => iso(w.window.countsFrom)),
        windows.map((w) => iso(w.window.end)),
        windows.map((w) => w.window.key),
      ],
    );
    const spend = new Map(rows.map((r) => [r.budget_id as string, { spentMicros: Number(r.spent_micros), reservedMicros: Number(r.reserved_micros), crossed: (r.crossed as number[]).map(Number) }]));
    return budgets.map((b) => budgetStatus(b, spend.get(b.budgetId) ?? { spentMicros: 0, reservedMicros: 0, crossed: [] }, now));
  }

  async listRecommendations(filter: RecommendationFilter): Promise<readonly RecommendationView[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.status === 'open') where.push('dismissed_at IS NULL');
    if (filter.status === 'dismissed') where.push('dismissed_at IS NOT NULL');
    if (filter.kind !== undefined) where.push(`kind = $${params.push(filter.kind)}`);
    if (filter.agentType !== undefined) where.push(`agent_type = $${params.push(filter.agentType)}`);
    const { rows } = await this.pool.query(
      `SELECT * FROM ${this.schema}.recommendations ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY saving_micros DESC, recommendation_id LIMIT $${params.push(filter.limit)}`,
      params,
    );
    return rows.map((r) => ({
      recommendationId: r.recommendation_id,
      kind: r.kind,
      agentType: r.agent_type,
      summary: r.summary,
      currentWorkers: r.current_workers,
      recommendedWorkers: r.recommended_workers,
      estimatedMonthlySavingMicros: Number(r.saving_micros),
      confidence: r.confidence,
      evidence: r.evidence,
      issuedAt: r.issued_at.toISOString(),
      status: r.dismissed_at ? 'dismissed' : 'open',
      dismissed: r.dismissed_at ? { at: r.dismissed_at.toISOString(), by: r.dismissed_by, reason: r.dismiss_reason } : null,
    }));
  }
}

interface BudgetRow {
  readonly budget_id: string;
  readonly period: BudgetPeriodKind;
  readonly amount_micros: string;
  readonly thresholds: number[];
  readonly at_exhaustion: string;
  readonly first_defined_at: Date;
  readonly defined_at: Date;
  readonly defined_by: string;
}

function toDefinition(r: BudgetRow): BudgetDefinitionRow {
  return {
    budgetId: r.budget_id,
    period: r.period,
    amountMicros: Number(r.amount_micros),
    thresholds: r.thresholds,
    atExhaustion: r.at_exhaustion,
    firstDefinedAt: r.first_defined_at.getTime(),
    definedAt: r.defined_at.getTime(),
    definedBy: r.defined_by,
  };
}
