import { isValidationError } from '@flotilla/domain';
import { sagaIdOfReply, type ScaleSagaEvent, type ScaleSagaReply } from './scale-saga-messages';
import {
  activeTimer,
  DEFAULT_SCALE_SAGA_SETTINGS,
  IllegalScaleSagaTransitionError,
  reservationAmountMicros,
  SCALE_SAGA_TRANSITIONS,
  type ScaleSagaState,
  type ScaleSagaStatus,
} from './scale-saga';
import { scaleSagaDecider, type ScaleSagaDecision, type ScaleSagaInput } from './scale-saga.decider';

const T0 = Date.UTC(2026, 10, 27, 12);
const S = 1_000;
const TRACE = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const settings = DEFAULT_SCALE_SAGA_SETTINGS;
const saga = scaleSagaDecider(settings);
const NOTHING: ScaleSagaDecision = { events: [], commands: [], timers: { schedule: [], cancel: [] } };

// ---- inputs ----

type Start = Extract<ScaleSagaInput, { type: 'StartScaleSaga' }>;
/** An input, or one built from the state it meets (a timer firing when due). */
type Step = ScaleSagaInput | ((state: ScaleSagaState) => ScaleSagaInput);

/** Pool code_gen from 2 to 5 replicas at 1,000,000 µ per worker-hour over an hour: 3,000,000 µ to reserve. */
const start = (overrides: Partial<Start> = {}): Start => ({
  type: 'StartScaleSaga',
  sagaId: 's1',
  agentType: 'code_gen',
  decisionId: 'd1',
  fromReplicas: 2,
  toReplicas: 5,
  reason: 'backlog 120 for 4 min',
  workerHourPriceMicros: 1_000_000,
  policy: { horizonMs: 3_600_000, requireBudget: false },
  traceparent: TRACE,
  now: T0,
  ...overrides,
});
const down = (overrides: Partial<Start> = {}) => start({ fromReplicas: 5, toReplicas: 2, reason: 'idle for 10 min', ...overrides });
const reply = (r: ScaleSagaReply, now = T0 + S): ScaleSagaInput => ({ type: 'ReceiveReply', reply: r, now });

const budget = { budgetId: 'pool:code_gen', reservationId: 's1' };
const reserved = (reservationId = 's1') => reply({ type: 'flotilla.budget.BudgetReserved', data: { ...budget, reservationId, amountMicros: 3_000_000, expiresAt: T0 + 999 * S, periodKey: '2026-11-27', availableMicros: 7_000_000, reservedAt: T0 } });
const denied = (reason = '3000000 µ requested, 1000000 µ available in 2026-11-27', availableMicros = 1_000_000) =>
  reply({ type: 'flotilla.budget.BudgetReservationDenied', data: { ...budget, amountMicros: 3_000_000, reason, availableMicros, deniedAt: T0 } });
const committed = () => reply({ type: 'flotilla.budget.BudgetReservationCommitted', data: { ...budget, amountMicros: 3_000_000, periodKey: '2026-11-27', committedAt: T0 } });
const released = (reason = 'released') => reply({ type: 'flotilla.budget.BudgetReservationReleased', data: { ...budget, amountMicros: 3_000_000, reason, releasedAt: T0 } });

const pool = { agentType: 'code_gen' };
const changed = (purpose: 'scale' | 'rollback', replicas: number, rejected: string | null = null) =>
  reply({
    type: 'flotilla.pool.PoolReplicasChanged',
    data: { ...pool, requestId: `s1:${purpose}`, outcome: rejected ? 'rejected' : 'accepted', reason: rejected, previousReplicas: 2, replicas, readyReplicas: 2, slotsPerWorker: 2, provisioner: 'process', changedAt: T0 },
  });
const accepted = (replicas = 5) => changed('scale', replicas);
const workerReady = (workerId: string, readyReplicas: number, requestId: string | null = 's1:scale') =>
  reply({ type: 'flotilla.pool.PoolWorkerReady', data: { ...pool, workerId, requestId, timeToReadyMs: 900, readyReplicas, replicas: 5, readyAt: T0 } });
const workerFailed = (workerId: string, readyReplicas: number, phase = 'starting', requestId: string | null = 's1:scale') =>
  reply({ type: 'flotilla.pool.PoolWorkerFailed', data: { ...pool, workerId, requestId, phase, reason: 'exited with code 1', readyReplicas, replicas: 5, failedAt: T0 } });
const reached = (replicas = 5, requestId = 's1:scale') => reply({ type: 'flotilla.pool.PoolReplicasReached', data: { ...pool, requestId, replicas, reachedAt: T0 } });
const drained = (workerId: string) =>
  reply({ type: 'flotilla.pool.PoolWorkerDrained', data: { ...pool, workerId, requestId: 's1:scale', drainMs: 800, handedBack: 0, readyReplicas: 4, replicas: 2, drainedAt: T0 } });
