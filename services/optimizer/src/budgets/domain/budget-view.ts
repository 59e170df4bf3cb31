import { availableMicros, reservedMicros, type BudgetState } from './budget';
import { forecastSpend, percentOfBudget, periodAt, type BudgetPeriodFigures } from '@flotilla/contracts';

/** A budget as the API shows it at `now`: the current period's spend, what is held, what is left, and where it is heading. */
export interface BudgetView extends BudgetPeriodFigures {
  readonly period: string;
}

export function budgetView(state: Extract<BudgetState, { status: 'Active' }>, now: number): BudgetView {
  const { definition } = state;
  const period = periodAt(definition.period, now);
  // No cost or reservation yet in this period: the row still holds the last one's.
  const current = state.periodKey === period.key ? state : { ...state, periodKey: period.key, spentMicros: 0, crossed: [] };
  // A budget set during the period has counted spend only since then: its pace is measured from then.
  const forecastMicros = forecastSpend(current.spentMicros, { start: Math.max(period.start, state.firstDefinedAt ?? period.start), end: period.end }, now);
  const percent = (micros: number) => percentOfBudget(micros, definition.amountMicros);
  return {
    budgetId: definition.budgetId,
    period: definition.period,
    amountMicros: definition.amountMicros,
    thresholds: definition.thresholds,
    atExhaustion: definition.atExhaustion,
    periodKey: period.key,
    periodStart: new Date(period.start).toISOString(),
    periodEnd: new Date(period.end).toISOString(),
    spentMicros: current.spentMicros,
    reservedMicros: reservedMicros(current),
    availableMicros: availableMicros(current),
    percentUsed: percent(current.spentMicros),
    crossed: current.crossed,
    forecastMicros,
    forecastPercent: percent(forecastMicros),
  };
}
