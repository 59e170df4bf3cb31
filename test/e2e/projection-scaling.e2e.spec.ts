import type {
  PoolMetricsReported,
  ScaleSagaCompensated,
  ScaleSagaStarted,
  ScalingDecisionRecorded,
  ScalingPolicyDefined,
} from '@flotilla/contracts';
/// <reference lib="dom" />
import { startFlotilla, testPool, waitFor, type Flotilla } from '@flotilla/testing';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { chromium } from 'playwright-core';
import { EventDriver } from './support/event-driver';
import { token } from './support/tokens';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies and rows of many shapes, checked by the assertions
type Body = Record<string, any>;

const MINUTE = 60_000;
const ROOT = path.resolve(__dirname, '../..');

/**
 * The scaling read side through its public interfaces: the events the scaler and the agent pool
 * publish (a policy and its next version, an override, a pause, decisions with their JSON, a scale-up
 * saga from start to completion, a second one that fails and compensates, a decision kept behind it,
 * the pool's replicas, workers' metrics reports over a few minutes) go straight to their topics, and
 * each route must answer what they say: the pools, a pool's minutes with the forecast's band, the
 * decisions page by page, the sagas with their steps. Ops only; the dashboard's Scaling view draws
 * them in headless Chromium and follows a new saga live (test-results/dashboard-scaling.png); and a
 * rebuild from the topics makes the same tables.
 */
