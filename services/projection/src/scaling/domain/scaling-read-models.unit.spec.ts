import { decisionReasons, jsonArray, jsonObject } from './decision-record';
import { bandByMinute, forecastRecordOf, type DecidedForecast } from './forecast-band';
import { MINUTE_MS, poolMinutes } from './metrics-rollup';
import { assembleTimeline, timelineRange, type ReplicaEvent } from './pool-timeline';
import { poolView, type PoolRecord } from './pool-view';
import { evolveSaga, type SagaEvent, type SagaRecord } from './saga-view';

const T0 = Date.parse('2026-12-01T10:00:00Z');
const at = (minutes: number, seconds = 0) => T0 + minutes * MINUTE_MS + seconds * 1000;
const fold = (events: readonly SagaEvent[]): SagaRecord => events.reduce<SagaRecord | null>((saga, e) => evolveSaga(saga, e), null)!;

const sagaId = 'saga-1';
const agentType = 'code_gen';
const requested: SagaEvent = {
  type: 'flotilla.scaling.ScaleSagaRequested',
  data: { agentType, sagaId, decisionId: 'd-1', fromReplicas: 1, targetReplicas: 3, reason: 'backlog 40 per worker, target 10', decidedAt: at(0), requestedAt: at(0) },
};
const started: SagaEvent = {
  type: 'flotilla.scaling.ScaleSagaStarted',
  data: {
    sagaId,
    agentType,
    decisionId: 'd-1',
    direction: 'up',
    fromReplicas: 1,
    toReplicas: 3,
    reason: 'backlog 40 per worker, target 10',
    budgetId: 'pool:code_gen',
    amountMicros: 280_000,
    workerHourPriceMicros: 140_000,
    horizonMs: 3_600_000,
    requireBudget: false,
    reservationId: sagaId,
    reservationExpiresAt: at(10),
    traceparent: null,
    deadlineAt: at(1),
    startedAt: at(0, 1),
  },
};
const reserved: SagaEvent = { type: 'flotilla.scaling.ScaleBudgetReserved', data: { sagaId, agentType, budgetId: 'pool:code_gen', reservationId: sagaId, amountMicros: 280_000, availableMicros: 720_000, deadlineAt: at(2), reservedAt: at(0, 2) } };
const accepted: SagaEvent = {
  type: 'flotilla.scaling.ScaleReplicasAccepted',
  data: { sagaId, agentType, requestId: `${sagaId}:scale`, previousReplicas: 1, replicas: 3, readyReplicas: 1, deadlineAt: at(3), acceptedAt: at(0, 3) },
};
const ready = (workerId: string, readyReplicas: number, seconds: number): SagaEvent => ({ type: 'flotilla.scaling.ScaleWorkerReady', data: { sagaId, agentType, workerId, readyReplicas, readyAt: at(0, seconds) } });
const reached: SagaEvent = { type: 'flotilla.scaling.ScaleReplicasReached', data: { sagaId, agentType, replicas: 3, deadlineAt: at(2), reachedAt: at(0, 20) } };
const completed: SagaEvent = {
  type: 'flotilla.scaling.ScaleSagaCompleted',
  data: { sagaId, agentType, decisionId: 'd-1', direction: 'up', fromReplicas: 1, toReplicas: 3, reservationId: sagaId, committedMicros: 280_000, completedAt: at(0, 21) },
};
const ended = (outcome: 'completed' | 'denied' | 'compensated', replicas: number | null, seconds: number): SagaEvent => ({ type: 'flotilla.scaling.ScaleSagaEnded', data: { agentType, sagaId, outcome, replicas, endedAt: at(0, seconds) } });