/** The saga's current timer, firing when due (plus `lateMs`). */
const timeout =
  (lateMs = 0): Step =>
  (state) => {
    const timer = activeTimer(state);
    if (!timer) throw new Error(`no timer in ${state.status}`);
    return { type: 'FireTimer', timer, now: timer.dueAt + lateMs };
  };

// ---- given / when / then ----

interface Run {
  readonly state: ScaleSagaState;
  readonly states: ScaleSagaState[];
  readonly decisions: ScaleSagaDecision[];
  readonly events: ScaleSagaEvent[];
}

/**
 * Applies the steps in order. After each, the same input again decides nothing: that is what makes
 * a redelivered reply, a second firing of a timer or a repeated start harmless.
 */
function run(steps: readonly Step[], from: ScaleSagaState = saga.initialState): Run {
  let state = from;
  const states: ScaleSagaState[] = [];
  const decisions: ScaleSagaDecision[] = [];
  for (const step of steps) {
    const input = typeof step === 'function' ? step(state) : step;
    const decision = saga.decide(input, state);
    state = decision.events.reduce(saga.evolve, state);
    expect(saga.decide(input, state)).toEqual(NOTHING);
    states.push(state);
    decisions.push(decision);
  }
  return { state, states, decisions, events: decisions.flatMap((d) => [...d.events]) };
}

const given = (...steps: Step[]) => {
  const history = run(steps);
  return { state: history.state, when: (...more: Step[]) => run(more, history.state) };
};

const short = (type: string) => type.replace(/^flotilla\.(scaling|budget|pool|alert)\./, '');
const types = (r: Pick<Run, 'events'>) => r.events.map((e) => short(e.type));
const commandTypes = (r: Run) => r.decisions.flatMap((d) => d.commands.map((c) => short(c.type)));
const commandsOf = (r: Run) => r.decisions.flatMap((d) => [...d.commands]);
const alerts = (r: Run) => r.events.flatMap((e) => (e.type === 'flotilla.alert.AlertRaised' ? [e.data] : []));
type DataOf = { [E in ScaleSagaEvent as E['type']]: E['data'] };
/** The data of the events of one type, typed as that event's. */
function dataOf<T extends keyof DataOf>(r: Run, type: T): DataOf[T][] {
  return r.events.flatMap((e) => (e.type === type ? [e.data as DataOf[T]] : []));
}
function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (error) {
    return error;
  }
  throw new Error('expected it to throw');
}

// ---- scenarios (also replayed by the storage specs at the end) ----

const HAPPY_UP: Step[] = [start(), reserved(), accepted(), workerReady('w3', 3), workerReady('w4', 4), workerReady('w5', 5), reached(), committed()];
const HAPPY_DOWN: Step[] = [down(), changed('scale', 2), drained('w5'), drained('w4'), drained('w3'), reached(2)];
const EXPIRES_AT = T0 + (30 + 30 + 300 + 30 + 300) * S;
const SCENARIOS: Record<string, Step[]> = {
  'scale-up': HAPPY_UP,
  'scale-down': HAPPY_DOWN,
  denied: [start(), denied()],
  waived: [start(), denied('no budget is defined for pool:code_gen', 0), accepted(), reached()],
  'provisioning rejected': [start(), reserved(), changed('scale', 2, 'no'), released()],
  'partial ready, then a failure': [start(), reserved(), accepted(), workerReady('w3', 3), workerReady('w4', 4), workerFailed('w5', 4), changed('rollback', 2), released()],
  'commit timed out, rollback abandoned': [start(), reserved(), accepted(), reached(), timeout(), timeout(), timeout(), timeout(), released()],
  'drain timed out': [down(), changed('scale', 2), timeout()],
};

