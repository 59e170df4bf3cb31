/**
 * The cost side of the read models: what attempts cost (per hour, customer and pool), what executions
 * cost, budgets with their spend, and the optimizer's recommendations. Storage implements
 * `CostQueries`; the HTTP layer only depends on this file. Money is integer micro-units of
 * `currency`; times are ISO-8601 strings.
 */
import type { RecommendationIssued } from '@flotilla/contracts';
import type { BudgetStatusView } from './budget-status';

export type { BudgetStatusView } from './budget-status';

export const COST_GROUPINGS = ['hour', 'customer', 'pool'] as const;
export type CostGrouping = (typeof COST_GROUPINGS)[number];

export interface CostFilter {
  readonly groupBy: readonly CostGrouping[];
  readonly customerId?: string;
  readonly agentType?: string;
  /** Hours starting at or after `from` and before `to` (ISO-8601). */
  readonly from: string;
  readonly to: string;
}

/** One group of attempts' costs; the keys present are those grouped by. */
export interface CostRow {
  readonly hour?: string;
  readonly customerId?: string;
  readonly agentType?: string;
  readonly currency: string;
  readonly attempts: number;
  readonly totalMicros: number;
  /** Efficiency (attemptEfficiency): of what CPU and memory were charged, the share actually used; null without any. */
  readonly efficiency: number | null;
}

export interface CostSummary {
  readonly from: string;
  readonly to: string;
  readonly groupBy: readonly CostGrouping[];
  /** Per currency (one unless the price sheet changed currency). */
  readonly totals: readonly Omit<CostRow, 'hour' | 'customerId' | 'agentType'>[];
  readonly rows: readonly CostRow[];
}

export interface ExecutionCostView {
  readonly executionId: string;
  readonly customerId: string | null;
  readonly status: string;
  readonly costMicros: number;
  readonly costCurrency: string | null;
  readonly costFinal: boolean;
  readonly costAttempts: number;
  readonly costMissingAttempts: number;
  readonly acceptedAt: string | null;
  readonly finishedAt: string | null;
}

export interface ExecutionCostFilter {
  readonly customerId?: string;
  readonly from?: string;
  readonly to?: string;
  readonly final?: boolean;
  readonly limit: number;
}

export type RecommendationStatus = 'open' | 'dismissed';

/** A recommendation as last issued (RecommendationIssued, times as ISO-8601), and whether it was dismissed. */
export interface RecommendationView extends Omit<RecommendationIssued, 'issuedAt'> {
  readonly issuedAt: string;
  readonly status: RecommendationStatus;
  readonly dismissed: { readonly at: string; readonly by: string; readonly reason: string } | null;
}

export interface RecommendationFilter {
  readonly status?: RecommendationStatus;
  readonly kind?: string;
  readonly agentType?: string;
  readonly limit: number;
}

export interface BudgetFilter {
  readonly customerId?: string;
  readonly scope?: 'customer' | 'pool' | 'global';
}

/** Tenancy is applied by the caller: a customer's requests always carry its own customerId filter. */
export interface CostQueries {
  costSummary(filter: CostFilter): Promise<CostSummary>;
  costliestExecutions(filter: ExecutionCostFilter): Promise<readonly ExecutionCostView[]>;
  listBudgets(filter: BudgetFilter): Promise<readonly BudgetStatusView[]>;
  getBudget(budgetId: string): Promise<BudgetStatusView | null>;
  listRecommendations(filter: RecommendationFilter): Promise<readonly RecommendationView[]>;
}
