import { DEFAULT_ADMISSION_POLICY, type AdmissionPolicy } from './admission-policy';
import { planAdmissions, type QueueEntry } from './admission-plan';
import { budgetHoldChange } from './budget-hold';
import { capacityDecider } from './capacity';
import { customerCircuitDecider, type CircuitCommand, type CircuitEvent, type CircuitState } from './customer-circuit';
import { basePriority, effectivePriority } from './priority';

const T0 = 1_700_000_000_000;
const DAY = 86_400_000;
const MINUTE = 60_000;
const policy: AdmissionPolicy = { ...DEFAULT_ADMISSION_POLICY, capacity: 2, perCustomerLimit: 2, agingPointsPerMinute: 2 };

const waiting = (executionId: string, basePriority: number, queuedAt = T0, customerId = `c-${executionId}`): QueueEntry => ({
  executionId,
  customerId,
  basePriority,
  queuedAt,
  admittedAt: null,
  slaViolated: false,
});
const running = (executionId: string, customerId: string): QueueEntry => ({ ...waiting(executionId, 0, T0 - MINUTE, customerId), admittedAt: T0 - 1_000 });
const admittedIds = (entries: QueueEntry[], now = T0, circuits: Record<string, CircuitState> = {}, p = policy) =>
  planAdmissions({ capacity: p.capacity, entries, circuits }, p, now).admit.map((a) => a.executionId);

describe('priority (the seeds formula)', () => {
  it('adds contract value / 10 000 capped at 50, deadline urgency max(0, 30 - days), and 20 for premium', () => {
    expect(basePriority({ contractValue: 120_000, deadlineAt: null, tier: 'standard' }, T0)).toBe(12);
    expect(basePriority({ contractValue: 9_000_000, deadlineAt: null, tier: null }, T0)).toBe(50);
    expect(basePriority({ contractValue: null, deadlineAt: T0 + 10 * DAY, tier: null }, T0)).toBe(20);
    expect(basePriority({ contractValue: null, deadlineAt: T0 + 45 * DAY, tier: null }, T0)).toBe(0);
    expect(basePriority({ contractValue: null, deadlineAt: T0 - DAY, tier: null }, T0)).toBe(30);
    expect(basePriority({ contractValue: 500_000, deadlineAt: T0, tier: 'premium' }, T0)).toBe(100);
  });

  it('ages: each minute of waiting adds the configured points', () => {
    expect(effectivePriority(10, T0, T0 + 5 * MINUTE, 2)).toBe(20);
    expect(effectivePriority(10, T0, T0 - MINUTE, 2)).toBe(10);
  });
});

