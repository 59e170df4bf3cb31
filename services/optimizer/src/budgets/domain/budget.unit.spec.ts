import { fold } from '@flotilla/domain';
import { availableMicros, DEFAULT_THRESHOLDS, type BudgetDefinition, type BudgetState } from './budget';
import { budgetDecider, type BudgetCommand, type BudgetEvent } from './budget.decider';
import { periodAt } from '@flotilla/contracts';
import { budgetView } from './budget-view';

const T = Date.UTC(2026, 10, 27, 12); // Friday 27 November 2026, noon UTC
const HOUR = 3_600_000;
const definition: BudgetDefinition = { budgetId: 'customer:acme', period: 'daily', amountMicros: 1_000_000, thresholds: [...DEFAULT_THRESHOLDS], atExhaustion: 'hold_executions' };

/** Applies commands in order; returns every event and the final state. */
function run(commands: BudgetCommand[], from: BudgetState = budgetDecider.initialState) {
  const events: BudgetEvent[] = [];
  let state = from;
  for (const command of commands) {
    const decided = budgetDecider.decide(command, state);
    events.push(...decided);
    state = decided.reduce(budgetDecider.evolve, state);
  }
  const alerts = events.flatMap((e) => (e.type === 'flotilla.alert.AlertRaised' ? [e.data] : []));
  return { events, state, alerts, types: events.filter((e) => e.type !== 'flotilla.alert.AlertRaised').map((e) => e.type.replace('flotilla.budget.', '')) };
}
const defined = run([{ type: 'DefineBudget', definition, definedBy: 'ops', now: T }]).state;
const spend = (costId: string, amountMicros: number, at = T): BudgetCommand => ({ type: 'RecordSpend', costId, amountMicros, at, now: at });
const reserve = (reservationId: string, amountMicros: number, now = T, expiresAt = now + HOUR): BudgetCommand => ({ type: 'Reserve', budgetId: 'customer:acme', reservationId, amountMicros, expiresAt, now });
const active = (s: BudgetState) => {
  if (s.status !== 'Active') throw new Error('no budget');
  return s;
};

describe('budget periods (UTC)', () => {
  it.each([
    ['daily', T, '2026-11-27', Date.UTC(2026, 10, 27), Date.UTC(2026, 10, 28)],
    ['weekly', T, '2026-W48', Date.UTC(2026, 10, 23), Date.UTC(2026, 10, 30)], // Monday 23 to Monday 30
    ['weekly', Date.UTC(2027, 0, 1), '2026-W53', Date.UTC(2026, 11, 28), Date.UTC(2027, 0, 4)], // 1 Jan 2027 is in 2026's last ISO week
    ['monthly', T, '2026-11', Date.UTC(2026, 10, 1), Date.UTC(2026, 11, 1)],
    ['monthly', Date.UTC(2026, 11, 31, 23, 59, 59, 999), '2026-12', Date.UTC(2026, 11, 1), Date.UTC(2027, 0, 1)],
  ] as const)('%s at %p is %s', (kind, at, key, start, end) => {
    expect(periodAt(kind, at)).toEqual({ key, start, end });
  });
});