describe('scale saga read model (the saga folded from its events)', () => {
  it('follows a scale-up through reserve, provision, ready and commit, every step in order', () => {
    const statuses = [requested, started, reserved, accepted, ready('w-2', 2, 10), ready('w-3', 3, 12), reached, completed, ended('completed', 3, 22)].map(
      (_, i, all) => fold(all.slice(0, i + 1)).status,
    );
    expect(statuses).toEqual(['requested', 'reserving', 'provisioning', 'waiting_ready', 'waiting_ready', 'waiting_ready', 'committing', 'completed', 'completed']);
    const saga = fold([requested, started, reserved, accepted, ready('w-2', 2, 10), ready('w-3', 3, 12), reached, completed, ended('completed', 3, 22)]);
    expect(saga).toMatchObject({ decisionId: 'd-1', direction: 'up', fromReplicas: 1, toReplicas: 3, reservationId: sagaId, amountMicros: 280_000, committedMicros: 280_000, readyReplicas: 3, replicasAfter: 3, outcome: 'completed', endedAt: at(0, 21), failure: null, compensations: [] });
    expect(saga.steps.map((s) => s.step)).toEqual(['requested', 'started', 'budget_reserved', 'replicas_accepted', 'worker_ready', 'worker_ready', 'replicas_reached', 'completed', 'ended']);
    expect(saga.steps[1]).toEqual({ step: 'started', at: new Date(at(0, 1)).toISOString(), note: 'scale up 1 → 3; reserving 280000 µ on pool:code_gen' });
    expect(saga.steps[4].note).toBe('worker w-2 ready (2 ready)');
    expect(saga.lastEventAt).toBe(at(0, 22));
  });

  it("a scale-up with nothing to reserve provisions at once, and ends only with the saga's completion", () => {
    const free: SagaEvent = { ...started, data: { ...(started.data as object), reservationId: null, amountMicros: 0, reservationExpiresAt: null } } as SagaEvent;
    expect(fold([free]).status).toBe('provisioning');
    expect(fold([free, accepted, reached]).status).toBe('waiting_ready');
  });

  it('a scale-down drains', () => {
    const down: SagaEvent = { ...started, data: { ...(started.data as object), direction: 'down', fromReplicas: 3, toReplicas: 1, reservationId: null, amountMicros: 0 } } as SagaEvent;
    expect(fold([down]).status).toBe('draining');
    expect(fold([down, accepted]).status).toBe('draining');
  });

  it('a denial ends the saga at the reserve step', () => {
    const denied: SagaEvent = {
      type: 'flotilla.scaling.ScaleActionDenied',
      data: { sagaId, agentType, decisionId: 'd-1', fromReplicas: 1, toReplicas: 3, budgetId: 'pool:code_gen', reservationId: sagaId, amountMicros: 280_000, availableMicros: 1_000, reason: 'budget exhausted', deniedAt: at(0, 2) },
    };
    const saga = fold([requested, started, denied, ended('denied', 1, 3)]);
    expect(saga).toMatchObject({ status: 'denied', outcome: 'denied', replicasAfter: 1, failure: { failedStep: 'reserve', cause: 'denied', reason: 'budget exhausted' } });
    expect(saga.steps.map((s) => s.note)).toContain('denied by pool:code_gen: budget exhausted (asked 280000 µ, 1000 µ available)');
  });

  it('a failure runs the compensations in reverse, each with its attempts and how it ended', () => {
    const failed: SagaEvent = {
      type: 'flotilla.scaling.ScaleSagaCompensationStarted',
      data: { sagaId, agentType, decisionId: 'd-1', failedStep: 'ready', cause: 'worker_failed', reason: 'worker w-2 exited', compensations: ['roll_back_replicas', 'release_budget'], deadlineAt: at(1), startedAt: at(0, 30) },
    };
    const retried: SagaEvent = { type: 'flotilla.scaling.ScaleCompensationStepRetried', data: { sagaId, agentType, step: 'roll_back_replicas', attempt: 2, deadlineAt: at(2), retriedAt: at(0, 40) } };
    const rolledBack: SagaEvent = {
      type: 'flotilla.scaling.ScaleCompensationStepCompleted',
      data: { sagaId, agentType, step: 'roll_back_replicas', outcome: 'done', detail: 'replicas back to 1', deadlineAt: at(3), completedAt: at(0, 45) },
    };
    const released: SagaEvent = { type: 'flotilla.scaling.ScaleCompensationStepCompleted', data: { sagaId, agentType, step: 'release_budget', outcome: 'done', detail: 'released', deadlineAt: null, completedAt: at(0, 46) } };
    const compensated: SagaEvent = {
      type: 'flotilla.scaling.ScaleSagaCompensated',
      data: {
        sagaId,
        agentType,
        decisionId: 'd-1',
        direction: 'up',
        failedStep: 'ready',
        cause: 'worker_failed',
        reason: 'worker w-2 exited',
        fromReplicas: 1,
        toReplicas: 3,
        replicas: 1,
        compensations: [
          { step: 'roll_back_replicas', outcome: 'done', detail: 'replicas back to 1' },
          { step: 'release_budget', outcome: 'done', detail: 'released' },
        ],
        compensatedAt: at(0, 47),
      },
    };
    const before = [requested, started, reserved, accepted];
    expect(fold([...before, failed]).compensations).toEqual([
      { step: 'roll_back_replicas', status: 'running', attempts: 1, detail: null },
      { step: 'release_budget', status: 'pending', attempts: 0, detail: null },
    ]);
    expect(fold([...before, failed, retried, rolledBack]).compensations).toEqual([
      { step: 'roll_back_replicas', status: 'done', attempts: 2, detail: 'replicas back to 1' },
      { step: 'release_budget', status: 'running', attempts: 1, detail: null },
    ]);
    const saga = fold([...before, failed, retried, rolledBack, released, compensated, ended('compensated', 1, 48)]);
    expect(saga).toMatchObject({ status: 'compensated', outcome: 'compensated', replicasAfter: 1, failure: { failedStep: 'ready', cause: 'worker_failed', reason: 'worker w-2 exited' } });
    expect(saga.compensations).toEqual([
      { step: 'roll_back_replicas', status: 'done', attempts: 2, detail: 'replicas back to 1' },
      { step: 'release_budget', status: 'done', attempts: 1, detail: 'released' },
    ]);
    expect(saga.steps.map((s) => s.step)).toEqual(['requested', 'started', 'budget_reserved', 'replicas_accepted', 'compensation_started', 'compensation_retried', 'compensation_completed', 'compensation_completed', 'compensated', 'ended']);
    expect(saga.steps[4].note).toBe('ready failed (worker failed): worker w-2 exited; compensating: roll_back_replicas, then release_budget');
  });

  it('an end is final: a late event adds its step and moves nothing back', () => {
    const saga = fold([started, reserved, accepted, reached, completed, ready('w-9', 3, 30)]);
    expect(saga.status).toBe('completed');
    expect(saga.steps[saga.steps.length - 1].step).toBe('worker_ready');
  });
});