describe('scale saga: scale-up, reserve → provision → ready → commit', () => {
  it.each([
    // the steps of HAPPY_UP taken (from, how many): the events, the commands sent, the timer scheduled and cancelled, the status after
    ['start', 0, 1, ['ScaleSagaStarted'], ['BudgetReservationRequested'], 's1:reserve', null, 'Reserving'],
    ['reserved', 1, 1, ['ScaleBudgetReserved'], ['PoolReplicasRequested'], 's1:provision', 's1:reserve', 'Provisioning'],
    ['accepted by the pool', 2, 1, ['ScaleReplicasAccepted'], [], 's1:ready', 's1:provision', 'WaitingReady'],
    ['a worker ready', 3, 1, ['ScaleWorkerReady'], [], null, null, 'WaitingReady'],
    ['every worker ready', 4, 3, ['ScaleWorkerReady', 'ScaleWorkerReady', 'ScaleReplicasReached'], ['BudgetReservationCommitRequested'], 's1:commit', 's1:ready', 'Committing'],
    ['committed', 7, 1, ['ScaleSagaCompleted'], [], null, 's1:commit', 'Completed'],
  ] as const)('%s', (_name, from, count, events, commands, scheduled, cancelled, status) => {
    const result = given(...HAPPY_UP.slice(0, from)).when(...HAPPY_UP.slice(from, from + count));
    expect(types(result)).toEqual(events);
    expect(commandTypes(result)).toEqual(commands);
    const timers = result.decisions.map((d) => d.timers);
    expect(timers.flatMap((t) => t.schedule.map((s) => s.timerId))).toEqual(scheduled ? [scheduled] : []);
    expect(timers.flatMap((t) => t.cancel)).toEqual(cancelled ? [cancelled] : []);
    expect(result.state.status).toBe(status);
  });

  it('reserves added replicas × worker-hour price × horizon, until every step could have timed out and the grace', () => {
    const started = given().when(start());
    expect(commandsOf(started)).toEqual([
      { type: 'flotilla.budget.BudgetReservationRequested', data: { reservationId: 's1', budgetId: 'pool:code_gen', amountMicros: 3_000_000, expiresAt: EXPIRES_AT, requestedBy: 'scaler', requestedAt: T0 } },
    ]);
    expect(dataOf(started, 'flotilla.scaling.ScaleSagaStarted')[0]).toMatchObject({ direction: 'up', amountMicros: 3_000_000, reservationId: 's1', traceparent: TRACE, deadlineAt: T0 + 30 * S });
    expect(started.decisions[0].timers.schedule).toEqual([{ timerId: 's1:reserve', sagaId: 's1', kind: 'reserve', step: null, attempt: 1, dueAt: T0 + 30 * S }]);
  });

  it.each([
    [3, 1_000_000, 3_600_000, 3_000_000],
    [1, 1, 90 * 60_000, 2], // 1.5 µ rounds up
    [2, 250_000, 30 * 60_000, 250_000],
    [10, 1_234_567, 15 * 60_000, 3_086_418], // 3,086,417.5 rounds up
    [4, 0, 3_600_000, 0],
  ])('%d added replica(s) at %d µ/h over %d ms reserve %d µ', (addedReplicas, workerHourPriceMicros, horizonMs, amount) => {
    expect(reservationAmountMicros({ addedReplicas, workerHourPriceMicros, horizonMs })).toBe(amount);
  });

  it('asks the pool for the target replicas with the saga id as request id, and commits what was reserved', () => {
    const { decisions, events } = run(HAPPY_UP);
    expect(decisions[1].commands).toEqual([
      { type: 'flotilla.pool.PoolReplicasRequested', data: { requestId: 's1:scale', agentType: 'code_gen', replicas: 5, reason: 'backlog 120 for 4 min (scale saga s1)', requestedBy: 'scaler', requestedAt: T0 + S } },
    ]);
    expect(decisions[6].commands).toEqual([{ type: 'flotilla.budget.BudgetReservationCommitRequested', data: { reservationId: 's1', budgetId: 'pool:code_gen', requestedAt: T0 + S } }]);
    expect(events.at(-1)).toEqual({
      type: 'flotilla.scaling.ScaleSagaCompleted',
      data: { sagaId: 's1', agentType: 'code_gen', decisionId: 'd1', direction: 'up', fromReplicas: 2, toReplicas: 5, reservationId: 's1', committedMicros: 3_000_000, completedAt: T0 + S },
    });
  });

  it('reserves nothing when the workers cost nothing: provisions at once and completes without a commit', () => {
    const result = given().when(start({ workerHourPriceMicros: 0 }), accepted(), reached());
    expect(types(result)).toEqual(['ScaleSagaStarted', 'ScaleReplicasAccepted', 'ScaleSagaCompleted']);
    expect(commandTypes(result)).toEqual(['PoolReplicasRequested']);
    expect(result.decisions[0].timers.schedule.map((t) => t.timerId)).toEqual(['s1:provision']);
  });
});

