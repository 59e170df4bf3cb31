import { isValidationError } from '@flotilla/domain';
import { decidePoolSagas, evolvePoolSagas, initialPoolSagasState, sagaEnding, type PoolSagasCommand, type PoolSagasEvent, type PoolSagasState, type ScaleDecision } from './pool-sagas';
import type { ScaleSagaStart } from './scale-saga.decider';
import type { ScaleSagaEvent } from './scale-saga-messages';

const T0 = Date.UTC(2026, 10, 27, 12);
const S = 1_000;

/** A decision for pool code_gen, made from 2 replicas observed at T0. */
const decision = (decisionId: string, targetReplicas: number, overrides: Partial<ScaleDecision> = {}): ScaleDecision => ({
  decisionId,
  agentType: 'code_gen',
  targetReplicas,
  observedReplicas: 2,
  observedAt: T0,
  reason: `target ${targetReplicas}`,
  decidedAt: T0,
  ...overrides,
});
const decide = (d: ScaleDecision, sagaId: string, now = d.decidedAt): PoolSagasCommand => ({ type: 'DecideScale', decision: d, sagaId, now });
const end = (sagaId: string, replicas: number | null, nextSagaId: string, now = T0 + 60 * S, outcome: 'completed' | 'denied' | 'compensated' = 'completed'): PoolSagasCommand => ({ type: 'EndSaga', sagaId, outcome, replicas, nextSagaId, now });

/** Applies the commands in order; each applied again changes nothing (a redelivered decision or end). */
function run(commands: PoolSagasCommand[], from: PoolSagasState = initialPoolSagasState('code_gen')) {
  let state = from;
  const events: PoolSagasEvent[] = [];
  const starts: ScaleSagaStart[] = [];
  for (const command of commands) {
    const decided = decidePoolSagas(command, state);
    state = decided.events.reduce(evolvePoolSagas, state);
    expect(decidePoolSagas(command, state)).toEqual({ events: [], start: null });
    events.push(...decided.events);
    if (decided.start) starts.push(decided.start);
  }
  return { state, events, starts, types: events.map((e) => e.type.replace('flotilla.scaling.', '')) };
}
const given = (...commands: PoolSagasCommand[]) => {
  const history = run(commands);
  return { state: history.state, when: (...more: PoolSagasCommand[]) => run(more, history.state) };
};

