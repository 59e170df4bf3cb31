import type { CostRecorded } from '@flotilla/contracts';
import type { Transaction } from '@flotilla/event-store';

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