describe('scale saga: the budget says no', () => {
  it('provisions nothing when the budget is short: ScaleActionDenied and an alert', () => {
    const result = given(start()).when(denied());
    expect(types(result)).toEqual(['ScaleActionDenied', 'AlertRaised']);
    expect(commandTypes(result)).toEqual([]);
    expect(result.decisions[0].timers).toEqual({ schedule: [], cancel: ['s1:reserve'] });
    expect(result.events[0].data).toEqual({
      sagaId: 's1', agentType: 'code_gen', decisionId: 'd1', fromReplicas: 2, toReplicas: 5, budgetId: 'pool:code_gen', reservationId: 's1',
      amountMicros: 3_000_000, availableMicros: 1_000_000, reason: '3000000 µ requested, 1000000 µ available in 2026-11-27', deniedAt: T0 + S,
    });
    expect(alerts(result)).toEqual([
      {
        alertId: 'scale_denied:s1', severity: 'warning', kind: 'scale_denied', source: 'scaler', customerId: null, executionId: null, raisedAt: T0 + S,
        message: 'scale-up of pool code_gen from 2 to 5 replicas (saga s1) denied by budget pool:code_gen: 3000000 µ requested, 1000000 µ available in 2026-11-27 (3000000 µ asked, 1000000 µ available); nothing was provisioned',
      },
    ]);
    expect(result.state.status).toBe('Denied');
  });

  it('scales a pool without a budget without a reservation when the policy does not require one', () => {
    const result = given(start()).when(denied('no budget is defined for pool:code_gen', 0), accepted(), reached());
    expect(types(result)).toEqual(['ScaleBudgetWaived', 'ScaleReplicasAccepted', 'ScaleSagaCompleted']);
    expect(commandTypes(result)).toEqual(['PoolReplicasRequested']);
    expect(dataOf(result, 'flotilla.scaling.ScaleSagaCompleted')[0]).toMatchObject({ reservationId: null, committedMicros: 0 });
  });

  it('then has only the replicas to roll back when it fails', () => {
    const result = given(start(), denied('no budget is defined for pool:code_gen', 0), accepted()).when(timeout(), changed('rollback', 2));
    expect(dataOf(result, 'flotilla.scaling.ScaleSagaCompensationStarted')[0].compensations).toEqual(['roll_back_replicas']);
    expect(commandTypes(result)).toEqual(['PoolReplicasRequested']);
    expect(result.state).toMatchObject({ status: 'Compensated', replicas: 2 });
  });

  it('denies a pool without a budget when the policy requires one', () => {
    const result = given(start({ policy: { horizonMs: 3_600_000, requireBudget: true } })).when(denied('no budget is defined for pool:code_gen', 0));
    expect(types(result)).toEqual(['ScaleActionDenied', 'AlertRaised']);
    expect(result.state).toMatchObject({ status: 'Denied', denialReason: 'no budget is defined for pool:code_gen' });
  });
});