describe('admission plan', () => {
  it('fills only the free slots, highest priority first, ties to the longest waiting', () => {
    const entries = [waiting('low', 5), waiting('premium', 40), waiting('early-mid', 20, T0 - 1), waiting('mid', 20)];
    expect(admittedIds(entries)).toEqual(['premium', 'early-mid']);
    expect(admittedIds([running('r', 'x'), ...entries])).toEqual(['premium']);
    expect(admittedIds([running('r1', 'x'), running('r2', 'y'), ...entries])).toEqual([]);
  });

  it('lets an old low-priority execution overtake newer high-priority ones through aging', () => {
    const old = waiting('old-low', 0, T0 - 30 * MINUTE); // 60 points of aging
    const fresh = [waiting('fresh-a', 50, T0), waiting('fresh-b', 45, T0)];
    expect(admittedIds([old, ...fresh])).toEqual(['old-low', 'fresh-a']);
    expect(admittedIds([old, ...fresh], T0, {}, { ...policy, agingPointsPerMinute: 0 })).toEqual(['fresh-a', 'fresh-b']);
  });

  it('never starves: whatever base priorities arrive later, a waiting execution eventually ranks first', () => {
    const starving = waiting('starving', 0, T0);
    for (let minutes = 0; minutes <= 200; minutes += 10) {
      const now = T0 + minutes * MINUTE;
      const newcomers = [waiting(`new-${minutes}`, 100, now)];
      const first = planAdmissions({ capacity: 1, entries: [starving, ...newcomers], circuits: {} }, policy, now).admit[0].executionId;
      expect(first).toBe(minutes >= 50 ? 'starving' : `new-${minutes}`); // 100 points at 2 per minute
    }
  });

  it('holds a customer at its cap without blocking the others behind it', () => {
    const p = { ...policy, capacity: 10, perCustomerLimit: 1, customerLimits: { big: 2 } };
    const entries = [running('r', 'acme'), waiting('acme-2', 90, T0, 'acme'), waiting('globex-1', 10, T0, 'globex'), waiting('big-1', 5, T0, 'big'), waiting('big-2', 5, T0 + 1, 'big')];
    expect(admittedIds(entries, T0, {}, p)).toEqual(['globex-1', 'big-1', 'big-2']);
  });

  it('holds the executions of a customer whose circuit is open, then lets exactly one probe through after the cool-off', () => {
    const entries = [waiting('a1', 50, T0, 'acme'), waiting('a2', 40, T0, 'acme'), waiting('g1', 10, T0, 'globex')];
    const open: Record<string, CircuitState> = { acme: { status: 'open', consecutiveFailures: 5, openUntil: T0 + MINUTE } };
    expect(admittedIds(entries, T0, open, { ...policy, capacity: 5 })).toEqual(['g1']);
    const afterCoolOff = planAdmissions({ capacity: 5, entries, circuits: open }, policy, T0 + MINUTE).admit;
    expect(afterCoolOff.map((a) => [a.executionId, a.probe])).toEqual([['a1', true], ['g1', false]]);
    const halfOpen: Record<string, CircuitState> = { acme: { status: 'half_open', consecutiveFailures: 5, probeExecutionId: 'a1' } };
    expect(admittedIds(entries.slice(1), T0 + MINUTE, halfOpen, { ...policy, capacity: 5 })).toEqual(['g1']);
  });

  it('holds, never rejects, a customer whose exhausted budget holds its executions, until the hold ends', () => {
    const entries = [waiting('a1', 90, T0, 'acme'), waiting('g1', 10, T0, 'globex')];
    const held = (now: number) => planAdmissions({ capacity: 5, entries, circuits: {}, budgetHolds: { acme: T0 + DAY } }, policy, now);
    expect(held(T0).admit.map((a) => a.executionId)).toEqual(['g1']);
    expect(held(T0).reject).toEqual([]);
    expect(held(T0 + DAY).admit.map((a) => a.executionId)).toEqual(['a1', 'g1']);
  });

  it('rejects instead of holding when configured so', () => {
    const p: AdmissionPolicy = { ...policy, circuitBreaker: { ...policy.circuitBreaker, whileOpen: 'reject' } };
    const plan = planAdmissions({ capacity: 5, entries: [waiting('a1', 50, T0, 'acme')], circuits: { acme: { status: 'open', consecutiveFailures: 5, openUntil: T0 + MINUTE } } }, p, T0);
    expect(plan.admit).toEqual([]);
    expect(plan.reject).toEqual([{ executionId: 'a1', reason: expect.stringMatching(/circuit breaker of customer acme is open/) }]);
  });

  it('reports each execution that waited past the queue SLA once', () => {
    const entries = [waiting('late', 0, T0 - 6 * MINUTE), { ...waiting('reported', 0, T0 - 9 * MINUTE), slaViolated: true }, waiting('fine', 0, T0 - MINUTE)];
    const plan = planAdmissions({ capacity: 0, entries, circuits: {} }, policy, T0);
    expect(plan.slaViolations).toEqual([{ executionId: 'late', waitedMs: 6 * MINUTE }]);
  });
});

