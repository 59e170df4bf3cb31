/**
 * A budget is named by its scope, in every budget event and command (`budgetId`):
 * `customer:<customerId>`, `pool:<agentType>` or `global`; one budget per scope.
 */
export type BudgetScope = { readonly kind: 'customer'; readonly customerId: string } | { readonly kind: 'pool'; readonly agentType: string } | { readonly kind: 'global' };

export function budgetIdOf(scope: BudgetScope): string {
  return scope.kind === 'customer' ? `customer:${scope.customerId}` : scope.kind === 'pool' ? `pool:${scope.agentType}` : 'global';
}

/** The scope a budget id names, or null when it names none. */
export function budgetScopeOf(budgetId: string): BudgetScope | null {
  if (budgetId === 'global') return { kind: 'global' };
  const [kind, ...rest] = budgetId.split(':');
  const id = rest.join(':');
  if (id === '') return null;
  if (kind === 'customer') return { kind: 'customer', customerId: id };
  if (kind === 'pool') return { kind: 'pool', agentType: id };
  return null;
}