describe('scale saga: failures compensate in reverse, one step at a time', () => {
  it('releases the reservation when the pool rejects the replicas (nothing to roll back)', () => {
    const result = given(start(), reserved()).when(changed('scale', 2, 'replicas must be a whole number in 0..4, got 5'), released());
    expect(types(result)).toEqual(['ScaleSagaCompensationStarted', 'AlertRaised', 'ScaleCompensationStepCompleted', 'ScaleSagaCompensated']);
    expect(commandsOf(result)).toEqual([
      {
        type: 'flotilla.budget.BudgetReservationReleaseRequested',
        data: { reservationId: 's1', budgetId: 'pool:code_gen', reason: 'scale saga s1 failed at provision: the pool rejected 5 replicas: replicas must be a whole number in 0..4, got 5', requestedAt: T0 + S },
      },
    ]);
    expect(result.events.at(-1)?.data).toEqual({
      sagaId: 's1', agentType: 'code_gen', decisionId: 'd1', direction: 'up', failedStep: 'provision', cause: 'rejected', reason: 'the pool rejected 5 replicas: replicas must be a whole number in 0..4, got 5',
      fromReplicas: 2, toReplicas: 5, replicas: 2, compensations: [{ step: 'release_budget', outcome: 'done', detail: '3000000 µ released' }], compensatedAt: T0 + S,
    });
    expect(alerts(result).map((a) => [a.alertId, a.severity, a.kind])).toEqual([['scale_compensating:s1', 'warning', 'scale_compensating']]);
  });

  it('rolls the replicas back, then releases, when a worker cannot start', () => {
    const result = given(start(), reserved(), accepted()).when(workerFailed('w3', 2), changed('rollback', 2), released());
    expect(types(result)).toEqual(['ScaleSagaCompensationStarted', 'AlertRaised', 'ScaleCompensationStepCompleted', 'ScaleCompensationStepCompleted', 'ScaleSagaCompensated']);
    expect(commandsOf(result).map((c) => [short(c.type), 'replicas' in c.data ? c.data.replicas : c.data.reservationId])).toEqual([
      ['PoolReplicasRequested', 2],
      ['BudgetReservationReleaseRequested', 's1'],
    ]);
    expect(commandsOf(result)[0].data).toMatchObject({ requestId: 's1:rollback', reason: 'roll back scale saga s1: worker w3 could not start: exited with code 1 (2 of 5 replicas ready)' });
    expect(result.state).toMatchObject({
      status: 'Compensated',
      replicas: 2,
      done: [
        { step: 'roll_back_replicas', outcome: 'done', detail: 'desired replicas back to 2' },
        { step: 'release_budget', outcome: 'done', detail: '3000000 µ released' },
      ],
    });
    expect(alerts(result)[0].message).toBe(
      'scale-up of pool code_gen from 2 to 5 replicas (saga s1) failed at ready (worker failed): worker w3 could not start: exited with code 1 (2 of 5 replicas ready); undoing: roll back replicas, then release budget',
    );
  });

  it('rolls everything back when 2 of 3 new workers are ready and the third fails', () => {
    const result = given(start(), reserved(), accepted(), workerReady('w3', 3), workerReady('w4', 4)).when(workerFailed('w5', 4), changed('rollback', 2), released());
    expect(dataOf(result, 'flotilla.scaling.ScaleSagaCompensationStarted')[0]).toMatchObject({
      failedStep: 'ready', cause: 'worker_failed', reason: 'worker w5 could not start: exited with code 1 (4 of 5 replicas ready)', compensations: ['roll_back_replicas', 'release_budget'],
    });
    expect(result.state).toMatchObject({ status: 'Compensated', replicas: 2 });
    expect(result.states[0]).toMatchObject({ status: 'Compensating', remaining: ['roll_back_replicas', 'release_budget'] });
  });

  it.each([
    // the step that times out, the steps before it, the compensations in the order they run, the reason
    ['reserve', [start()], ['release_budget'], 'the optimizer did not answer the reservation within 30 s'],
    ['provision', [start(), reserved()], ['roll_back_replicas', 'release_budget'], 'the agent pool did not accept 5 replicas within 30 s'],
    ['ready', [start(), reserved(), accepted(), workerReady('w3', 3)], ['roll_back_replicas', 'release_budget'], '3 of 5 replicas ready after 300 s'],
    ['commit', [start(), reserved(), accepted(), reached()], ['roll_back_replicas', 'release_budget'], 'the optimizer did not answer the commit within 30 s'],
  ] as const)('compensates in reverse when %s times out', (step, before, compensations, reason) => {
    const answers = compensations.map((c) => (c === 'roll_back_replicas' ? changed('rollback', 2) : released()));
    const result = given(...before).when(timeout(), ...answers);
    expect(dataOf(result, 'flotilla.scaling.ScaleSagaCompensationStarted')).toEqual([
      { sagaId: 's1', agentType: 'code_gen', decisionId: 'd1', failedStep: step, cause: 'timed_out', reason, compensations, deadlineAt: expect.any(Number), startedAt: expect.any(Number) },
    ]);
    expect(commandTypes(result)).toEqual(compensations.map((c) => (c === 'roll_back_replicas' ? 'PoolReplicasRequested' : 'BudgetReservationReleaseRequested')));
    expect(dataOf(result, 'flotilla.scaling.ScaleCompensationStepCompleted').map((d) => [d.step, d.outcome])).toEqual(compensations.map((c) => [c, 'done']));
    expect(result.state).toMatchObject({ status: 'Compensated', failure: { step, cause: 'timed_out', reason }, replicas: 2 });
    // Each compensation has its own timer; none is left once compensated.
    expect(result.decisions.at(-1)?.timers).toEqual({ schedule: [], cancel: [`s1:compensation:release_budget`] });
  });

  it('compensates without the release when the reservation expired before the commit', () => {
    const result = given(start(), reserved(), accepted()).when(released('expired'), changed('rollback', 2));
    expect(dataOf(result, 'flotilla.scaling.ScaleSagaCompensationStarted')[0]).toMatchObject({ failedStep: 'ready', cause: 'reservation_lost', reason: 'the reservation expired before it was committed', compensations: ['roll_back_replicas'] });
    expect(result.state).toMatchObject({ status: 'Compensated', replicas: 2 });
  });
});