describe('budget thresholds', () => {
  it('announces 75, 90 and 100 % once each per period, in order, however the spend arrives', () => {
    const { types, events } = run([spend('c1', 700_000), spend('c2', 60_000), spend('c3', 10_000), spend('c4', 200_000), spend('c5', 500_000)], defined);
    expect(types).toEqual(['BudgetSpendRecorded', 'BudgetSpendRecorded', 'BudgetThresholdCrossed', 'BudgetSpendRecorded', 'BudgetSpendRecorded', 'BudgetThresholdCrossed', 'BudgetSpendRecorded', 'BudgetThresholdCrossed']);
    const crossed = events.filter((e) => e.type === 'flotilla.budget.BudgetThresholdCrossed').map((e) => [e.data.threshold, e.data.spentMicros]);
    // 760,000 crosses 75 %; 970,000 crosses 90 % (not 100); 1,470,000 crosses 100 %.
    expect(crossed).toEqual([[75, 760_000], [90, 970_000], [100, 1_470_000]]);
  });

  it('raises one alert per crossing, stable per budget, period and threshold, critical at 100 %', () => {
    const { alerts } = run([spend('c1', 1_000_000)], defined);
    expect(alerts.map((a) => [a.alertId, a.severity, a.kind, a.customerId])).toEqual([
      ['budget_threshold:customer:acme:2026-11-27:75', 'info', 'budget_threshold', 'acme'],
      ['budget_threshold:customer:acme:2026-11-27:90', 'warning', 'budget_threshold', 'acme'],
      ['budget_threshold:customer:acme:2026-11-27:100', 'critical', 'budget_exhausted', 'acme'],
    ]);
    expect(alerts[2].message).toBe('budget customer:acme reached 100 % of 1000000 µ in 2026-11-27 (1000000 µ spent): new executions are held until 2026-11-28T00:00:00.000Z');
  });

  it('crosses a threshold at exactly its amount, in integers (75 % of 1,000,000 is 750,000)', () => {
    expect(run([spend('c1', 749_999)], defined).types).toEqual(['BudgetSpendRecorded']);
    expect(run([spend('c1', 750_000)], defined).types).toEqual(['BudgetSpendRecorded', 'BudgetThresholdCrossed']);
  });

  it('starts again in the next period, and a late cost of the closed period crosses nothing', () => {
    const yesterday = run([spend('c1', 950_000, T - 24 * HOUR)], run([{ type: 'DefineBudget', definition, definedBy: 'ops', now: T - 24 * HOUR }]).state);
    expect(yesterday.types.filter((t) => t === 'BudgetThresholdCrossed')).toHaveLength(2);
    const today = run([spend('c2', 800_000), spend('late', 900_000, T - 24 * HOUR + 1)], yesterday.state);
    expect(today.events.filter((e) => e.type === 'flotilla.budget.BudgetThresholdCrossed').map((e) => [e.data.threshold, e.data.periodKey])).toEqual([[75, '2026-11-27']]);
    expect(active(today.state)).toMatchObject({ periodKey: '2026-11-27', spentMicros: 800_000, crossed: [75] });
  });
});

