/**
 * The read side's contract: what the projection keeps (read models) and what the query API, the live
 * stream and the dashboard read. Storage (PostgreSQL) implements `ReadModelQueries`; the HTTP layer
 * only depends on this file. Times are ISO-8601 strings, durations milliseconds.
 */
import type { ExecutionView, ExecutionViewStatus } from './execution-view';

export type { ExecutionView, ExecutionViewStatus, TaskView } from './execution-view';

export type Health = 'green' | 'yellow' | 'red';
export type Timeline = 'on_time' | 'at_risk' | 'delayed';

/** The seeds' six metrics per customer, plus the counts behind them. */
export interface CustomerCard {
  readonly customerId: string;
  /** Display name; the customer id until a directory of names exists. */
  readonly name: string;
  /** Current phase: the agent type its most recent active execution is working on, with progress. */
  readonly phase: { readonly name: string; readonly progressPct: number } | null;
  readonly health: { readonly status: Health; readonly reason: string };
  /** Against the nearest deadline among its active executions; null days when none has a deadline. */
  readonly timeline: { readonly status: Timeline; readonly daysRemaining: number | null };
  /** completed / (completed + failed) over all its finished executions; null before the first. */
  readonly successRate: number | null;
  readonly lastActivityAt: string | null;
  readonly counts: { readonly queued: number; readonly running: number; readonly completed: number; readonly failed: number; readonly cancelled: number; readonly rejected: number };
  /** The customer's circuit breaker as admission last reported it. */
  readonly circuit: 'closed' | 'open' | 'half_open';
}

export interface SystemOverview {
  readonly active: number;
  readonly capacity: number | null;
  readonly queued: number;
  /** active / capacity, 0..1; null while the capacity is unknown. */
  readonly utilization: number | null;
  readonly health: { readonly status: Health; readonly reason: string };
  /** Over the last `windowMinutes`. */
  readonly successRate: { readonly windowMinutes: number; readonly rate: number | null; readonly completed: number; readonly failed: number };
  /** Critical alerts raised in the last 24 h. */
  readonly criticalAlerts: number;
  readonly customers: number;
  readonly updatedAt: string;
}

export interface AlertView {
  readonly alertId: string;
  readonly severity: 'info' | 'warning' | 'critical';
  readonly kind: string;
  readonly source: string;
  readonly customerId: string | null;
  readonly executionId: string | null;
  readonly message: string;
  readonly raisedAt: string;
}

export interface SlaViolationView {
  readonly executionId: string;
  readonly customerId: string;
  readonly sla: string;
  readonly limitMs: number;
  readonly actualMs: number;
  readonly violatedAt: string;
}

/** Opaque cursor pagination: pass `nextCursor` back as `cursor`; null means the last page. */
export interface Page<T> {
  readonly items: readonly T[];
  readonly nextCursor: string | null;
}

export interface PageRequest {
  readonly limit: number;
  readonly cursor: string | null;
}

export interface ExecutionFilter {
  readonly status?: ExecutionViewStatus;
  readonly customerId?: string;
  readonly kind?: string;
  /** Accepted at or after / before (ISO-8601). */
  readonly from?: string;
  readonly to?: string;
}

export interface AlertFilter {
  readonly customerId?: string;
  readonly severity?: AlertView['severity'];
}

/** Tenancy is applied by the caller: a customer's requests always carry its own customerId filter. */
export interface ReadModelQueries {
  listExecutions(filter: ExecutionFilter, page: PageRequest): Promise<Page<ExecutionView>>;
  getExecution(executionId: string): Promise<ExecutionView | null>;
  listCustomerCards(filter: { readonly customerId?: string }, page: PageRequest): Promise<Page<CustomerCard>>;
  getCustomerCard(customerId: string): Promise<CustomerCard | null>;
  overview(): Promise<SystemOverview>;
  listAlerts(filter: AlertFilter, page: PageRequest): Promise<Page<AlertView>>;
  listSlaViolations(filter: { readonly customerId?: string }, page: PageRequest): Promise<Page<SlaViolationView>>;
}

/** What changed in the read models; emitted after the change committed. */
export interface ReadModelChange {
  readonly kind: 'execution' | 'customer' | 'overview' | 'alert' | 'sla_violation' | 'cost' | 'budget' | 'recommendation' | 'scaling' | 'notification';
  /**
   * Execution id (also of a cost), customer id, alert id, budget id, recommendation id, the pool (agent type) for scaling, the
   * subscription for notification (its own row or one of its deliveries); 'system' for the overview.
   */
  readonly id: string;
  /** Whose data it is (null for system-wide changes), for tenant filtering. */
  readonly customerId: string | null;
  readonly at: string;
}

/** In-process feed of committed changes: the cache invalidates from it, the live stream batches it. */
export interface ReadModelChanges {
  subscribe(listener: (changes: readonly ReadModelChange[]) => void): () => void;
}