describe('scale saga: compensations that do not go to plan', () => {
  const rollingBack = [start(), reserved(), accepted(), workerFailed('w3', 2)];

  it('sends a compensation again when it gets no answer, then abandons it with a critical alert and goes on', () => {
    const result = given(...rollingBack).when(timeout(), timeout(), timeout(), released());
    expect(types(result)).toEqual(['ScaleCompensationStepRetried', 'ScaleCompensationStepRetried', 'ScaleCompensationStepCompleted', 'AlertRaised', 'ScaleCompensationStepCompleted', 'ScaleSagaCompensated']);
    expect(commandTypes(result)).toEqual(['PoolReplicasRequested', 'PoolReplicasRequested', 'BudgetReservationReleaseRequested']);
    const [first, again] = commandsOf(result);
    expect({ ...again.data, requestedAt: 0 }).toEqual({ ...first.data, requestedAt: 0 }); // the same request id: the pool answers it once
    expect(result.decisions.map((d) => d.timers.schedule.map((t) => [t.timerId, t.attempt]))).toEqual([
      [['s1:compensation:roll_back_replicas', 2]],
      [['s1:compensation:roll_back_replicas', 3]],
      [['s1:compensation:release_budget', 1]],
      [],
    ]);
    expect(alerts(result)).toMatchObject([{ alertId: 'scale_compensation_abandoned:s1:roll_back_replicas', severity: 'critical', kind: 'scale_compensation_abandoned' }]);
    // The pool may still run the added replicas: what it runs is unknown.
    expect(result.state).toMatchObject({ status: 'Compensated', replicas: null, done: [{ step: 'roll_back_replicas', outcome: 'abandoned', detail: 'no answer after 3 attempt(s)' }, { step: 'release_budget', outcome: 'done' }] });
  });

  it('abandons a release that never answers, saying when the reservation expires by itself', () => {
    const result = given(start()).when(timeout(), timeout(), timeout(), timeout());
    expect(result.state).toMatchObject({
      status: 'Compensated',
      replicas: 2,
      done: [{ step: 'release_budget', outcome: 'abandoned', detail: `no answer after 3 attempt(s); it expires by itself at ${new Date(EXPIRES_AT).toISOString()}` }],
    });
  });

  it.each([
    ['a denial that arrives after the reserve timed out', [start(), timeout()], denied(), 'not_needed', 'the reservation was denied: 3000000 µ requested, 1000000 µ available in 2026-11-27'],
    ['a commit that arrives after the commit timed out', [start(), reserved(), accepted(), reached(), timeout(), changed('rollback', 2)], committed(), 'abandoned', 'the reservation was committed before its release: the money is spent'],
    ['an expiry', [start(), reserved(), timeout(), changed('rollback', 2)], released('expired'), 'done', 'the reservation had expired'],
  ])('ends the release on %s', (_name, before, answer, outcome, detail) => {
    const result = given(...before).when(answer);
    expect(dataOf(result, 'flotilla.scaling.ScaleCompensationStepCompleted')).toMatchObject([{ step: 'release_budget', outcome, detail }]);
    expect(result.state.status).toBe('Compensated');
  });

  it('abandons a rollback the pool refuses', () => {
    const result = given(...rollingBack).when(changed('rollback', 5, 'replicas must be a whole number in 4..8, got 2'), released());
    expect(alerts(result)).toMatchObject([{ severity: 'critical', message: 'scale-up of pool code_gen from 2 to 5 replicas (saga s1): could not roll back replicas: the pool refused the rollback: replicas must be a whole number in 4..8, got 2' }]);
    expect(result.state).toMatchObject({ status: 'Compensated', replicas: null });
  });
});

describe('scale saga: scale-down, drain → (nothing to release) → completed', () => {
  it('lowers the desired replicas, waits for the drain under one deadline, and sends nothing to the optimizer', () => {
    const result = run(HAPPY_DOWN);
    expect(types(result)).toEqual(['ScaleSagaStarted', 'ScaleReplicasAccepted', 'ScaleSagaCompleted']);
    expect(commandsOf(result)).toEqual([
      { type: 'flotilla.pool.PoolReplicasRequested', data: { requestId: 's1:scale', agentType: 'code_gen', replicas: 2, reason: 'idle for 10 min (scale saga s1)', requestedBy: 'scaler', requestedAt: T0 } },
    ]);
    expect(result.decisions.map((d) => d.timers)).toEqual([
      { schedule: [{ timerId: 's1:drain', sagaId: 's1', kind: 'drain', step: null, attempt: 1, dueAt: T0 + 600 * S }], cancel: [] },
      NOTHING.timers,
      NOTHING.timers,
      NOTHING.timers,
      NOTHING.timers,
      { schedule: [], cancel: ['s1:drain'] },
    ]);
    expect(result.events.at(-1)?.data).toMatchObject({ direction: 'down', fromReplicas: 5, toReplicas: 2, reservationId: null, committedMicros: 0 });
  });

  it.each([
    ['the drain times out', [changed('scale', 2), timeout()], 'timed_out', 'the pool did not drain to 2 replicas within 600 s', 2],
    ['the pool never accepts in time', [timeout()], 'timed_out', 'the pool did not accept 2 replicas within 600 s', null],
    ['the pool rejects it', [changed('scale', 5, 'replicas must be a whole number in 3..8, got 2')], 'rejected', 'the pool rejected 2 replicas: replicas must be a whole number in 3..8, got 2', 5],
  ] as const)('is not rolled back when %s: compensated with nothing to undo, and an alert', (_name, steps, cause, reason, replicas) => {
    const result = given(down()).when(...steps);
    expect(types(result).slice(-3)).toEqual(['ScaleSagaCompensationStarted', 'AlertRaised', 'ScaleSagaCompensated']);
    expect(commandTypes(result)).toEqual([]);
    expect(result.events.at(-1)?.data).toMatchObject({ failedStep: 'drain', cause, reason, replicas, compensations: [] });
    expect(alerts(result)[0].message).toContain('nothing to undo');
    expect(result.decisions.at(-1)?.timers).toEqual({ schedule: [], cancel: ['s1:drain'] });
  });
});