describe('pool metrics per minute', () => {
  it("adds up the reporters' highest backlog, mean arrival rate and workers", () => {
    const minutes = poolMinutes([
      // w-1 reported 3 times in the minute: arrivals 1, 2, 3 per second (mean 2), backlog up to 30.
      { minute: at(0), instanceId: 'w-1', reports: 3, backlogMax: 30, arrivalRateSum: 6, workersMax: 1 },
      { minute: at(0), instanceId: 'w-2', reports: 2, backlogMax: 10, arrivalRateSum: 1, workersMax: 1 },
      { minute: at(1), instanceId: 'w-1', reports: 1, backlogMax: 0, arrivalRateSum: 0.5, workersMax: 1 },
    ]);
    expect(minutes.get(at(0))).toEqual({ minute: at(0), backlog: 40, arrivalRatePerSec: 2.5, reportingWorkers: 2, reporters: 2, reports: 5 });
    expect(minutes.get(at(1))).toMatchObject({ backlog: 0, arrivalRatePerSec: 0.5, reportingWorkers: 1 });
  });
});

describe("the forecast's band", () => {
  const advice = { source: 'forecast', window: { fromAt: at(2), toAt: at(4) }, forecastPeakRatePerSec: 4, peakAt: at(3), provisionForRatePerSec: 4, raises: true, recentErrorPct: 25 };

  it("reads the advice the scaler records: the forecast's, forecast-only mode's shadow, or why it was not used", () => {
    expect(forecastRecordOf(advice)).toEqual({ source: 'forecast', windowFrom: at(2), windowTo: at(4), peakRatePerSec: 4, provisionForRatePerSec: 4, observedRatePerSec: null, recentErrorPct: 25, note: null, points: null });
    const shadow = { version: 1, decidedAt: at(0), window: { fromAt: at(1), toAt: at(2) }, observedArrivalRatePerSec: 1, wouldProvisionForRatePerSec: 3, forecastPeakRatePerSec: 3, wouldNotUseBecause: null, recentErrorPct: 10 };
    expect(forecastRecordOf({ source: 'reactive', reason: 'forecast only: acting reactively, the forecast is recorded', shadow })).toMatchObject({ source: 'shadow', peakRatePerSec: 3, observedRatePerSec: 1, windowFrom: at(1) });
    expect(forecastRecordOf({ source: 'reactive', reason: 'history too short: 2 of 2880 steps', shadow: null })).toMatchObject({ source: 'reactive', note: 'history too short: 2 of 2880 steps', peakRatePerSec: null });
    expect(forecastRecordOf('not an object')).toBeNull();
    expect(forecastRecordOf({ source: 'astrology' })).toBeNull();
  });

  it('covers each minute of the window with the peak ± its recent error; the latest decision wins where two overlap', () => {
    const forecasts: DecidedForecast[] = [
      { decisionId: 'd-2', decidedAt: at(1), record: forecastRecordOf({ ...advice, window: { fromAt: at(3), toAt: at(5) }, forecastPeakRatePerSec: 2, recentErrorPct: null })! },
      { decisionId: 'd-1', decidedAt: at(0), record: forecastRecordOf(advice)! },
    ];
    const band = bandByMinute(forecasts, at(0), at(5));
    expect([...band.keys()]).toEqual([at(2), at(3), at(4)]);
    expect(band.get(at(2))).toEqual({ ratePerSec: 4, lower: 3, upper: 5, decisionId: 'd-1' });
    expect(band.get(at(3))).toEqual({ ratePerSec: 2, lower: 2, upper: 2, decisionId: 'd-2' });
    // 3 ± 20 % is 2.4 to 3.6, not 2.4000000000000004 to 3.5999999999999996.
    const twenty = forecastRecordOf({ ...advice, forecastPeakRatePerSec: 3, recentErrorPct: 20 })!;
    expect(bandByMinute([{ decisionId: 'd-3', decidedAt: at(0), record: twenty }], at(2), at(3)).get(at(2))).toEqual({ ratePerSec: 3, lower: 2.4, upper: 3.6, decisionId: 'd-3' });
  });

  it("uses the forecaster's own points and intervals where the advice carries them", () => {
    const record = forecastRecordOf({ ...advice, points: [{ step: 1, at: at(2, 30), ratePerSec: 3, lower: 2, upper: 4.5 }] })!;
    expect(bandByMinute([{ decisionId: 'd-1', decidedAt: at(0), record }], at(0), at(5))).toEqual(new Map([[at(2), { ratePerSec: 3, lower: 2, upper: 4.5, decisionId: 'd-1' }]]));
  });
});

