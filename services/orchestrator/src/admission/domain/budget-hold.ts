import { budgetScopeOf, type BudgetDefined, type BudgetThresholdCrossed } from '@flotilla/contracts';

/**
 * A customer whose budget is exhausted, and says `hold_executions` for that case, has its new
 * executions held in the queue (as an open circuit holds them) until the budget's period ends, or
 * until the budget is set again with room in it. The optimizer decides exhaustion; this only reads
 * what its events say.
 */
export interface BudgetHoldChange {
  readonly customerId: string;
  /** Held until then (the end of the budget's period); null lifts the hold. */
  readonly holdUntil: number | null;
  readonly reason: string;
}

export function budgetHoldChange(event: { readonly type: 'flotilla.budget.BudgetThresholdCrossed'; readonly data: BudgetThresholdCrossed } | { readonly type: 'flotilla.budget.BudgetDefined'; readonly data: BudgetDefined }): BudgetHoldChange | null {
  const { budgetId } = event.data;
  const scope = budgetScopeOf(budgetId);
  if (scope?.kind !== 'customer') return null;
  const { customerId } = scope;
  if (event.type === 'flotilla.budget.BudgetThresholdCrossed') {
    const { threshold, atExhaustion, periodEnd, periodKey } = event.data;
    if (threshold < 100 || atExhaustion !== 'hold_executions') return null;
    return { customerId, holdUntil: periodEnd, reason: `budget ${budgetId} is exhausted for ${periodKey}` };
  }
  // Set again: exhausted under the new amount (and still holding), or not any more.
  const { atExhaustion, spentMicros, amountMicros, periodEnd } = event.data;
  const exhausted = atExhaustion === 'hold_executions' && periodEnd > 0 && spentMicros >= amountMicros;
  return exhausted ? { customerId, holdUntil: periodEnd, reason: `budget ${budgetId} is exhausted` } : { customerId, holdUntil: null, reason: `budget ${budgetId} was set with room` };
}
