import { assertNever, type Decider, type DomainEvent } from '@flotilla/domain';
import { availableMicros, newlyCrossed, type BudgetDefinition, type BudgetState } from './budget';
import { periodAt } from './budget-period';

export type BudgetCommand =
  | { readonly type: 'DefineBudget'; readonly definition: BudgetDefinition; readonly now: number }
  | { readonly type: 'RecordSpend'; readonly costId: string; readonly amountMicros: number; readonly at: number; readonly now: number }
  | { readonly type: 'Reserve'; readonly reservationId: string; readonly amountMicros: number; readonly expiresAt: number; readonly now: number }
  | { readonly type: 'Commit'; readonly reservationId: string; readonly now: number }
  | { readonly type: 'Release'; readonly reservationId: string; readonly now: number }
  | { readonly type: 'Expire'; readonly reservationId: string; readonly now: number };

export type BudgetEvent =
  | DomainEvent<'flotilla.budget.BudgetDefined', { budgetId: string; definition: BudgetDefinition; definedAt: number }>
  | DomainEvent<'flotilla.budget.BudgetSpendRecorded', { budgetId: string; costId: string; amountMicros: number; periodKey: string; recordedAt: number }>
  | DomainEvent<'flotilla.budget.BudgetThresholdCrossed', { budgetId: string; threshold: number; periodKey: string; spentMicros: number; amountMicros: number; crossedAt: number }>
  | DomainEvent<'flotilla.budget.BudgetReserved', { budgetId: string; reservationId: string; amountMicros: number; expiresAt: number; periodKey: string; availableMicros: number; reservedAt: number }>
  | DomainEvent<'flotilla.budget.BudgetReservationDenied', { budgetId: string; reservationId: string; amountMicros: number; reason: string; availableMicros: number; deniedAt: number }>
  | DomainEvent<'flotilla.budget.BudgetReservationCommitted', { budgetId: string; reservationId: string; amountMicros: number; periodKey: string; committedAt: number }>
  | DomainEvent<'flotilla.budget.BudgetReservationReleased', { budgetId: string; reservationId: string; amountMicros: number; reason: 'released' | 'expired'; releasedAt: number }>;

type Active = Extract<BudgetState, { status: 'Active' }>;

function decide(command: BudgetCommand, state: BudgetState): BudgetEvent[] {
  if (command.type === 'DefineBudget') {
    return [{ type: 'flotilla.budget.BudgetDefined', data: { budgetId: command.definition.budgetId, definition: command.definition, definedAt: command.now } }];
  }
  if (state.status === 'None') {
    // Reserving against a budget nobody defined is denied rather than granted: no budget is not an unlimited one.
    return command.type === 'Reserve' ? [denied(command, '', 'no such budget', 0)] : [];
  }
  switch (command.type) {
    case 'RecordSpend':
      return recordSpend(command, state);
    case 'Reserve':
      return reserve(command, state);
    case 'Commit': {
      const reservation = state.reservations[command.reservationId];
      if (reservation?.status !== 'reserved') return []; // unknown, or already settled: a repeat changes nothing
      const committed: BudgetEvent = { type: 'flotilla.budget.BudgetReservationCommitted', data: { budgetId: state.definition.budgetId, reservationId: command.reservationId, amountMicros: reservation.amountMicros, periodKey: reservation.periodKey, committedAt: command.now } };
      if (reservation.periodKey !== state.periodKey) return [committed];
      const spent = state.spentMicros + reservation.amountMicros;
      return [committed, ...crossings(state, spent, state.periodKey, command.now)];
    }
    case 'Release':
    case 'Expire': {
      const reservation = state.reservations[command.reservationId];
      if (reservation?.status !== 'reserved') return [];
      // An expiry timer that fires after the reservation was committed or released finds nothing to do (above).
      return [{ type: 'flotilla.budget.BudgetReservationReleased', data: { budgetId: state.definition.budgetId, reservationId: command.reservationId, amountMicros: reservation.amountMicros, reason: command.type === 'Expire' ? 'expired' : 'released', releasedAt: command.now } }];
    }
    default:
      return assertNever(command);
  }
}

function recordSpend(command: Extract<BudgetCommand, { type: 'RecordSpend' }>, state: Active): BudgetEvent[] {
  const period = periodAt(state.definition.period, command.at);
  const recorded: BudgetEvent = { type: 'flotilla.budget.BudgetSpendRecorded', data: { budgetId: state.definition.budgetId, costId: command.costId, amountMicros: command.amountMicros, periodKey: period.key, recordedAt: command.now } };
  // A cost of a period already closed is recorded, but counts towards no threshold of the current one.
  // Keys of one period kind sort as their periods do (2026-11-27, 2026-W48, 2026-11).
  if (period.key < state.periodKey) return [recorded];
  const spentBefore = period.key === state.periodKey ? state.spentMicros : 0;
  return [recorded, ...crossings({ ...state, crossed: period.key === state.periodKey ? state.crossed : [] }, spentBefore + command.amountMicros, period.key, command.now)];
}