describe('pool sagas: one scale saga per pool at a time', () => {
  it('starts a saga for a decision when none runs, from the replicas the decision observed', () => {
    const { types, starts, state } = given().when(decide(decision('d1', 5), 's1'));
    expect(types).toEqual(['ScaleSagaRequested']);
    expect(starts).toEqual([{ sagaId: 's1', agentType: 'code_gen', decisionId: 'd1', fromReplicas: 2, toReplicas: 5, reason: 'target 5' }]);
    expect(state.running).toEqual({ sagaId: 's1', decisionId: 'd1', fromReplicas: 2, toReplicas: 5, requestedAt: T0 });
  });

  it('starts nothing for a decision equal to the current replicas', () => {
    const { events, starts, state } = given().when(decide(decision('d1', 2), 's1'));
    expect(events).toEqual([{ type: 'flotilla.scaling.ScaleDecisionSkipped', data: { agentType: 'code_gen', decisionId: 'd1', targetReplicas: 2, decidedAt: T0, replicas: 2, skippedAt: T0 } }]);
    expect(starts).toEqual([]);
    expect(state.running).toBeNull();
  });

  it('coalesces the decisions that arrive while a saga runs, keeps the latest, and starts it when the saga ends', () => {
    const result = given(decide(decision('d1', 5), 's1')).when(
      decide(decision('d2', 7, { decidedAt: T0 + 10 * S }), 'unused-2'),
      decide(decision('d3', 4, { decidedAt: T0 + 20 * S }), 'unused-3'),
      end('s1', 5, 's2'),
    );
    expect(result.types).toEqual(['ScaleDecisionCoalesced', 'ScaleDecisionCoalesced', 'ScaleSagaEnded', 'ScaleSagaRequested']);
    expect(result.events.slice(0, 2).map((e) => e.type === 'flotilla.scaling.ScaleDecisionCoalesced' && [e.data.decisionId, e.data.runningSagaId, e.data.replacedDecisionId])).toEqual([
      ['d2', 's1', null],
      ['d3', 's1', 'd2'],
    ]);
    // From what the first saga left (5), not from what d3 observed before it ended (2).
    expect(result.starts).toEqual([{ sagaId: 's2', agentType: 'code_gen', decisionId: 'd3', fromReplicas: 5, toReplicas: 4, reason: 'target 4' }]);
    expect(result.state).toMatchObject({ running: { sagaId: 's2', fromReplicas: 5, toReplicas: 4 }, pending: null, replicas: { count: 5, at: T0 + 60 * S } });
  });

  it.each([
    // the first saga's outcome and the replicas it left, the decision waiting, what happens at its end
    ['completed at the pending target', 'completed', 5, 5, ['ScaleSagaEnded', 'ScaleDecisionSkipped'], null],
    ['compensated back to 2, the pending one still wants 5', 'compensated', 2, 5, ['ScaleSagaEnded', 'ScaleSagaRequested'], 2],
    ['denied, the pending one wants 4', 'denied', 2, 4, ['ScaleSagaEnded', 'ScaleSagaRequested'], 2],
    ['compensated leaving the pool unknown: from what the pending one observed (3)', 'compensated', null, 5, ['ScaleSagaEnded', 'ScaleSagaRequested'], 3],
  ] as const)('when the saga ends %s', (_name, outcome, left, pendingTarget, types, from) => {
    const pending = decision('d2', pendingTarget, { observedReplicas: 3, observedAt: T0 + 30 * S, decidedAt: T0 + 30 * S });
    const result = given(decide(decision('d1', 5), 's1'), decide(pending, 'unused')).when(end('s1', left, 's2', T0 + 60 * S, outcome));
    expect(result.types).toEqual(types);
    expect(result.starts.map((s) => s.fromReplicas)).toEqual(from === null ? [] : [from]);
    expect(result.state.pending).toBeNull();
  });

  it('ends without starting anything when nothing is pending', () => {
    const { types, state } = given(decide(decision('d1', 5), 's1')).when(end('s1', 5, 's2'));
    expect(types).toEqual(['ScaleSagaEnded']);
    expect(state).toMatchObject({ running: null, pending: null, replicas: { count: 5 } });
  });

  it('takes the later of what the last saga left and what a decision observed', () => {
    const ended = given(decide(decision('d1', 5), 's1'), end('s1', 5, 'unused', T0 + 60 * S));
    // Observed before the saga ended (its metrics lag): the pool has 5, so 5 is nothing to do.
    expect(ended.when(decide(decision('d2', 5, { observedReplicas: 2, observedAt: T0 + 50 * S, decidedAt: T0 + 70 * S }), 's2')).types).toEqual(['ScaleDecisionSkipped']);
    // Observed after: an operator or a restart moved the pool to 3 meanwhile.
    expect(ended.when(decide(decision('d2', 5, { observedReplicas: 3, observedAt: T0 + 80 * S, decidedAt: T0 + 80 * S }), 's2')).starts).toMatchObject([{ fromReplicas: 3, toReplicas: 5 }]);
  });

  it.each([
    ['the same decision again', decision('d1', 7)],
    ['a decision older than the last one', decision('d0', 7, { decidedAt: T0 - S })],
  ])('ignores %s', (_name, late) => {
    const { state } = given(decide(decision('d1', 5), 's1'));
    expect(decidePoolSagas(decide(late, 's9'), state)).toEqual({ events: [], start: null });
  });

  it('ignores the end of a saga that is not the running one', () => {
    const { state } = given(decide(decision('d1', 5), 's1'));
    expect(decidePoolSagas(end('s0', 3, 's2'), state)).toEqual({ events: [], start: null });
  });

  it('refuses a decision for another pool', () => {
    let error: unknown;
    try {
      decidePoolSagas(decide(decision('d1', 5, { agentType: 'review' }), 's1'), initialPoolSagasState('code_gen'));
    } catch (e) {
      error = e;
    }
    expect(isValidationError(error) && error.problems).toEqual([{ field: 'decision.agentType', problem: 'is review, for the sagas of pool code_gen' }]);
  });

  it('stores as JSON and rebuilds from its events', () => {
    const { state, events } = run([decide(decision('d1', 5), 's1'), decide(decision('d2', 7, { decidedAt: T0 + S }), 'x'), end('s1', 5, 's2')]);
    expect(JSON.parse(JSON.stringify(state))).toEqual(state);
    expect(events.reduce(evolvePoolSagas, initialPoolSagasState('code_gen'))).toEqual(state);
  });
});

describe('pool sagas: what a saga ending tells them', () => {
  const base = { sagaId: 's1', agentType: 'code_gen', decisionId: 'd1', direction: 'up', fromReplicas: 2, toReplicas: 5 } as const;
  it.each([
    [{ type: 'flotilla.scaling.ScaleSagaCompleted', data: { ...base, reservationId: 's1', committedMicros: 1, completedAt: T0 } }, { sagaId: 's1', outcome: 'completed', replicas: 5 }],
    [
      { type: 'flotilla.scaling.ScaleActionDenied', data: { ...base, budgetId: 'pool:code_gen', reservationId: 's1', amountMicros: 1, availableMicros: 0, reason: 'no', deniedAt: T0 } },
      { sagaId: 's1', outcome: 'denied', replicas: 2 },
    ],
    [
      { type: 'flotilla.scaling.ScaleSagaCompensated', data: { ...base, failedStep: 'ready', cause: 'timed_out', reason: 'slow', replicas: null, compensations: [], compensatedAt: T0 } },
      { sagaId: 's1', outcome: 'compensated', replicas: null },
    ],
    [{ type: 'flotilla.scaling.ScaleWorkerReady', data: { sagaId: 's1', agentType: 'code_gen', workerId: 'w1', readyReplicas: 3, readyAt: T0 } }, null],
  ] as [ScaleSagaEvent, ReturnType<typeof sagaEnding>][])('%#: %j', (event, ending) => {
    expect(sagaEnding(event)).toEqual(ending);
  });
});
