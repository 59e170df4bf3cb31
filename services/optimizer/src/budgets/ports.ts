import type { Transaction } from '@flotilla/event-store';
import type { BudgetState } from './domain/budget';

export interface StoredBudget {
  readonly state: BudgetState;
  /** The version of the budget's stream: what its next event is appended after. */
  readonly version: number;
}

/** Budget rows: locked for the transaction that decides on them, read for the API. */
export interface BudgetRows {
  /** Rows for budgets about to be decided on for the first time (state None), so that they can be locked. */
  ensure(tx: Transaction, budgetIds: readonly string[]): Promise<void>;
  /** The rows of `budgetIds` that exist, locked in id order; the others are absent (no budget). */
  lock(tx: Transaction, budgetIds: readonly string[]): Promise<Map<string, StoredBudget>>;
  save(tx: Transaction, budgets: ReadonlyArray<{ readonly budgetId: string } & StoredBudget>): Promise<void>;
  get(budgetId: string): Promise<BudgetState | null>;
  /** Every set budget, or those whose id is in `budgetIds`; in id order. */
  list(budgetIds?: readonly string[]): Promise<BudgetState[]>;
}
