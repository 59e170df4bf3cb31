import type { Transaction } from '@flotilla/event-store';
import type { ExecutionEvent } from '../execution/domain/execution';
import type { AdmissionSnapshot } from './domain/admission-plan';
import type { BudgetHoldChange } from './domain/budget-hold';
import type { CircuitState } from './domain/customer-circuit';

/**
 * The admission tables: the queue, the global capacity and the circuits, kept as rows the admitter
 * reads in one round. Each write runs in the transaction that appends the events it follows from, so
 * a restart neither loses a queued execution nor leaks a slot. Implemented over PostgreSQL in
 * infrastructure/admission-store.ts.
 */
export interface AdmissionStore {
  /** Keeps the queue in step with the Execution events of a batch of commands (each with the trace of its command). */
  applyExecutionEvents(tx: Transaction, events: ReadonlyArray<{ readonly event: ExecutionEvent; readonly traceparent: string | null }>): Promise<void>;
  /** The circuits of these customers, locked until the transaction ends. */
  lockCircuits(tx: Transaction, customerIds: readonly string[]): Promise<Map<string, StoredCircuit>>;
  saveCircuits(tx: Transaction, circuits: ReadonlyArray<{ readonly customerId: string } & StoredCircuit>): Promise<void>;
  saveCapacity(tx: Transaction, capacity: number, changedAt: number): Promise<void>;
  /** Holds a customer's new executions until a time (a later hold wins), or lifts the hold. */
  applyBudgetHold(change: BudgetHoldChange): Promise<void>;
  /** What admission decides with: every queued or running execution, the capacity, the circuits that are not closed, the budget holds in force. */
  snapshot(defaultCapacity: number): Promise<AdmissionSnapshot & { readonly traceparents: ReadonlyMap<string, string> }>;
}

/** A customer's circuit as its row keeps it: the state, and the version of its stream of transitions. */
export interface StoredCircuit {
  readonly state: CircuitState;
  readonly version: number;
}