describe('projection: scaling read models', () => {
  let flotilla: Flotilla<'projection'>;
  let driver: EventDriver;
  const database = testPool(1);
  const tokens = { ops: '', acme: '' };
  const pool = 'code_gen';
  // Ten minutes ago, on a whole minute: the events' own times, so the minutes are known exactly.
  const base = Math.floor(Date.now() / MINUTE) * MINUTE - 10 * MINUTE;
  const at = (minute: number, second = 0) => base + minute * MINUTE + second * 1000;
  const iso = (ms: number) => new Date(ms).toISOString();
  const run = randomUUID().slice(0, 8);
  const saga1 = `saga-up-${run}`;
  const saga2 = `saga-failed-${run}`;
  const decision = (n: number) => `d${n}-${run}`;
  const metricIds: string[] = [];

  const get = async (route: string, bearer: string | null = tokens.ops) => {
    const response = await fetch(`${flotilla.url('projection')}${route}`, bearer === null ? {} : { headers: { authorization: `Bearer ${bearer}` } });
    return { status: response.status, body: (await response.json()) as Body };
  };
  const ok = async (route: string) => {
    const { status, body } = await get(route);
    expect({ route, status }).toEqual({ route, status: 200 });
    return body;
  };

  type Published = { topic: string; key: string; type: string; payload: unknown; eventId?: string };
  const scaling = (type: string, payload: object): Published => ({ topic: 'flotilla.scaling', key: (payload as { agentType: string }).agentType, type: `flotilla.scaling.${type}`, payload });
  const poolEvent = (type: string, payload: object): Published => ({ topic: 'flotilla.pool-events', key: pool, type: `flotilla.pool.${type}`, payload: { agentType: pool, ...payload } });
  const report = (instanceId: string, endedAt: number, backlog: number, arrivalRatePerSec: number, eventId = randomUUID()): Published => {
    metricIds.push(eventId);
    const payload: PoolMetricsReported = {
      agentType: pool,
      instanceId,
      windowStartedAt: endedAt - 5_000,
      windowEndedAt: endedAt,
      workers: 1,
      concurrency: 2,
      inFlight: 1,
      backlog,
      utilization: 0.5,
      arrivalRatePerSec,
      completionRatePerSec: arrivalRatePerSec,
      errorRate: 0,
      latencyP50Ms: 200,
      latencyP95Ms: 400,
      cpuPercent: 20,
      memoryRssBytes: 64 * 1024 * 1024,
      reportedAt: endedAt,
    };
    return { topic: 'flotilla.pool-metrics', key: pool, type: 'flotilla.pool.PoolMetricsReported', payload, eventId };
  };

  const policy = (version: number, maxReplicas: number): ScalingPolicyDefined => ({
    agentType: pool,
    version,
    policy: JSON.stringify({ agentType: pool, version, minReplicas: 1, maxReplicas, metrics: [{ metric: 'backlog_per_worker', target: 10, weight: 1, capacity: null }], combine: { mode: 'max' }, predictive: { mode: 'forecast_and_scale', horizonSeconds: 600 } }),
    template: 'web-app-balanced',
    definedBy: 'ops-1',
    definedAt: at(0, version),
  });
  const decided = (n: number, fields: Partial<ScalingDecisionRecorded>): ScalingDecisionRecorded => ({
    decisionId: decision(n),
    agentType: pool,
    policyVersion: 1,
    evaluatedAt: at(0),
    currentReplicas: 1,
    desiredReplicas: 1,
    direction: 'none',
    snapshot: JSON.stringify({ agentType: pool, observedAt: at(0), slotsPerWorker: 2, reportingWorkers: 1, backlog: 40, arrivalRatePerSec: 2 }),
    metrics: JSON.stringify([{ metric: 'backlog_per_worker', target: 10, observed: 40, usageRatio: 4, replicas: 4, outcome: 'computed', note: '40 per worker for 10' }]),
    recommendation: JSON.stringify({ replicas: 4, source: 'metrics', note: 'backlog_per_worker: 40 per worker for a target of 10', weighted: null, queueAware: null }),
    stages: [],
    budget: null,
    forecast: null,
    sagaId: null,
    mode: 'act',
    ...fields,
  });
  const sagaStarted = (sagaId: string, decisionId: string, from: number, to: number, startedAt: number): ScaleSagaStarted => ({
    sagaId,
    agentType: pool,
    decisionId,
    direction: 'up',
    fromReplicas: from,
    toReplicas: to,
    reason: `backlog: ${from} → ${to}`,
    budgetId: `pool:${pool}`,
    amountMicros: (to - from) * 140_000,
    workerHourPriceMicros: 140_000,
    horizonMs: 3_600_000,
    requireBudget: false,
    reservationId: sagaId,
    reservationExpiresAt: startedAt + 10 * MINUTE,
    traceparent: null,
    deadlineAt: startedAt + MINUTE,
    startedAt,
  });

  beforeAll(async () => {
    tokens.ops = await token({ role: 'ops', sub: 'ops-1' });
    tokens.acme = await token({ role: 'customer', customerId: 'acme', sub: 'acme-user' });
    flotilla = await startFlotilla({ namespacePrefix: 'scl', services: ['projection'], settings: { all: { RATE_LIMIT_PER_SECOND: '10000' } } });
    driver = new EventDriver(flotilla.namespace);
    await driver.connect();
  });
  afterAll(async () => {
    await driver?.disconnect();
    await flotilla?.stop();
    await database.end();
  });

  it('shows a pool under its policy, its override and pause, and a saga in flight with the replicas so far', async () => {
    await driver.publish([
      poolEvent('PoolReplicasReached', { requestId: 'boot', replicas: 1, reachedAt: at(0) }),
      scaling('ScalingPolicyDefined', policy(1, 6)),
      scaling('ScalingOverrideSet', { agentType: pool, replicas: 2, reason: 'launch day', expiresAt: Date.now() + 3_600_000, setBy: 'ops-1', setAt: at(0, 5) }),
      scaling('ScalingPaused', { agentType: pool, reason: 'maintenance', pausedBy: 'ops-1', pausedAt: at(0, 6) }),
      scaling('ScalingResumed', { agentType: pool, resumedBy: 'ops-1', resumedAt: at(0, 7) }),
      scaling('ScalingPaused', { agentType: 'testing', reason: 'load test', pausedBy: 'ops-2', pausedAt: at(0, 8) }),
      // Held by the cooldown: recorded, nothing to do, and the forecast not used.
      scaling(
        'ScalingDecisionRecorded',
        decided(0, {
          evaluatedAt: at(0, 30),
          stages: [{ stage: 'cooldown', from: 4, to: 1, note: 'scale-up cooldown: 60 s since the last change' }],
          forecast: JSON.stringify({ source: 'reactive', reason: 'history too short: 12 of 2880 steps', shadow: null }),
        }),
      ),
      // Up to 3: the metrics ask 4, the rate limit allows 2 more; the forecast raised the rate sized for.
      scaling(
        'ScalingDecisionRecorded',
        decided(1, {
          evaluatedAt: at(1),
          desiredReplicas: 3,
          direction: 'up',
          stages: [
            { stage: 'stabilization', from: 4, to: 4, note: 'highest recommendation of the window' },
            { stage: 'rate_limit', from: 4, to: 3, note: 'at most 2 pods per 60 s' },
          ],
          forecast: JSON.stringify({ source: 'forecast', window: { fromAt: at(2), toAt: at(5) }, forecastPeakRatePerSec: 3, peakAt: at(3), provisionForRatePerSec: 3, raises: true, recentErrorPct: 20 }),
          sagaId: saga1,
        }),
      ),
      scaling('ScaleSagaRequested', { agentType: pool, sagaId: saga1, decisionId: decision(1), fromReplicas: 1, targetReplicas: 3, reason: 'backlog: 1 → 3', decidedAt: at(1), requestedAt: at(1) }),
      scaling('ScaleSagaStarted', sagaStarted(saga1, decision(1), 1, 3, at(1, 1))),
      scaling('ScaleBudgetReserved', { sagaId: saga1, agentType: pool, budgetId: `pool:${pool}`, reservationId: saga1, amountMicros: 280_000, availableMicros: 720_000, deadlineAt: at(2), reservedAt: at(1, 2) }),
      poolEvent('PoolReplicasChanged', { requestId: `${saga1}:scale`, outcome: 'accepted', reason: null, previousReplicas: 1, replicas: 3, readyReplicas: 1, slotsPerWorker: 2, provisioner: 'process', changedAt: at(1, 3) }),
      scaling('ScaleReplicasAccepted', { sagaId: saga1, agentType: pool, requestId: `${saga1}:scale`, previousReplicas: 1, replicas: 3, readyReplicas: 1, deadlineAt: at(3), acceptedAt: at(1, 3) }),
      poolEvent('PoolWorkerReady', { workerId: 'w-2', requestId: `${saga1}:scale`, timeToReadyMs: 36_000, readyReplicas: 2, replicas: 3, readyAt: at(1, 40) }),
      scaling('ScaleWorkerReady', { sagaId: saga1, agentType: pool, workerId: 'w-2', readyReplicas: 2, readyAt: at(1, 40) }),
    ]);

    const inFlight = await waitFor('the saga in flight on the pool', async () => {
      const pools = (await ok('/v1/scaling/pools')).items as Body[];
      const mine = pools.find((p) => p.agentType === pool);
      return mine?.sagaInFlight?.lastStep?.step === 'worker_ready' && mine.replicas?.ready === 2 && pools.length === 2 ? pools : undefined;
    });
    expect(inFlight.map((p) => p.agentType)).toEqual([pool, 'testing']);
    expect(inFlight[0]).toMatchObject({
      policy: { version: 1, template: 'web-app-balanced', minReplicas: 1, maxReplicas: 6, predictiveMode: 'forecast_and_scale', definedBy: 'ops-1', removedAt: null, policy: { maxReplicas: 6 } },
      override: { replicas: 2, reason: 'launch day', setBy: 'ops-1', active: true },
      paused: null,
      replicas: { desired: 3, ready: 2, at: iso(at(1, 40)), provisioner: 'process', slotsPerWorker: 2 },
      sagaInFlight: { sagaId: saga1, status: 'waiting_ready', direction: 'up', fromReplicas: 1, toReplicas: 3, startedAt: iso(at(1, 1)), lastStep: { step: 'worker_ready', note: 'worker w-2 ready (2 ready)' } },
      lastDecision: { decisionId: decision(1), evaluatedAt: iso(at(1)) },
    });
    expect(inFlight[1]).toMatchObject({ agentType: 'testing', policy: null, override: null, paused: { reason: 'load test', by: 'ops-2' }, replicas: null, sagaInFlight: null });
    expect((await ok('/v1/scaling/sagas?status=in_flight')).items.map((s: Body) => s.sagaId)).toEqual([saga1]);
  });

  it('follows the sagas to their ends: one completed, one compensated in reverse, and a decision kept behind it', async () => {
    await driver.publish([
      poolEvent('PoolWorkerReady', { workerId: 'w-3', requestId: `${saga1}:scale`, timeToReadyMs: 61_000, readyReplicas: 3, replicas: 3, readyAt: at(2, 5) }),
      scaling('ScaleWorkerReady', { sagaId: saga1, agentType: pool, workerId: 'w-3', readyReplicas: 3, readyAt: at(2, 5) }),
      poolEvent('PoolReplicasReached', { requestId: `${saga1}:scale`, replicas: 3, reachedAt: at(2, 5) }),
      scaling('ScaleReplicasReached', { sagaId: saga1, agentType: pool, replicas: 3, deadlineAt: at(3), reachedAt: at(2, 5) }),
      scaling('ScaleSagaCompleted', { sagaId: saga1, agentType: pool, decisionId: decision(1), direction: 'up', fromReplicas: 1, toReplicas: 3, reservationId: saga1, committedMicros: 280_000, completedAt: at(2, 6) }),
      scaling('ScaleSagaEnded', { agentType: pool, sagaId: saga1, outcome: 'completed', replicas: 3, endedAt: at(2, 6) }),
      scaling('ScalingPolicyDefined', policy(2, 8)),
      // A second scale-up whose new worker never gets ready: rolled back, its money released.
      scaling('ScalingDecisionRecorded', decided(2, { evaluatedAt: at(8), currentReplicas: 3, desiredReplicas: 5, direction: 'up', policyVersion: 2, sagaId: saga2, forecast: JSON.stringify({ source: 'reactive', reason: 'recent error 45 % above the 30 % limit', shadow: null }) })),
      scaling('ScaleSagaRequested', { agentType: pool, sagaId: saga2, decisionId: decision(2), fromReplicas: 3, targetReplicas: 5, reason: 'backlog: 3 → 5', decidedAt: at(8), requestedAt: at(8) }),
      scaling('ScaleSagaStarted', sagaStarted(saga2, decision(2), 3, 5, at(8, 1))),
      scaling('ScaleBudgetReserved', { sagaId: saga2, agentType: pool, budgetId: `pool:${pool}`, reservationId: saga2, amountMicros: 280_000, availableMicros: 440_000, deadlineAt: at(9), reservedAt: at(8, 2) }),
      poolEvent('PoolReplicasChanged', { requestId: `${saga2}:scale`, outcome: 'accepted', reason: null, previousReplicas: 3, replicas: 5, readyReplicas: 3, slotsPerWorker: 2, provisioner: 'process', changedAt: at(8, 3) }),
      scaling('ScaleReplicasAccepted', { sagaId: saga2, agentType: pool, requestId: `${saga2}:scale`, previousReplicas: 3, replicas: 5, readyReplicas: 3, deadlineAt: at(9), acceptedAt: at(8, 3) }),
      // While it runs, a scale-down is decided: kept until the saga ends.
      scaling('ScalingDecisionRecorded', decided(3, { evaluatedAt: at(8, 30), currentReplicas: 3, desiredReplicas: 2, direction: 'down', policyVersion: 2 })),
      scaling('ScaleDecisionCoalesced', { agentType: pool, decisionId: decision(3), targetReplicas: 2, observedReplicas: 3, observedAt: at(8, 30), reason: 'backlog: 3 → 2', decidedAt: at(8, 30), runningSagaId: saga2, replacedDecisionId: null, coalescedAt: at(8, 30) }),
      poolEvent('PoolWorkerFailed', { workerId: 'w-4', requestId: `${saga2}:scale`, phase: 'starting', reason: 'exited with code 1 before ready', readyReplicas: 3, replicas: 5, failedAt: at(8, 40) }),
      scaling('ScaleSagaCompensationStarted', { sagaId: saga2, agentType: pool, decisionId: decision(2), failedStep: 'ready', cause: 'worker_failed', reason: 'worker w-4 exited with code 1 before ready', compensations: ['roll_back_replicas', 'release_budget'], deadlineAt: at(9), startedAt: at(8, 40) }),
      scaling('ScaleCompensationStepRetried', { sagaId: saga2, agentType: pool, step: 'roll_back_replicas', attempt: 2, deadlineAt: at(9, 30), retriedAt: at(8, 55) }),
      poolEvent('PoolReplicasChanged', { requestId: `${saga2}:rollback`, outcome: 'accepted', reason: null, previousReplicas: 5, replicas: 3, readyReplicas: 3, slotsPerWorker: 2, provisioner: 'process', changedAt: at(9) }),
      poolEvent('PoolReplicasReached', { requestId: `${saga2}:rollback`, replicas: 3, reachedAt: at(9, 1) }),
      scaling('ScaleCompensationStepCompleted', { sagaId: saga2, agentType: pool, step: 'roll_back_replicas', outcome: 'done', detail: 'the pool is back at 3', deadlineAt: at(9, 30), completedAt: at(9, 1) }),
      scaling('ScaleCompensationStepCompleted', { sagaId: saga2, agentType: pool, step: 'release_budget', outcome: 'done', detail: 'released', deadlineAt: null, completedAt: at(9, 2) }),
      scaling('ScaleSagaCompensated', {
        sagaId: saga2,
        agentType: pool,
        decisionId: decision(2),
        direction: 'up',
        failedStep: 'ready',
        cause: 'worker_failed',
        reason: 'worker w-4 exited with code 1 before ready',
        fromReplicas: 3,
        toReplicas: 5,
        replicas: 3,
        compensations: [
          { step: 'roll_back_replicas', outcome: 'done', detail: 'the pool is back at 3' },
          { step: 'release_budget', outcome: 'done', detail: 'released' },
        ],
        compensatedAt: at(9, 2),
      } satisfies ScaleSagaCompensated),
      scaling('ScaleSagaEnded', { agentType: pool, sagaId: saga2, outcome: 'compensated', replicas: 3, endedAt: at(9, 2) }),
    ]);

    // Both topics consumed to their ends: the scaler's events and the pool's.
    await flotilla.settled();
    const sagas = (await ok(`/v1/scaling/sagas?agentType=${pool}`)).items as Body[];
    expect(sagas.map((s) => [s.sagaId, s.status])).toEqual([
      [saga2, 'compensated'],
      [saga1, 'completed'],
    ]);
    expect((await ok('/v1/scaling/sagas?status=in_flight')).items).toEqual([]);
    expect((await ok('/v1/scaling/sagas?status=compensated&limit=5')).items.map((s: Body) => s.sagaId)).toEqual([saga2]);

    const up = await ok(`/v1/scaling/sagas/${saga1}`);
    expect(up).toMatchObject({ agentType: pool, decisionId: decision(1), direction: 'up', fromReplicas: 1, toReplicas: 3, reservationId: saga1, amountMicros: 280_000, committedMicros: 280_000, readyReplicas: 3, replicasAfter: 3, outcome: 'completed', failure: null, compensations: [] });
    expect(up.steps.map((s: Body) => [s.step, s.at])).toEqual([
      ['requested', iso(at(1))],
      ['started', iso(at(1, 1))],
      ['budget_reserved', iso(at(1, 2))],
      ['replicas_accepted', iso(at(1, 3))],
      ['worker_ready', iso(at(1, 40))],
      ['worker_ready', iso(at(2, 5))],
      ['replicas_reached', iso(at(2, 5))],
      ['completed', iso(at(2, 6))],
      ['ended', iso(at(2, 6))],
    ]);

    const failed = await ok(`/v1/scaling/sagas/${saga2}`);
    expect(failed).toMatchObject({ status: 'compensated', outcome: 'compensated', replicasAfter: 3, failure: { failedStep: 'ready', cause: 'worker_failed', reason: 'worker w-4 exited with code 1 before ready' } });
    expect(failed.compensations).toEqual([
      { step: 'roll_back_replicas', status: 'done', attempts: 2, detail: 'the pool is back at 3' },
      { step: 'release_budget', status: 'done', attempts: 1, detail: 'released' },
    ]);
    expect(failed.steps.map((s: Body) => s.step)).toEqual(['requested', 'started', 'budget_reserved', 'replicas_accepted', 'compensation_started', 'compensation_retried', 'compensation_completed', 'compensation_completed', 'compensated', 'ended']);
    expect((await get('/v1/scaling/sagas/no-such-saga')).status).toBe(404);

    const [mine] = (await ok('/v1/scaling/pools')).items as Body[];
    expect(mine).toMatchObject({ agentType: pool, policy: { version: 2, maxReplicas: 8 }, replicas: { desired: 3, ready: 3, at: iso(at(9, 1)) }, sagaInFlight: null, lastDecision: { decisionId: decision(3) } });
  });

  it('lists decisions newest first, page by page, with what they saw, their stages, reasons and saga', async () => {
    const first = await ok('/v1/scaling/decisions?limit=2');
    expect(first.items.map((d: Body) => d.decisionId)).toEqual([decision(3), decision(2)]);
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = await ok(`/v1/scaling/decisions?limit=2&cursor=${first.nextCursor}`);
    expect(second.items.map((d: Body) => d.decisionId)).toEqual([decision(1), decision(0)]);
    expect(second.nextCursor).toBeNull();

    const [waiting, compensated, up, held] = [...first.items, ...second.items] as Body[];
    expect(up).toMatchObject({
      agentType: pool,
      policyVersion: 1,
      evaluatedAt: iso(at(1)),
      currentReplicas: 1,
      desiredReplicas: 3,
      direction: 'up',
      mode: 'act',
      snapshot: { backlog: 40, arrivalRatePerSec: 2, reportingWorkers: 1 },
      metrics: [{ metric: 'backlog_per_worker', observed: 40, replicas: 4 }],
      recommendation: { replicas: 4, source: 'metrics' },
      stages: [
        { stage: 'stabilization', from: 4, to: 4 },
        { stage: 'rate_limit', from: 4, to: 3, note: 'at most 2 pods per 60 s' },
      ],
      budget: null,
      forecast: { source: 'forecast', forecastPeakRatePerSec: 3 },
      sagaId: saga1,
      outcome: 'saga',
      reasons: ['backlog_per_worker: 40 per worker for a target of 10', 'rate limit: at most 2 pods per 60 s'],
    });
    expect(held).toMatchObject({ direction: 'none', sagaId: null, outcome: null, reasons: ['backlog_per_worker: 40 per worker for a target of 10', 'cooldown: scale-up cooldown: 60 s since the last change'] });
    expect(compensated).toMatchObject({ sagaId: saga2, outcome: 'saga', policyVersion: 2 });
    expect(waiting).toMatchObject({ direction: 'down', sagaId: null, outcome: 'waiting', waitingBehind: saga2 });

    expect((await ok(`/v1/scaling/decisions?agentType=${pool}&direction=up`)).items.map((d: Body) => d.decisionId)).toEqual([decision(2), decision(1)]);
    expect((await ok('/v1/scaling/decisions?agentType=testing')).items).toEqual([]);
  });

  it('shows a pool minute by minute: replicas as steps, backlog and arrival rate from the reports, the forecast band', async () => {
    // Worker w-1 reports three times a minute, w-2 joins at minute 2. One report is published twice
    // (the same event): it must count once.
    const w1: [number, number, number, number][] = [
      [0, 10, 40, 2.0], [0, 30, 38, 2.2], [0, 50, 36, 1.8],
      [1, 10, 30, 2.4], [1, 30, 34, 2.6], [1, 50, 20, 2.2],
      [2, 10, 12, 3], [2, 30, 8, 3], [2, 50, 4, 3],
      [3, 30, 2, 1],
      [4, 30, 0, 0.2],
    ];
    const w2: [number, number, number, number][] = [[2, 20, 10, 1], [2, 40, 6, 1.5], [3, 30, 1, 0.5]];
    const twice = randomUUID();
    await driver.publish([
      ...w1.map(([m, s, backlog, rate]) => report('w-1', at(m, s), backlog, rate, m === 0 && s === 30 ? twice : undefined)),
      ...w2.map(([m, s, backlog, rate]) => report('w-2', at(m, s), backlog, rate)),
      report('w-1', at(0, 30), 38, 2.2, twice),
    ]);

    // Every report applied, the one sent twice included.
    await flotilla.settled();
    const timeline = await ok(`/v1/scaling/pools/${pool}/timeline?from=${iso(at(0))}&to=${iso(at(10))}`);
    expect(timeline).toMatchObject({ agentType: pool, from: iso(at(0)), to: iso(at(10)) });
    expect(timeline.points.map((p: Body) => [p.minute, p.desiredReplicas, p.readyReplicas, p.backlog, p.arrivalRatePerSec, p.reportingWorkers])).toEqual([
      [iso(at(0)), 1, 1, 40, 2, 1],
      [iso(at(1)), 3, 2, 34, 2.4, 1],
      [iso(at(2)), 3, 3, 22, 4.25, 2],
      [iso(at(3)), 3, 3, 3, 1.5, 2],
      [iso(at(4)), 3, 3, 0, 0.2, 1],
      [iso(at(5)), 3, 3, null, null, null],
      [iso(at(6)), 3, 3, null, null, null],
      [iso(at(7)), 3, 3, null, null, null],
      [iso(at(8)), 5, 3, null, null, null],
      [iso(at(9)), 3, 3, null, null, null],
    ]);
    // Decision 1's forecast: a peak of 3/s over minutes 2 to 5, ± its recent error of 20 %.
    const band = { ratePerSec: 3, lower: 2.4, upper: 3.6, decisionId: decision(1) };
    expect(timeline.points.map((p: Body) => p.forecast)).toEqual([null, null, band, band, band, band, null, null, null, null]);
    expect(timeline.replicaChanges.map((c: Body) => [c.at, c.event, c.desiredReplicas, c.readyReplicas])).toEqual([
      [iso(at(0)), 'reached', 1, 1],
      [iso(at(1, 3)), 'accepted', 3, 1],
      [iso(at(1, 40)), 'worker_ready', 3, 2],
      [iso(at(2, 5)), 'worker_ready', 3, 3],
      [iso(at(2, 5)), 'reached', 3, 3],
      [iso(at(8, 3)), 'accepted', 5, 3],
      [iso(at(8, 40)), 'worker_failed', 5, 3],
      [iso(at(9)), 'accepted', 3, 3],
      [iso(at(9, 1)), 'reached', 3, 3],
    ]);
    // A range after the first events starts from the replicas before it.
    const later = await ok(`/v1/scaling/pools/${pool}/timeline?from=${iso(at(3))}&to=${iso(at(4))}`);
    expect(later.points).toEqual([{ minute: iso(at(3)), desiredReplicas: 3, readyReplicas: 3, backlog: 3, arrivalRatePerSec: 1.5, reportingWorkers: 2, forecast: band }]);
    expect(later.replicaChanges).toEqual([]);

    // The reports are rolled up, not kept one by one, and keep no inbox row: the report sent twice counted once.
    const schema = flotilla.schema('projection');
    const { rows } = await database.query(`SELECT instance_id, reports FROM ${schema}.scaling_pool_metrics WHERE agent_type = $1 AND minute = $2 ORDER BY instance_id`, [pool, iso(at(0))]);
    expect(rows).toEqual([{ instance_id: 'w-1', reports: 3 }]);
    const inbox = await database.query(`SELECT count(*)::int AS n FROM ${schema}.projection_inbox WHERE event_id = ANY($1)`, [metricIds]);
    expect(inbox.rows[0].n).toBe(0);
  });

  it('is for operators only, and refuses a bad query naming the parameter', async () => {
    const routes = ['/v1/scaling/pools', `/v1/scaling/pools/${pool}/timeline`, '/v1/scaling/decisions', '/v1/scaling/sagas', `/v1/scaling/sagas/${saga1}`];
    for (const route of routes) {
      expect({ route, status: (await get(route, tokens.acme)).status }).toEqual({ route, status: 403 });
      expect({ route, status: (await get(route, null)).status }).toEqual({ route, status: 401 });
    }
    const problem = async (route: string) => {
      const { status, body } = await get(route);
      return { status, code: body.code, fields: (body.problems as { field: string }[] | undefined)?.map((p) => p.field) };
    };
    expect(await problem('/v1/scaling/decisions?limit=0')).toEqual({ status: 400, code: 'VALIDATION_FAILED', fields: ['limit'] });
    expect(await problem('/v1/scaling/decisions?direction=sideways')).toEqual({ status: 400, code: 'VALIDATION_FAILED', fields: ['direction'] });
    expect(await problem('/v1/scaling/decisions?cursor=bm90LW91cnM')).toEqual({ status: 400, code: 'INVALID_CURSOR', fields: ['cursor'] });
    expect(await problem('/v1/scaling/sagas?status=lost')).toEqual({ status: 400, code: 'VALIDATION_FAILED', fields: ['status'] });
    expect(await problem('/v1/scaling/pools?agentType=code_gen')).toEqual({ status: 400, code: 'VALIDATION_FAILED', fields: ['agentType'] });
    expect(await problem('/v1/scaling/pools/astrology/timeline')).toEqual({ status: 400, code: 'VALIDATION_FAILED', fields: ['agentType'] });
    expect(await problem(`/v1/scaling/pools/${pool}/timeline?from=${iso(at(-3000))}&to=${iso(at(0))}`)).toEqual({ status: 400, code: 'INVALID_RANGE', fields: ['from'] });
    expect(await problem(`/v1/scaling/pools/${pool}/timeline?from=${iso(at(5))}&to=${iso(at(5))}`)).toEqual({ status: 400, code: 'INVALID_RANGE', fields: ['to'] });
  });

  it('announces each change of a pool on the live stream, as kind scaling', async () => {
    const controller = new AbortController();
    const response = await fetch(`${flotilla.url('projection')}/v1/stream?kinds=scaling&access_token=${tokens.ops}`, { signal: controller.signal });
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let text = '';
    const read = async (until: (t: string) => boolean) => {
      while (!until(text)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`the stream ended: ${text}`);
        text += decoder.decode(value, { stream: true });
      }
    };
    try {
      await read((t) => t.includes(': connected'));
      await driver.publish([scaling('ScalingResumed', { agentType: 'testing', resumedBy: 'ops-2', resumedAt: at(9, 30) })]);
      await read((t) => t.includes('"kind":"scaling"'));
      expect(text).toContain('"id":"testing"');
      expect(text).toContain('"customerId":null');
    } finally {
      controller.abort();
    }
    await waitFor('the pause lifted', async () => ((await ok('/v1/scaling/pools')).items as Body[]).find((p) => p.agentType === 'testing')?.paused === null || undefined);
  });

  it('draws each pool in the dashboard, with its sagas and decisions, and follows a new saga live', async () => {
    const executablePath = execFileSync(path.join(ROOT, 'deploy/native/stack'), ['browser'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim().split('\n').pop()!;
    const browser = await chromium.launch({ executablePath, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
    try {
      const page = await browser.newPage({ viewport: { width: 1440, height: 1000 } });
      await page.goto(`${flotilla.url('projection')}/dashboard#/scaling?token=${tokens.ops}`);
      await page.waitForSelector('#live.on', { timeout: 15_000 });
      const panel = `[data-pool="${pool}"]`;
      await page.waitForSelector(`${panel} svg path.desired`, { timeout: 15_000 });
      // Replicas as a step line, backlog bars, the arrival rate, and the forecast band shaded over its minutes.
      expect(await page.locator(`${panel} svg path.ready`).count()).toBe(1);
      expect(await page.locator(`${panel} svg path.arrival`).count()).toBe(1);
      expect(await page.locator(`${panel} svg rect.backlog`).count()).toBe(4); // minutes 0 to 3; minute 4 had none waiting
      expect(await page.locator(`${panel} svg polygon.band`).count()).toBe(1);
      const head = await page.textContent(`${panel} .pool-head`);
      expect(head).toContain('policy v2 (web-app-balanced)');
      expect(head).toContain('1–8 replicas');
      expect(head).toContain('replicas 3 desired, 3 ready');
      expect(await page.textContent(`${panel} .pool-decisions`)).toContain('rate limit: at most 2 pods per 60 s');
      expect(await page.textContent('#scaling-sagas')).toContain('No saga in flight.');

      // A saga starts on the paused pool: it appears without a reload.
      const sagaId = `saga-live-${run}`;
      await driver.publish([
        scaling('ScaleSagaRequested', { agentType: 'testing', sagaId, decisionId: `d-live-${run}`, fromReplicas: 0, targetReplicas: 1, reason: 'backlog with no worker', decidedAt: at(9, 40), requestedAt: at(9, 40) }),
        scaling('ScaleSagaStarted', { ...sagaStarted(sagaId, `d-live-${run}`, 0, 1, at(9, 41)), agentType: 'testing', budgetId: 'pool:testing' }),
      ]);
      await page.waitForFunction((id) => document.querySelector(`#scaling-sagas [data-saga="${id}"]`) !== null, sagaId, { timeout: 30_000 });
      expect(await page.textContent('#scaling-sagas')).toContain('reserving');
      expect(await page.evaluate(() => performance.getEntriesByType('navigation').length)).toBe(1);
      fs.mkdirSync(path.join(ROOT, 'test-results'), { recursive: true });
      await page.screenshot({ path: path.join(ROOT, 'test-results/dashboard-scaling.png'), fullPage: true });

      // A customer's token: the view says it is for operators, and asks nothing.
      const customer = await browser.newPage();
      await customer.goto(`${flotilla.url('projection')}/dashboard#/scaling?token=${tokens.acme}`);
      await customer.waitForFunction(() => /for operators/.test(document.querySelector('#scaling-notice')?.textContent ?? ''), null, { timeout: 15_000 });
      expect(await customer.isVisible('#nav-scaling')).toBe(false);
    } finally {
      await browser.close();
    }
  });

  it('rebuilds the same scaling tables from the topics', async () => {
    const schema = flotilla.schema('projection');
    const tables: Record<string, string> = {
      scaling_pools: 'agent_type',
      scaling_decisions: 'decision_id',
      scaling_forecasts: 'decision_id',
      scaling_sagas: 'saga_id',
      scaling_replicas: 'event_id',
      scaling_pool_metrics: 'agent_type, minute, instance_id',
    };
    const snapshot = async () => {
      const out: Record<string, Body[]> = {};
      for (const [table, order] of Object.entries(tables)) out[table] = (await database.query(`SELECT * FROM ${schema}.${table} ORDER BY ${order}`)).rows;
      return out;
    };
    await flotilla.settled();
    const before = await snapshot();
    expect(Object.fromEntries(Object.entries(before).map(([t, rows]) => [t, rows.length]))).toEqual({
      scaling_pools: 2,
      scaling_decisions: 4,
      scaling_forecasts: 3,
      scaling_sagas: 3,
      scaling_replicas: 9,
      scaling_pool_metrics: 7,
    });

    const started = await fetch(`${flotilla.url('projection')}/v1/admin/rebuild`, { method: 'POST', headers: { authorization: `Bearer ${tokens.ops}` } });
    expect(started.status).toBe(202);
    await waitFor('the rebuild to finish', async () => {
      const progress = (await ok('/v1/admin/rebuild')) as Body;
      if (progress.state === 'failed') throw new Error(`rebuild failed: ${progress.error}`);
      return progress.state === 'done';
    }, { timeoutMs: 120_000, intervalMs: 200 });
    await flotilla.settled();
    expect(await snapshot()).toEqual(before);
    const inbox = await database.query(`SELECT count(*)::int AS n FROM ${schema}.projection_inbox WHERE event_id = ANY($1)`, [metricIds]);
    expect(inbox.rows[0].n).toBe(0);
    // The API reads the rebuilt tables as it read the live ones.
    expect((await ok(`/v1/scaling/sagas/${saga2}`)).compensations).toHaveLength(2);
  });
});