describe('scale saga: redelivered replies and late timers change nothing', () => {
  it.each([
    ['a second start', [start()], start({ toReplicas: 7, now: T0 + 5 * S })],
    ['BudgetReserved again', [start(), reserved()], reserved()],
    ['the pool answering the request again', [start(), reserved(), accepted()], accepted()],
    ['a worker reported ready twice', [start(), reserved(), accepted(), workerReady('w3', 3)], workerReady('w3', 3)],
    ['the replicas reached again', [start(), reserved(), accepted(), reached()], reached()],
    ['the commit answered again', HAPPY_UP, committed()],
    ['the denial again', [start(), denied()], denied()],
    ['a waiver\'s denial again', [start(), denied('no budget is defined for pool:code_gen', 0)], denied('no budget is defined for pool:code_gen', 0)],
    ['the rollback answered again', [start(), reserved(), accepted(), workerFailed('w3', 2), changed('rollback', 2)], changed('rollback', 2)],
    ['the release answered again', [start(), reserved(), changed('scale', 2, 'no'), released()], released()],
    ['the drain reached again', HAPPY_DOWN, reached(2)],
    ['the reserve timer after the reservation', [start(), reserved()], { type: 'FireTimer', timer: { timerId: 's1:reserve', sagaId: 's1', kind: 'reserve', step: null, attempt: 1, dueAt: T0 + 30 * S }, now: T0 + 30 * S }],
    ['the provision timer after the acceptance', [start(), reserved(), accepted()], { type: 'FireTimer', timer: { timerId: 's1:provision', sagaId: 's1', kind: 'provision', step: null, attempt: 1, dueAt: T0 + 31 * S }, now: T0 + 31 * S }],
    ['the commit timer after completion', HAPPY_UP, { type: 'FireTimer', timer: { timerId: 's1:commit', sagaId: 's1', kind: 'commit', step: null, attempt: 1, dueAt: T0 + 31 * S }, now: T0 + 31 * S }],
    ['a compensation timer of an attempt since retried', [...HAPPY_UP.slice(0, 3), workerFailed('w3', 2), timeout()], { type: 'FireTimer', timer: { timerId: 's1:compensation:roll_back_replicas', sagaId: 's1', kind: 'compensation', step: 'roll_back_replicas', attempt: 1, dueAt: T0 + 31 * S }, now: T0 + 31 * S }],
    ['a timer firing before its deadline', [start()], { type: 'FireTimer', timer: { timerId: 's1:reserve', sagaId: 's1', kind: 'reserve', step: null, attempt: 1, dueAt: T0 + 30 * S }, now: T0 + 29 * S }],
    ['a worker of another saga', [start(), reserved(), accepted()], workerFailed('w9', 2, 'starting', 's2:scale')],
    ['a replacement worker failing', [start(), reserved(), accepted()], workerFailed('w1', 1, 'running', null)],
    ['a replacement worker ready', [start(), reserved(), accepted()], workerReady('w9', 3, null)],
    ['another reservation', [start()], reserved('s2')],
    ['the pool\'s answer to an operator', [start(), reserved()], reply({ type: 'flotilla.pool.PoolReplicasChanged', data: { ...pool, requestId: 'ops-17', outcome: 'accepted', reason: null, previousReplicas: 2, replicas: 3, readyReplicas: 2, slotsPerWorker: 2, provisioner: 'process', changedAt: T0 } })],
    ['a rollback answer before any rollback', [start(), reserved()], changed('rollback', 2)],
    ['a reply before the start', [], reserved()],
  ] as const)('%s', (_name, before, input) => {
    const { state } = given(...before);
    expect(saga.decide(input, state)).toEqual(NOTHING);
  });

  it('has at most one timer at a time, and none once ended', () => {
    for (const steps of Object.values(SCENARIOS)) {
      const { states, decisions } = run(steps);
      const live = new Set<string>();
      for (const d of decisions) {
        d.timers.cancel.forEach((id) => live.delete(id));
        d.timers.schedule.forEach((t) => live.add(t.timerId));
        expect(live.size).toBeLessThanOrEqual(1);
      }
      expect(live.size).toBe(0);
      expect(activeTimer(states.at(-1)!)).toBeNull();
    }
  });
});


