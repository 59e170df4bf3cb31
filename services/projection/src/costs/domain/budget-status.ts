import { budgetScopeOf, forecastSpend, percentOfBudget, periodAt, type BudgetPeriod, type BudgetPeriodFigures, type BudgetPeriodKind } from '@flotilla/contracts';

/** A budget as the read model keeps it: its latest definition (BudgetDefined). */
export interface BudgetDefinitionRow {
  readonly budgetId: string;
  readonly period: BudgetPeriodKind;
  readonly amountMicros: number;
  readonly thresholds: readonly number[];
  readonly atExhaustion: string;
  /** Spend counts from the first definition on (as in the optimizer's ledger): costs recorded before it do not. */
  readonly firstDefinedAt: number;
  readonly definedAt: number;
  readonly definedBy: string;
}

/** What the current period holds for a budget, summed from the cost and reservation rows. */
export interface PeriodSpend {
  /** Costs recorded in the period plus committed reservations of the period. */
  readonly spentMicros: number;
  /** Reservations of the period neither committed nor released yet. */
  readonly reservedMicros: number;
  /** Thresholds the optimizer announced as crossed in the period. */
  readonly crossed: readonly number[];
}

export type BudgetLevel = 'ok' | 'warning' | 'critical' | 'exhausted';

export interface BudgetStatusView extends BudgetPeriodFigures {
  readonly scope: 'customer' | 'pool' | 'global';
  readonly customerId: string | null;
  readonly agentType: string | null;
  readonly period: BudgetPeriodKind;
  /** By the highest threshold crossed: below the lowest ok; the lowest warning; 100 % or more exhausted; any other critical. */
  readonly level: BudgetLevel;
  readonly definedAt: string;
  readonly definedBy: string;
}

/** The instants between which costs count for the budget's current period: from its start, or from the first definition if later. */
export function spendWindow(budget: Pick<BudgetDefinitionRow, 'period' | 'firstDefinedAt'>, now: number): BudgetPeriod & { readonly countsFrom: number } {
  const period = periodAt(budget.period, now);
  return { ...period, countsFrom: Math.max(period.start, budget.firstDefinedAt) };
}

/** The customer or pool a budget id names (neither for the global one), as the read model's columns keep them. */
export function budgetScopeColumns(budgetId: string): { readonly customerId: string | null; readonly agentType: string | null } {
  const scope = budgetScopeOf(budgetId);
  return { customerId: scope?.kind === 'customer' ? scope.customerId : null, agentType: scope?.kind === 'pool' ? scope.agentType : null };
}

export function budgetStatus(budget: BudgetDefinitionRow, spend: PeriodSpend, now: number): BudgetStatusView {
  const period = spendWindow(budget, now);
  const scope = budgetScopeOf(budget.budgetId);
  const { customerId, agentType } = budgetScopeColumns(budget.budgetId);
  // Spend counts from the first definition, so the pace does too (as the optimizer's forecast).
  const forecastMicros = forecastSpend(spend.spentMicros, { start: period.countsFrom, end: period.end }, now);
  const crossed = [...spend.crossed].sort((a, b) => a - b);
  return {
    budgetId: budget.budgetId,
    scope: scope?.kind ?? 'global',
    customerId,
    agentType,
    period: budget.period,
    amountMicros: budget.amountMicros,
    thresholds: budget.thresholds,
    atExhaustion: budget.atExhaustion,
    periodKey: period.key,
    periodStart: new Date(period.start).toISOString(),
    periodEnd: new Date(period.end).toISOString(),
    spentMicros: spend.spentMicros,
    reservedMicros: spend.reservedMicros,
    availableMicros: Math.max(0, budget.amountMicros - spend.spentMicros - spend.reservedMicros),
    percentUsed: percentOfBudget(spend.spentMicros, budget.amountMicros),
    forecastMicros,
    forecastPercent: percentOfBudget(forecastMicros, budget.amountMicros),
    crossed,
    level: levelOf(budget.thresholds, crossed),
    definedAt: new Date(budget.definedAt).toISOString(),
    definedBy: budget.definedBy,
  };
}

function levelOf(thresholds: readonly number[], crossed: readonly number[]): BudgetLevel {
  const highest = crossed.length > 0 ? Math.max(...crossed) : null;
  if (highest === null) return 'ok';
  if (highest >= 100) return 'exhausted';
  return highest === Math.min(...thresholds) ? 'warning' : 'critical';
}
