import type { BudgetDefined, BudgetThresholdCrossed, CostRecorded, ExecutionCostFinalized, RecommendationDismissed, RecommendationIssued } from '@flotilla/contracts';
import type { PoolClient } from 'pg';
import type { CostsWriter, ReservationChange } from '../../read-models/read-model-events';
import { resourceUse } from '../domain/attempt-efficiency';
import { budgetScopeColumns } from '../domain/budget-status';

type Queryable = Pick<PoolClient, 'query'>;

const ts = (ms: number) => new Date(ms).toISOString();

/** SQL of the cost read models; each write runs in the event's projection transaction (applied once). */
export class CostsRepository implements CostsWriter {
  constructor(private readonly schema: string) {}

  /** The attempt's row, and its hour's roll-up: the hour it ended in, as the ledger counts it. */
  async attemptCost(client: Queryable, e: CostRecorded): Promise<void> {
    const { resourceMicros, usedMicros } = resourceUse(e.breakdown, e.usage);
    const { rowCount } = await client.query(
      `INSERT INTO ${this.schema}.cost_attempts (cost_id, execution_id, customer_id, agent_type, task_id, attempt, outcome, total_micros, resource_micros, used_micros, currency, ended_at, recorded_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) ON CONFLICT (cost_id) DO NOTHING`,
      [e.costId, e.executionId, e.customerId, e.agentType, e.taskId, e.attempt, e.outcome, e.breakdown.totalMicros, resourceMicros, usedMicros, e.currency, ts(e.endedAt), ts(e.recordedAt)],
    );
    // The ledger publishes each attempt's cost once; a second CostRecorded for it (a republished
    // outbox row has the same event id, so this is belt and braces) must not count twice in the roll-up.
    if (rowCount !== 1) return;
    await client.query(
      `INSERT INTO ${this.schema}.cost_hourly AS h (hour, customer_id, agent_type, attempts, total_micros, resource_micros, used_micros, currency)
       VALUES (date_trunc('hour', $1::timestamptz), $2, $3, 1, $4, $5, $6, $7)
       ON CONFLICT (hour, customer_id, agent_type) DO UPDATE SET
         attempts        = h.attempts + 1,
         total_micros    = h.total_micros + EXCLUDED.total_micros,
         resource_micros = h.resource_micros + EXCLUDED.resource_micros,
         used_micros     = h.used_micros + EXCLUDED.used_micros`,
      [ts(e.endedAt), e.customerId, e.agentType, e.breakdown.totalMicros, resourceMicros, usedMicros, e.currency],
    );
  }

  async executionCostFinalized(client: Queryable, e: ExecutionCostFinalized): Promise<void> {
    // On the costs topic, keyed by execution: it follows the execution's CostRecorded in order, but may
    // still come before the execution's own events (another topic), hence the placeholder row.
    await client.query(
      `INSERT INTO ${this.schema}.executions AS e (execution_id, customer_id, status, cost_currency, cost_final, cost_missing_attempts, last_event_at)
       VALUES ($1, $2, 'requested', $3, true, $4, to_timestamp($5 / 1000.0))
       ON CONFLICT (execution_id) DO UPDATE SET
         customer_id           = COALESCE(e.customer_id, EXCLUDED.customer_id),
         cost_currency         = COALESCE(e.cost_currency, EXCLUDED.cost_currency),
         cost_final            = true,
         cost_missing_attempts = EXCLUDED.cost_missing_attempts,
         last_event_at         = GREATEST(e.last_event_at, EXCLUDED.last_event_at),
         updated_at            = now()`,
      [e.executionId, e.customerId || null, e.currency, e.missingAttempts, e.finalizedAt],
    );
  }

  /** The latest definition wins; the first one's time stays, as spend counts from it. */
  async budgetDefined(client: Queryable, e: BudgetDefined): Promise<void> {
    const scope = budgetScopeColumns(e.budgetId);
    await client.query(
      `INSERT INTO ${this.schema}.budgets (budget_id, customer_id, agent_type, period, amount_micros, thresholds, at_exhaustion, first_defined_at, defined_at, defined_by)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9)
       ON CONFLICT (budget_id) DO UPDATE SET
         period = EXCLUDED.period, amount_micros = EXCLUDED.amount_micros, thresholds = EXCLUDED.thresholds, at_exhaustion = EXCLUDED.at_exhaustion,
         defined_at = EXCLUDED.defined_at, defined_by = EXCLUDED.defined_by`,
      [e.budgetId, scope.customerId, scope.agentType, e.period, e.amountMicros, e.thresholds, e.atExhaustion, ts(e.definedAt), e.definedBy],
    );
  }

  /** A budget's reservation events arrive in order (one partition per budget); a settled one stays settled. */
  async reservation(client: Queryable, r: ReservationChange): Promise<void> {
    await client.query(
      `INSERT INTO ${this.schema}.budget_reservations AS r (reservation_id, budget_id, amount_micros, status, period_key, reserved_at, settled_at)
       VALUES ($1, $2, $3, $4, $5, $6, CASE WHEN $4 = 'reserved' THEN NULL ELSE $6::timestamptz END)
       ON CONFLICT (reservation_id) DO UPDATE SET
         status     = EXCLUDED.status,
         period_key = CASE WHEN EXCLUDED.period_key = '' THEN r.period_key ELSE EXCLUDED.period_key END,
         settled_at = EXCLUDED.settled_at
       WHERE r.status = 'reserved'`,
      [r.reservationId, r.budgetId, r.amountMicros, r.status, r.periodKey ?? '', ts(r.at)],
    );
  }

  async thresholdCrossed(client: Queryable, e: BudgetThresholdCrossed): Promise<void> {
    await client.query(
      `INSERT INTO ${this.schema}.budget_crossings (budget_id, period_key, threshold, crossed_at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
      [e.budgetId, e.periodKey, e.threshold, ts(e.crossedAt)],
    );
  }

  /** Issued again when its advice changes; a dismissal is final (the optimizer issues nothing after it). */
  async recommendationIssued(client: Queryable, e: RecommendationIssued): Promise<void> {
    await client.query(
      `INSERT INTO ${this.schema}.recommendations AS r (recommendation_id, kind, agent_type, summary, current_workers, recommended_workers, saving_micros, confidence, evidence, issued_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
       ON CONFLICT (recommendation_id) DO UPDATE SET
         kind = EXCLUDED.kind, summary = EXCLUDED.summary, current_workers = EXCLUDED.current_workers, recommended_workers = EXCLUDED.recommended_workers,
         saving_micros = EXCLUDED.saving_micros, confidence = EXCLUDED.confidence, evidence = EXCLUDED.evidence, issued_at = EXCLUDED.issued_at
       WHERE r.dismissed_at IS NULL`,
      [e.recommendationId, e.kind, e.agentType, e.summary, e.currentWorkers, e.recommendedWorkers, e.estimatedMonthlySavingMicros, e.confidence, JSON.stringify(e.evidence), ts(e.issuedAt)],
    );
  }

  async recommendationDismissed(client: Queryable, e: RecommendationDismissed): Promise<void> {
    await client.query(
      `UPDATE ${this.schema}.recommendations SET dismissed_at = $2, dismissed_by = $3, dismiss_reason = $4 WHERE recommendation_id = $1 AND dismissed_at IS NULL`,
      [e.recommendationId, ts(e.dismissedAt), e.dismissedBy, e.reason],
    );
  }
}
