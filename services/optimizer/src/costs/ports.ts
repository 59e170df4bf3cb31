import type { CostRecorded } from '@flotilla/contracts';
import type { Transaction } from '@flotilla/event-store';
import type { CostedAttempts, ExecutionCostState } from './domain/execution-cost';

export interface AttemptCostRow {
  readonly costId: string;
  readonly taskId: string;
  readonly attempt: number;
  readonly agentType: string;
  readonly outcome: string;
  readonly cpuMicros: number;
  readonly memoryMicros: number;
  readonly fixedMicros: number;
  readonly unitsMicros: number;
  readonly totalMicros: number;
  readonly endedAt: string;
}

export interface ExecutionCost {
  readonly executionId: string;
  readonly customerId: string;
  readonly currency: string;
  readonly totalMicros: number;
  readonly attempts: AttemptCostRow[];
}

export interface CustomerCost {
  readonly customerId: string;
  readonly currency: string;
  readonly totalMicros: number;
  readonly executions: number;
  readonly byAgentType: { agentType: string; totalMicros: number }[];
  readonly byHour: { hour: string; totalMicros: number }[];
}

export interface PoolCost {
  readonly agentType: string;
  readonly totalMicros: number;
  readonly attempts: number;
}

/** Worker-time the pools had provisioned, from their metrics reports: what idle cost is measured against. */
export interface ProvisionedCapacity {
  /** Provisioned worker-milliseconds per agent type, in the whole hours that start within the range. */
  workerMs(range: TimeRange): Promise<Map<string, number>>;
}

export interface TimeRange {
  readonly from?: string;
  readonly to?: string;
}

/** The ledger's rows (one per attempt) and the sums the API reads from them. */
export interface CostLedgerRows {
  readonly currency: string;
  /** In the transaction that records the CostRecorded events: a row per attempt, once. */
  insert(tx: Transaction, costs: readonly CostRecorded[]): Promise<void>;
  execution(executionId: string): Promise<ExecutionCost | null>;
  customer(customerId: string, range: TimeRange): Promise<CustomerCost | null>;
  pools(range: TimeRange): Promise<PoolCost[]>;
}

export interface StoredExecutionCost {
  readonly state: ExecutionCostState;
  /** The version of the execution cost's stream: what its next event is appended after. */
  readonly version: number;
}

/**
 * Each execution's cost state as a row (Open, Ended awaiting costs, Final), like the budgets: locked
 * for the transaction that decides on it, whether that transaction records costs or the end.
 */
export interface ExecutionCostRows {
  /**
   * Rows (state Open) for executions about to be decided on, so that they can be locked. Waits for a
   * transaction that is creating the same row: a cost and the end of one execution never pass each other.
   */
  ensure(tx: Transaction, executionIds: readonly string[]): Promise<void>;
  /** The rows of `executionIds`, locked in id order. */
  lock(tx: Transaction, executionIds: readonly string[]): Promise<Map<string, StoredExecutionCost>>;
  /** What the ledger holds for each execution as this transaction sees it (its own rows included); absent: nothing costed. */
  costed(tx: Transaction, executionIds: readonly string[]): Promise<Map<string, CostedAttempts>>;
  save(tx: Transaction, rows: ReadonlyArray<{ readonly executionId: string } & StoredExecutionCost>): Promise<void>;
  get(executionId: string): Promise<ExecutionCostState | null>;
}