describe('customer circuit breaker', () => {
  const breaker = { failureThreshold: 5, coolOffMs: 60_000, whileOpen: 'hold' as const };
  const outcome = (executionId: string, verdict: 'succeeded' | 'failed' | 'void', now = T0): CircuitCommand => ({ type: 'RecordExecutionOutcome', customerId: 'acme', executionId, verdict, policy: breaker, now });
  const run = (commands: CircuitCommand[]) => {
    let state: CircuitState = customerCircuitDecider.initialState;
    const all: CircuitEvent[] = [];
    for (const command of commands) {
      const events = customerCircuitDecider.decide(command, state);
      for (const event of events) state = customerCircuitDecider.evolve(state, event);
      all.push(...events);
    }
    return { state, events: all, kinds: all.map((e) => e.type.split('.').pop()) };
  };
  const fiveFailures = [1, 2, 3, 4, 5].map((i) => outcome(`f${i}`, 'failed'));

  it('opens after 5 consecutive failures, with an alert; a success in between resets the count', () => {
    expect(run([...fiveFailures.slice(0, 4), outcome('ok', 'succeeded'), ...fiveFailures.slice(0, 4)]).state).toEqual({ status: 'closed', consecutiveFailures: 4 });
    const opened = run(fiveFailures);
    expect(opened.state).toEqual({ status: 'open', consecutiveFailures: 5, openUntil: T0 + 60_000 });
    expect(opened.kinds.slice(-2)).toEqual(['CustomerCircuitOpened', 'AlertRaised']);
    expect(opened.events.at(-1)!.data).toMatchObject({ severity: 'critical', kind: 'circuit_opened', customerId: 'acme' });
  });

  it('goes half-open only after the cool-off, for one probe', () => {
    const probeTooEarly: CircuitCommand = { type: 'AdmitProbe', customerId: 'acme', executionId: 'p', now: T0 + 59_999 };
    expect(run([...fiveFailures, probeTooEarly]).state.status).toBe('open');
    const halfOpen = run([...fiveFailures, { ...probeTooEarly, now: T0 + 60_000 }]);
    expect(halfOpen.state).toEqual({ status: 'half_open', consecutiveFailures: 5, probeExecutionId: 'p' });
    expect(run([...fiveFailures, { ...probeTooEarly, now: T0 + 60_000 }, { ...probeTooEarly, executionId: 'other', now: T0 + 60_001 }]).state).toMatchObject({ probeExecutionId: 'p' });
  });

  it('closes when the probe succeeds and re-opens for another cool-off when it fails', () => {
    const halfOpen = [...fiveFailures, { type: 'AdmitProbe', customerId: 'acme', executionId: 'p', now: T0 + 60_000 } as CircuitCommand];
    const closed = run([...halfOpen, outcome('p', 'succeeded', T0 + 61_000)]);
    expect(closed.state).toEqual({ status: 'closed', consecutiveFailures: 0 });
    expect(closed.kinds.slice(-2)).toEqual(['CustomerCircuitClosed', 'AlertRaised']);
    const reopened = run([...halfOpen, outcome('p', 'failed', T0 + 61_000)]);
    expect(reopened.state).toEqual({ status: 'open', consecutiveFailures: 6, openUntil: T0 + 121_000 });
  });

  it('does not let executions admitted before the circuit opened close or re-open it', () => {
    const halfOpen = [...fiveFailures, { type: 'AdmitProbe', customerId: 'acme', executionId: 'p', now: T0 + 60_000 } as CircuitCommand];
    expect(run([...halfOpen, outcome('straggler', 'succeeded')]).state.status).toBe('half_open');
    expect(run([...fiveFailures, outcome('straggler', 'failed')]).state.status).toBe('open');
  });

  it('re-opens with the cool-off already over when the probe is cancelled, so the next execution probes', () => {
    const halfOpen = [...fiveFailures, { type: 'AdmitProbe', customerId: 'acme', executionId: 'p', now: T0 + 60_000 } as CircuitCommand];
    expect(run([...halfOpen, outcome('p', 'void', T0 + 61_000)]).state).toEqual({ status: 'open', consecutiveFailures: 5, openUntil: T0 + 61_000 });
    expect(run([outcome('x', 'void')]).events).toEqual([]);
  });
});

describe('global capacity', () => {
  it('answers every valid change with the previous value (the configured default at first) and ignores invalid ones', () => {
    const change = (capacity: number) => ({ type: 'ChangeCapacity' as const, requestId: `r-${capacity}`, capacity, reason: 'test', defaultCapacity: 5, now: T0 });
    const [first] = capacityDecider.decide(change(8), capacityDecider.initialState);
    expect(first.data).toMatchObject({ previousCapacity: 5, capacity: 8 });
    const state = capacityDecider.evolve(capacityDecider.initialState, first);
    expect(capacityDecider.decide(change(3), state)[0].data).toMatchObject({ previousCapacity: 8, capacity: 3 });
    expect(capacityDecider.decide(change(0), state)).toEqual([]);
    expect(capacityDecider.decide(change(2.5), state)).toEqual([]);
  });
});

describe('budget holds (from the optimizer\'s budget events)', () => {
  const crossed = (over: Record<string, unknown>) =>
    budgetHoldChange({
      type: 'flotilla.budget.BudgetThresholdCrossed',
      data: { budgetId: 'customer:acme', threshold: 100, periodKey: '2026-11', periodEnd: T0 + DAY, spentMicros: 1_000, amountMicros: 1_000, atExhaustion: 'hold_executions', crossedAt: T0, ...over },
    });
  const defined = (over: Record<string, unknown>) =>
    budgetHoldChange({
      type: 'flotilla.budget.BudgetDefined',
      data: { budgetId: 'customer:acme', period: 'monthly', amountMicros: 1_000, thresholds: [75, 90, 100], atExhaustion: 'hold_executions', spentMicros: 0, periodEnd: T0 + DAY, definedBy: 'ops', definedAt: T0, ...over },
    });

  it.each([
    ['100 % of a customer budget that holds', {}, { customerId: 'acme', holdUntil: T0 + DAY }],
    ['90 %', { threshold: 90 }, null],
    ['a budget that only alerts', { atExhaustion: 'alert' }, null],
    ['a pool budget', { budgetId: 'pool:code_gen' }, null],
  ])('a crossing of %s', (_name, over, expected) => {
    const change = crossed(over);
    expect(change === null ? null : { customerId: change.customerId, holdUntil: change.holdUntil }).toEqual(expected);
  });

  it.each([
    ['with room: lifts the hold', { spentMicros: 400 }, null],
    ['still exhausted under the new amount: holds to the period end', { spentMicros: 1_000 }, T0 + DAY],
    ['to alert only: lifts the hold', { spentMicros: 5_000, atExhaustion: 'alert' }, null],
  ])('a budget set again %s', (_name, over, holdUntil) => {
    expect(defined(over)).toMatchObject({ customerId: 'acme', holdUntil });
  });
});