describe('pool timeline', () => {
  const event = (minutes: number, seconds: number, desiredReplicas: number, readyReplicas: number, kind: ReplicaEvent['event'] = 'worker_ready'): ReplicaEvent => ({
    at: at(minutes, seconds),
    event: kind,
    desiredReplicas,
    readyReplicas,
    workerId: null,
    detail: null,
  });

  it('one point a minute: replicas at its end, the metrics reported in it, the band where a forecast covers it', () => {
    const timeline = assembleTimeline({
      agentType,
      from: at(0),
      to: at(4),
      before: event(-5, 0, 1, 1, 'reached'),
      events: [event(1, 10, 3, 1, 'accepted'), event(1, 40, 3, 2), event(2, 5, 3, 3), event(2, 5, 3, 3, 'reached')],
      reporters: [
        { minute: at(0), instanceId: 'w-1', reports: 2, backlogMax: 40, arrivalRateSum: 4, workersMax: 1 },
        { minute: at(2), instanceId: 'w-1', reports: 1, backlogMax: 5, arrivalRateSum: 0.3, workersMax: 1 },
        { minute: at(2), instanceId: 'w-2', reports: 1, backlogMax: 5, arrivalRateSum: 0.1, workersMax: 1 },
      ],
      forecasts: [{ decisionId: 'd-1', decidedAt: at(0), record: forecastRecordOf({ source: 'forecast', window: { fromAt: at(3), toAt: at(9) }, forecastPeakRatePerSec: 2, recentErrorPct: 50 })! }],
    });
    expect(timeline.from).toBe('2026-12-01T10:00:00.000Z');
    expect(timeline.points.map((p) => [p.minute.slice(11, 16), p.desiredReplicas, p.readyReplicas, p.backlog, p.arrivalRatePerSec, p.reportingWorkers])).toEqual([
      ['10:00', 1, 1, 40, 2, 1],
      ['10:01', 3, 2, null, null, null],
      ['10:02', 3, 3, 10, 0.4, 2],
      ['10:03', 3, 3, null, null, null],
    ]);
    expect(timeline.points.map((p) => p.forecast)).toEqual([null, null, null, { ratePerSec: 2, lower: 1, upper: 3, decisionId: 'd-1' }]);
    expect(timeline.replicaChanges.map((c) => [c.at.slice(11, 19), c.event])).toEqual([['10:01:10', 'accepted'], ['10:01:40', 'worker_ready'], ['10:02:05', 'worker_ready'], ['10:02:05', 'reached']]);
  });

  it('knows no replicas before the first pool event', () => {
    const timeline = assembleTimeline({ agentType, from: at(0), to: at(2), before: null, events: [event(1, 0, 2, 2)], reporters: [], forecasts: [] });
    expect(timeline.points.map((p) => p.desiredReplicas)).toEqual([null, 2]);
  });

  it('takes whole minutes, an hour by default, at most the limit', () => {
    const now = at(10, 30);
    expect(timelineRange({}, now)).toEqual({ from: at(-49), to: at(11) });
    expect(timelineRange({ from: new Date(at(0, 20)).toISOString(), to: new Date(at(2, 1)).toISOString() }, now)).toEqual({ from: at(0), to: at(3) });
    expect(timelineRange({ from: new Date(at(5)).toISOString(), to: new Date(at(5)).toISOString() }, now)).toEqual({ problem: { field: 'to', problem: 'must be after from (both round to whole minutes)' } });
    expect(timelineRange({ from: new Date(at(-2000)).toISOString() }, now, { maxMinutes: 1_440 })).toMatchObject({ problem: { field: 'from' } });
  });
});