describe('budget reservations (the scale saga contract)', () => {
  it('reserves while money is available, then denies with the amount available', () => {
    const { events, state } = run([spend('c1', 300_000), reserve('r1', 500_000), reserve('r2', 300_000)], defined);
    expect(events.filter((e) => e.type === 'flotilla.budget.BudgetReserved').map((e) => e.data)).toMatchObject([{ reservationId: 'r1', availableMicros: 200_000 }]);
    const denial = events.find((e) => e.type === 'flotilla.budget.BudgetReservationDenied');
    expect(denial?.data).toMatchObject({ reservationId: 'r2', availableMicros: 200_000, reason: '300000 µ requested, 200000 µ available in 2026-11-27' });
    expect(availableMicros(active(state))).toBe(200_000);
  });

  it('never lets two reservations decided one after the other take the same money', () => {
    const { state, types } = run([reserve('a', 600_000), reserve('b', 600_000), reserve('c', 400_000)], defined);
    expect(types).toEqual(['BudgetReserved', 'BudgetReservationDenied', 'BudgetReserved']);
    expect(availableMicros(active(state))).toBe(0);
  });

  it.each([
    ['commit', { type: 'Commit' }, 'committed', 400_000, 600_000],
    ['release', { type: 'Release' }, 'released', 0, 1_000_000],
    ['expiry', { type: 'Expire' }, 'expired', 0, 1_000_000],
  ] as const)('settles by %s: spent and available after it, and a repeat changes nothing', (_name, settle, status, spent, available) => {
    const reserved = run([reserve('r1', 400_000)], defined).state;
    const command = { ...settle, reservationId: 'r1', now: T + 1 } as BudgetCommand;
    const once = run([command], reserved);
    expect(active(once.state).reservations.r1.status).toBe(status);
    expect(active(once.state).spentMicros).toBe(spent);
    expect(availableMicros(active(once.state))).toBe(available);
    // Idempotent: the same command again, or any other settlement after it, decides nothing.
    for (const again of [command, { type: 'Commit', reservationId: 'r1', now: T + 2 }, { type: 'Expire', reservationId: 'r1', now: T + 3 }] as BudgetCommand[]) {
      expect(budgetDecider.decide(again, once.state)).toEqual([]);
    }
  });

  it('answers a repeated reservation request once: the first answer stands', () => {
    const first = run([reserve('r1', 400_000)], defined);
    expect(budgetDecider.decide(reserve('r1', 400_000), first.state)).toEqual([]);
    const deniedFirst = run([reserve('big', 2_000_000)], defined);
    expect(budgetDecider.decide(reserve('big', 2_000_000), deniedFirst.state)).toEqual([]);
  });

  it('counts a committed reservation towards the thresholds', () => {
    const { types } = run([spend('c1', 500_000), reserve('r1', 300_000), { type: 'Commit', reservationId: 'r1', now: T + 1 }], defined);
    expect(types).toEqual(['BudgetSpendRecorded', 'BudgetReserved', 'BudgetReservationCommitted', 'BudgetThresholdCrossed']);
  });

  it.each([
    ['a budget nobody defined', budgetDecider.initialState, reserve('r1', 1), 'no budget is defined for customer:acme'],
    ['a zero amount', defined, reserve('r1', 0), 'amount must be a positive whole number of micro-units'],
    ['a fractional amount', defined, reserve('r1', 1.5), 'amount must be a positive whole number of micro-units'],
    ['an expiry in the past', defined, reserve('r1', 10, T, T - 1), 'the reservation expires before it starts'],
  ])('denies %s with the reason', (_name, state, command, reason) => {
    expect(budgetDecider.decide(command, state)).toMatchObject([{ type: 'flotilla.budget.BudgetReservationDenied', data: { reason } }]);
  });

  it('frees money reserved in a closed period when the next one starts', () => {
    const yesterday = run([reserve('old', 900_000, T - 24 * HOUR, T + 24 * HOUR)], run([{ type: 'DefineBudget', definition, definedBy: 'ops', now: T - 24 * HOUR }]).state);
    const today = run([reserve('new', 900_000)], yesterday.state);
    expect(today.types).toEqual(['BudgetReserved']);
  });

  it('forgets settled reservations a week after their expiry, and never an open one', () => {
    const week = 7 * 24 * HOUR;
    const early = run([reserve('old', 100, T, T + HOUR), { type: 'Release', reservationId: 'old', now: T + 1 }, reserve('open', 100, T, T + 30 * week)], defined);
    const much = run([reserve('later', 100, T + HOUR + week + 1)], early.state);
    expect(Object.keys(active(much.state).reservations).sort()).toEqual(['later', 'open']);
    const soon = run([reserve('later', 100, T + HOUR + week - 1)], early.state);
    expect(Object.keys(active(soon.state).reservations).sort()).toEqual(['later', 'old', 'open']);
  });

  it('rebuilds the same state from its events', () => {
    const { events, state } = run([{ type: 'DefineBudget', definition, definedBy: 'ops', now: T }, spend('c1', 800_000), reserve('r1', 100_000), { type: 'Release', reservationId: 'r1', now: T + 5 }]);
    expect(fold(budgetDecider, events)).toEqual(state);
  });
});

describe('budget view (spend, percent, forecast)', () => {
  const midnight = Date.UTC(2026, 10, 27);
  it.each([
    // Noon of a daily period set at midnight: half elapsed, so the pace doubles the spend.
    ['half the period gone', midnight, T, 300_000, { spentMicros: 300_000, percentUsed: 30, forecastMicros: 600_000, forecastPercent: 60 }],
    // Set at 06:00: spend counts from then, so does the pace: 300 000 µ in 6 of 18 hours → 900 000 µ.
    ['set during the period', midnight + 6 * HOUR, T, 300_000, { spentMicros: 300_000, forecastMicros: 900_000, forecastPercent: 90 }],
    // 01:00 is under a tenth of the day: no pace yet, the forecast is the spend.
    ['the first hour', midnight, Date.UTC(2026, 10, 27, 1), 50_000, { spentMicros: 50_000, forecastMicros: 50_000 }],
  ])('%s', (_name, definedAt, now, spent, expected) => {
    const state = active(run([spend('c1', spent, now)], run([{ type: 'DefineBudget', definition, definedBy: 'ops', now: definedAt }]).state).state);
    expect(budgetView(state, now)).toMatchObject({ periodKey: '2026-11-27', periodStart: '2026-11-27T00:00:00.000Z', periodEnd: '2026-11-28T00:00:00.000Z', ...expected });
  });

  it('shows a new period as empty before its first cost', () => {
    const yesterday = active(run([spend('c1', 900_000, T - 24 * HOUR)], run([{ type: 'DefineBudget', definition, definedBy: 'ops', now: T - 24 * HOUR }]).state).state);
    expect(budgetView(yesterday, T)).toMatchObject({ periodKey: '2026-11-27', spentMicros: 0, availableMicros: 1_000_000, crossed: [] });
  });
});