function reserve(command: Extract<BudgetCommand, { type: 'Reserve' }>, state: Active): BudgetEvent[] {
  const existing = state.reservations[command.reservationId];
  if (existing) return []; // a repeated request: the first answer stands (it was published once)
  if (!Number.isSafeInteger(command.amountMicros) || command.amountMicros <= 0) return [denied(command, state.definition.budgetId, 'amount must be a positive whole number of micro-units', availableMicros(state))];
  if (command.expiresAt <= command.now) return [denied(command, state.definition.budgetId, 'the reservation expires before it starts', availableMicros(state))];
  const period = periodAt(state.definition.period, command.now);
  const current = period.key === state.periodKey ? state : { ...state, periodKey: period.key, spentMicros: 0, crossed: [] };
  const available = availableMicros(current);
  if (command.amountMicros > available) return [denied(command, state.definition.budgetId, `${command.amountMicros} µ requested, ${available} µ available in ${period.key}`, available)];
  return [
    {
      type: 'flotilla.budget.BudgetReserved',
      data: { budgetId: state.definition.budgetId, reservationId: command.reservationId, amountMicros: command.amountMicros, expiresAt: command.expiresAt, periodKey: period.key, availableMicros: available - command.amountMicros, reservedAt: command.now },
    },
  ];
}

function denied(command: Extract<BudgetCommand, { type: 'Reserve' }>, budgetId: string, reason: string, available: number): BudgetEvent {
  return { type: 'flotilla.budget.BudgetReservationDenied', data: { budgetId, reservationId: command.reservationId, amountMicros: command.amountMicros, reason, availableMicros: available, deniedAt: command.now } };
}

function crossings(state: Active, spentMicros: number, periodKey: string, now: number): BudgetEvent[] {
  return newlyCrossed(state.definition, spentMicros, state.crossed).map((threshold) => ({
    type: 'flotilla.budget.BudgetThresholdCrossed' as const,
    data: { budgetId: state.definition.budgetId, threshold, periodKey, spentMicros, amountMicros: state.definition.amountMicros, crossedAt: now },
  }));
}

function evolve(state: BudgetState, event: BudgetEvent): BudgetState {
  switch (event.type) {
    case 'flotilla.budget.BudgetDefined':
      // Redefining keeps what was spent and reserved: a new amount applies to the current period at once.
      return state.status === 'Active'
        ? { ...state, definition: event.data.definition, crossed: state.crossed.filter((t) => event.data.definition.thresholds.includes(t)) }
        : { status: 'Active', definition: event.data.definition, periodKey: periodAt(event.data.definition.period, event.data.definedAt).key, spentMicros: 0, crossed: [], reservations: {} };
    case 'flotilla.budget.BudgetSpendRecorded':
      return state.status === 'Active' ? addSpend(state, event.data.periodKey, event.data.amountMicros) : state;
    case 'flotilla.budget.BudgetThresholdCrossed':
      return state.status === 'Active' && state.periodKey === event.data.periodKey ? { ...state, crossed: [...state.crossed, event.data.threshold] } : state;
    case 'flotilla.budget.BudgetReserved':
      if (state.status !== 'Active') return state;
      return {
        ...rollTo(state, event.data.periodKey),
        reservations: { ...state.reservations, [event.data.reservationId]: { amountMicros: event.data.amountMicros, status: 'reserved', expiresAt: event.data.expiresAt, periodKey: event.data.periodKey } },
      };
    case 'flotilla.budget.BudgetReservationDenied':
      if (state.status !== 'Active') return state;
      return { ...state, reservations: { ...state.reservations, [event.data.reservationId]: { amountMicros: event.data.amountMicros, status: 'denied', expiresAt: event.data.deniedAt, periodKey: state.periodKey } } };
    case 'flotilla.budget.BudgetReservationCommitted': {
      if (state.status !== 'Active') return state;
      const reservation = state.reservations[event.data.reservationId];
      const spent = addSpend(state, event.data.periodKey, event.data.amountMicros);
      return { ...spent, reservations: { ...state.reservations, [event.data.reservationId]: { ...reservation, status: 'committed' } } };
    }
    case 'flotilla.budget.BudgetReservationReleased': {
      if (state.status !== 'Active') return state;
      const reservation = state.reservations[event.data.reservationId];
      return { ...state, reservations: { ...state.reservations, [event.data.reservationId]: { ...reservation, status: event.data.reason } } };
    }
    default:
      return assertNever(event, 'budget event');
  }
}

/** The state with `amount` spent in `periodKey`: the current period's spend, a newer period's first, or an older one's (ignored). */
function addSpend(state: Active, periodKey: string, amount: number): Active {
  if (periodKey === state.periodKey) return { ...state, spentMicros: state.spentMicros + amount };
  if (periodKey > state.periodKey) return { ...state, periodKey, spentMicros: amount, crossed: [] };
  return state;
}

function rollTo(state: Active, periodKey: string): Active {
  return periodKey > state.periodKey ? { ...state, periodKey, spentMicros: 0, crossed: [] } : state;
}

export const budgetDecider: Decider<BudgetCommand, BudgetEvent, BudgetState> = { initialState: { status: 'None' }, decide, evolve };