describe('decisions', () => {
  it("say why: the recommendation's note, then each stage that changed the count", () => {
    const stages = [
      { stage: 'stabilization' as const, from: 6, to: 6, note: 'no higher recommendation in the window' },
      { stage: 'rate_limit' as const, from: 6, to: 5, note: 'at most 4 pods per 15 s' },
      { stage: 'bounds' as const, from: 5, to: 4, note: 'max 4' },
    ];
    expect(decisionReasons({ replicas: 6, source: 'metrics', note: 'backlog_per_worker 60 for target 10' }, stages)).toEqual([
      'backlog_per_worker 60 for target 10',
      'rate limit: at most 4 pods per 15 s',
      'bounds: max 4',
    ]);
    expect(decisionReasons({}, [])).toEqual([]);
  });

  it('keep a JSON part that is not JSON of its shape as it came, instead of failing the event', () => {
    expect(jsonObject('{"backlog":40}')).toEqual({ backlog: 40 });
    expect(jsonObject('[1]')).toEqual({ unreadable: '[1]' });
    expect(jsonArray('{oops')).toEqual([{ unreadable: '{oops' }]);
  });
});

describe('pool view', () => {
  const pool: PoolRecord = {
    agentType,
    policy: { json: { minReplicas: 1, maxReplicas: 8, predictive: { mode: 'forecast_only' } }, version: 3, template: 'web-app-balanced', definedAt: at(0), definedBy: 'ops', removedAt: null },
    override: { replicas: 4, reason: 'launch', expiresAt: at(30), setBy: 'ops', setAt: at(0) },
    paused: null,
    replicas: { desired: 3, ready: 2, at: at(1), provisioner: 'process', slotsPerWorker: 2 },
    lastDecision: null,
  };

  it('shows the policy bounds and mode, an override active until it expires, and a saga only while in flight', () => {
    const running = fold([requested, started]);
    const view = poolView(pool, running, at(10));
    expect(view).toMatchObject({ policy: { version: 3, minReplicas: 1, maxReplicas: 8, predictiveMode: 'forecast_only' }, override: { replicas: 4, active: true }, replicas: { desired: 3, ready: 2 } });
    expect(view.sagaInFlight).toMatchObject({ sagaId, status: 'reserving', lastStep: { step: 'started' } });
    expect(poolView(pool, running, at(31)).override?.active).toBe(false);
    expect(poolView(pool, fold([started, reserved, accepted, reached, completed]), at(10)).sagaInFlight).toBeNull();
  });
});