describe('scale saga: stored state', () => {
  it.each(Object.entries(SCENARIOS))('%s: every state survives a JSON round trip, and decides the same from it', (_name, steps) => {
    const { states } = run(steps);
    let state: ScaleSagaState = saga.initialState;
    for (const [i, step] of steps.entries()) {
      const stored: ScaleSagaState = JSON.parse(JSON.stringify(state));
      expect(stored).toEqual(state);
      const input = typeof step === 'function' ? step(state) : step;
      expect(saga.decide(input, stored)).toEqual(saga.decide(input, state));
      state = states[i];
    }
  });

  it.each(Object.entries(SCENARIOS))('%s: the events alone rebuild the state', (_name, steps) => {
    const { state, events } = run(steps);
    expect(events.reduce(saga.evolve, saga.initialState)).toEqual(state);
  });
});

describe('scale saga: the state machine', () => {
  it('goes only where its transition table says, event by event, and every status is reached by some scenario', () => {
    const seen = new Set<ScaleSagaStatus>();
    for (const steps of Object.values(SCENARIOS)) {
      let state = saga.initialState;
      seen.add(state.status);
      for (const event of run(steps).events) {
        const next = saga.evolve(state, event);
        if (next.status !== state.status || event.type !== 'flotilla.alert.AlertRaised') expect(SCALE_SAGA_TRANSITIONS[state.status]).toContain(next.status);
        seen.add(next.status);
        state = next;
      }
    }
    expect([...seen].sort()).toEqual(Object.keys(SCALE_SAGA_TRANSITIONS).sort());
  });

  it('refuses an event its status cannot take', () => {
    const reserving = run([start()]).state;
    const completed: ScaleSagaEvent = { type: 'flotilla.scaling.ScaleSagaCompleted', data: { sagaId: 's1', agentType: 'code_gen', decisionId: 'd1', direction: 'up', fromReplicas: 2, toReplicas: 5, reservationId: 's1', committedMicros: 0, completedAt: T0 } };
    expect(() => saga.evolve(reserving, completed)).toThrow(IllegalScaleSagaTransitionError);
    expect(() => saga.evolve(reserving, completed)).toThrow('a scale saga cannot go from Reserving to Completed (flotilla.scaling.ScaleSagaCompleted)');
    expect(() => saga.evolve(saga.initialState, completed)).toThrow('a scale saga cannot go from NotStarted to Completed (flotilla.scaling.ScaleSagaCompleted)');
  });

  it('refuses a start that names no change, with each problem', () => {
    const error = thrown(() => saga.decide(start({ toReplicas: 2, workerHourPriceMicros: -1, policy: { horizonMs: 0, requireBudget: false } }), saga.initialState));
    expect(isValidationError(error) && error.problems).toEqual([
      { field: 'toReplicas', problem: 'equals fromReplicas (2): nothing to scale' },
      { field: 'workerHourPriceMicros', problem: 'must be a whole number of micro-units of at least 0, got -1' },
      { field: 'policy.horizonMs', problem: 'must be a positive whole number of milliseconds, got 0' },
    ]);
  });

  it('refuses settings under which a release could come after the reservation expired', () => {
    const error = thrown(() => scaleSagaDecider({ ...settings, reservationGraceMs: 60_000, compensationAttempts: 0 }));
    expect(isValidationError(error) && error.problems.map((p) => p.field)).toEqual(['compensationAttempts']);
    expect(() => scaleSagaDecider({ ...settings, reservationGraceMs: 60_000 })).toThrow('reservationGraceMs: must exceed the longest compensation (180000 ms), got 60000');
  });

  it('keeps the trace of its start for every later step', () => {
    expect(run(HAPPY_UP).states.map((s) => ('traceparent' in s ? s.traceparent : null))).toEqual(HAPPY_UP.map(() => TRACE));
  });

  it.each([
    [reserved('s7'), 's7'],
    [changed('rollback', 2), 's1'],
    [workerReady('w1', 1, 'ops-3'), null],
    [workerReady('w1', 1, null), null],
    [reached(2, 'a:b:scale'), 'a:b'],
  ])('finds the saga of a reply (%#)', (input, sagaId) => {
    if (input.type !== 'ReceiveReply') throw new Error('not a reply');
    expect(sagaIdOfReply(input.reply)).toBe(sagaId);
  });
});
