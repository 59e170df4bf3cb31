import type { AlertRaised, PoolReplicasRequested, ScaleActionDenied, ScaleSagaCompensated, ScaleSagaCompleted, ScaleSagaStarted, ScalingDecisionRecorded, TaskCompleted, TaskStarted } from '@flotilla/contracts';
import { stack, startFlotilla, testPool, waitFor, type Flotilla } from '@flotilla/testing';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { EventDriver, type TopicTail } from './support/event-driver';
import { aliveWorkerIds } from './support/processes';
import { token } from './support/tokens';

/**
 * The scaler driving a real pool: worker processes provisioned by the agent pool, budgets at the
 * optimizer, and every step on Kafka. A load step scales the pool up through a saga, the backlog
 * drains, and the pool scales back down after its window, with each task run once.
 */
describe('scaler: budget-guarded scale sagas on a real pool', () => {
  let flotilla: Flotilla<'agent-pool' | 'optimizer' | 'scaler'>;
  let driver: EventDriver;
  let scaling: TopicTail<Record<string, unknown>>;
  let taskEvents: TopicTail<TaskStarted & TaskCompleted>;
  let commands: TopicTail<PoolReplicasRequested>;
  let alerts: TopicTail<AlertRaised>;
  const pool = testPool(1);
  let ops = '';
  /** A saga that reserved, provisioned and committed with no process killed: its whole trace reached Jaeger. */
  let overrideSagaId = '';

  /** The optimizer's sheet prices a code_gen worker-hour unlike the scaler's fallback: a reservation at it proves the sheet reached the scaler. */
  const CODE_GEN_WORKER_HOUR_MICROS = 210_000;
  const priceSheetFile = path.join(os.tmpdir(), `flotilla-scaler-e2e-prices-${process.pid}.json`);

  beforeAll(async () => {
    ops = await token({ role: 'ops' });
    const sheet = JSON.parse(readFileSync(path.join(__dirname, '../../services/optimizer/config/price-sheet.json'), 'utf8')) as { agentTypes: Record<string, Record<string, unknown>> };
    sheet.agentTypes.code_gen = { ...sheet.agentTypes.code_gen, workerHourMicros: CODE_GEN_WORKER_HOUR_MICROS };
    writeFileSync(priceSheetFile, JSON.stringify(sheet));
    flotilla = await startFlotilla({
      namespacePrefix: 'scl',
      services: ['agent-pool', 'optimizer', 'scaler'],
      executors: { default: { type: 'synthetic' } },
      settings: {
        'agent-pool': {
          AGENT_TYPES: 'code_gen',
          PROVISIONED_AGENT_TYPES: 'code_gen',
          POOL_SLOTS_PER_WORKER: '2',
          POOL_INITIAL_REPLICAS: '1',
          POOL_MAX_REPLICAS: '3',
          PROVISIONER_INTERVAL_MS: '200',
          POOL_METRICS_INTERVAL_MS: '1000',
          HEARTBEAT_INTERVAL_MS: '1000',
        },
        optimizer: { PRICE_SHEET_FILE: priceSheetFile },
        scaler: { SCALED_AGENT_TYPES: 'code_gen', SCALER_INTERVAL_MS: '1000', METRICS_STALE_AFTER_MS: '4000' },
      },
    });
    driver = new EventDriver(flotilla.namespace);
    await driver.connect();
    [scaling, taskEvents, commands, alerts] = await Promise.all([
      driver.tail('flotilla.scaling'),
      driver.tail<TaskStarted & TaskCompleted>('flotilla.task-events'),
      driver.tail<PoolReplicasRequested>('flotilla.replica-commands'),
      driver.tail<AlertRaised>('flotilla.alerts'),
    ]);
  });
  afterAll(async () => {
    await Promise.all([scaling?.stop(), taskEvents?.stop(), commands?.stop(), alerts?.stop()]);
    await driver?.disconnect();
    await flotilla?.stop();
    await pool.end();
    rmSync(priceSheetFile, { force: true });
  });

  const http = async (service: 'scaler' | 'optimizer', method: string, url: string, body?: unknown) => {
    const response = await fetch(`${flotilla.url(service)}${url}`, { method, headers: { authorization: `Bearer ${ops}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };
  const ofType = <T>(type: string) => scaling.events.filter((e) => e.type === `flotilla.scaling.${type}`).map((e) => e.payload as unknown as T);
  const aliveWorkers = async () => (await aliveWorkerIds(pool, flotilla.schema('agent-pool'), 'code_gen')).length;
  /** Backlog per worker 2 (each worker has 2 slots), 1..3 workers; scale-down after 3 s of lower recommendations (test speed). */
  const policy = { minReplicas: 1, maxReplicas: 3, metrics: [{ metric: 'backlog_per_worker', target: 2 }], behavior: { scaleDown: { stabilizationWindowSeconds: 3 } } };

  /** Once no saga runs: the pool's record, its live processes and the scaler's view agree, and the optimizer holds nothing for the pool. */
  const expectBalanced = async () => {
    await waitFor('no saga in flight', async () => (await http('scaler', 'GET', '/v1/pools/code_gen')).body.runningSaga === null, { timeoutMs: 90_000 });
    const replicas = await waitFor('the pool at its record', async () => {
      const view = (await http('scaler', 'GET', '/v1/pools/code_gen')).body.replicas as { replicas: number; readyReplicas: number };
      return view.replicas === view.readyReplicas && (await aliveWorkers()) === view.replicas ? view.replicas : undefined;
    }, { timeoutMs: 60_000 });
    await waitFor('nothing reserved at the optimizer', async () => (await http('optimizer', 'GET', '/v1/budgets/pool:code_gen')).body.reservedMicros === 0, { timeoutMs: 60_000 });
    return replicas;
  };
  const sagaEnd = (sagaId: string) =>
    waitFor(`saga ${sagaId} to end`, () => ofType<ScaleSagaCompleted>('ScaleSagaCompleted').find((s) => s.sagaId === sagaId) ?? ofType<ScaleSagaCompensated>('ScaleSagaCompensated').find((s) => s.sagaId === sagaId), { timeoutMs: 120_000 });

  it('refuses a bad policy naming each field', async () => {
    const bad = await http('scaler', 'PUT', '/v1/pools/code_gen/policy', { minReplicas: 5, maxReplicas: 2, metrics: [{ metric: 'astrology', target: -1 }] });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('INVALID_POLICY');
    const fields = (bad.body.problems as { field: string }[]).map((p) => p.field);
    expect(fields).toEqual(expect.arrayContaining(['metrics[0].metric', 'metrics[0].target']));
    expect((await http('scaler', 'PUT', '/v1/pools/code_gen/policy', { template: 'fortune-telling' })).body).toMatchObject({ code: 'INVALID_POLICY', problems: [{ field: 'template' }] });
  });

  it('scales up through a completed saga on a load step, drains the backlog, and scales back down after its window, each task run once', async () => {
    await waitFor('the initial worker', async () => (await aliveWorkers()) === 1, { timeoutMs: 60_000 });
    const set = await http('scaler', 'PUT', '/v1/pools/code_gen/policy', policy);
    expect(set.status).toBe(200);
    expect(set.body).toMatchObject({ agentType: 'code_gen', policy: { version: 1, maxReplicas: 3 } });

    const load = Array.from({ length: 30 }, () => driver.dispatch('code_gen', 800));
    await driver.send(load);
    const up = await waitFor('a completed scale-up saga', () => ofType<ScaleSagaCompleted>('ScaleSagaCompleted').find((s) => s.direction === 'up'), { timeoutMs: 90_000 });
    const decision = ofType<ScalingDecisionRecorded>('ScalingDecisionRecorded').find((d) => d.sagaId === up.sagaId)!;
    expect(decision).toMatchObject({ direction: 'up', mode: 'act', currentReplicas: 1 });
    expect(JSON.parse(decision.snapshot).backlog).toBeGreaterThan(0);
    // The new workers really exist, as the agent pool's record says.
    expect(await aliveWorkers()).toBe(up.toReplicas);
    expect(commands.events.some((c) => c.payload.requestId === `${up.sagaId}:scale` && c.payload.replicas === up.toReplicas)).toBe(true);

    const ids = new Set(load.map((d) => d.executionId));
    await waitFor('the backlog to drain', () => new Set(taskEvents.of<TaskCompleted>('flotilla.task.TaskCompleted').filter((c) => ids.has(c.executionId)).map((c) => c.executionId)).size === ids.size, { timeoutMs: 90_000 });
    const down = await waitFor('a completed scale-down saga', () => ofType<ScaleSagaCompleted>('ScaleSagaCompleted').find((s) => s.direction === 'down' && s.toReplicas === 1), { timeoutMs: 90_000 });
    expect(down.fromReplicas).toBeGreaterThan(1);
    await waitFor('one worker process left', async () => (await aliveWorkers()) === 1, { timeoutMs: 60_000 });
    await taskEvents.caughtUp();
    const starts = taskEvents.of<TaskStarted>('flotilla.task.TaskStarted').filter((s) => ids.has(s.executionId));
    expect(starts).toHaveLength(ids.size);
  });

  it('denies a scale-up past the pool\'s budget: no provisioning, a denial event and an alert', async () => {
    expect((await http('optimizer', 'PUT', '/v1/budgets/pool:code_gen', { period: 'daily', amountMicros: 1 })).status).toBe(200);
    const before = commands.events.length;
    const load = Array.from({ length: 16 }, () => driver.dispatch('code_gen', 300));
    await driver.send(load);
    const denied = await waitFor('a denied scale action', () => ofType<ScaleActionDenied>('ScaleActionDenied')[0], { timeoutMs: 60_000 });
    expect(denied).toMatchObject({ agentType: 'code_gen', budgetId: 'pool:code_gen', fromReplicas: 1 });
    expect(denied.reason).toMatch(/available/);
    await waitFor('the denial\'s alert', () => alerts.events.some((a) => a.payload.kind === 'scale_denied'));
    await commands.caughtUp();
    expect(commands.events.slice(before).filter((c) => c.payload.requestId === `${denied.sagaId}:scale`)).toEqual([]);
    expect(await aliveWorkers()).toBe(1);
    // The one worker gets through the load by itself.
    const ids = new Set(load.map((d) => d.executionId));
    await waitFor('the load to be done by the one worker', () => new Set(taskEvents.of<TaskCompleted>('flotilla.task.TaskCompleted').filter((c) => ids.has(c.executionId)).map((c) => c.executionId)).size === ids.size, { timeoutMs: 60_000 });
  });

  it('holds an override until its expiry, then the policy resumes', async () => {
    // The pool's budget would deny a scale-up: raise it so that only the override decides.
    expect((await http('optimizer', 'PUT', '/v1/budgets/pool:code_gen', { period: 'daily', amountMicros: 1_000_000_000 })).status).toBe(200);
    expect(await expectBalanced()).toBe(1);
    const set = await http('scaler', 'PUT', '/v1/pools/code_gen/override', { replicas: 2, reason: 'launch', durationSeconds: 8 });
    expect(set.status).toBe(200);
    const held = await waitFor('the override to be carried out', () => ofType<ScaleSagaCompleted>('ScaleSagaCompleted').find((s) => s.toReplicas === 2 && s.direction === 'up'), { timeoutMs: 60_000 });
    overrideSagaId = held.sagaId;
    // Reserved at the optimizer's price for a code_gen worker, for the saga's hour.
    const started = ofType<ScaleSagaStarted>('ScaleSagaStarted').find((s) => s.sagaId === held.sagaId);
    expect(started).toMatchObject({ workerHourPriceMicros: CODE_GEN_WORKER_HOUR_MICROS, amountMicros: CODE_GEN_WORKER_HOUR_MICROS, horizonMs: 3_600_000 });
    expect(await aliveWorkers()).toBe(2);
    await waitFor('the override to expire', () => ofType<{ reason: string }>('ScalingOverrideCleared').some((c) => c.reason === 'expired'), { timeoutMs: 30_000 });
    const resumed = await waitFor('the policy to take the pool back to one worker', () => ofType<ScaleSagaCompleted>('ScaleSagaCompleted').find((s) => s.direction === 'down' && s.toReplicas === 1 && s.completedAt > held.completedAt), { timeoutMs: 60_000 });
    expect(resumed.fromReplicas).toBe(2);
  });

  it('finishes a saga whose scaler was SIGKILLed mid-way: replicas match the record, reservations balance', async () => {
    await waitFor('the pool back at one worker', async () => (await expectBalanced()) === 1, { timeoutMs: 120_000 });
    const before = ofType<ScaleSagaStarted>('ScaleSagaStarted').length;
    await driver.send(Array.from({ length: 30 }, () => driver.dispatch('code_gen', 800)));
    const started = await waitFor('a scale-up saga to start', () => ofType<ScaleSagaStarted>('ScaleSagaStarted').slice(before).find((s) => s.direction === 'up'), { timeoutMs: 60_000, intervalMs: 50 });
    await flotilla.process('scaler').kill('SIGKILL');
    await flotilla.process('scaler').start();
    const end = await sagaEnd(started.sagaId);
    expect(end).toMatchObject({ agentType: 'code_gen', sagaId: started.sagaId });
    await expectBalanced();
  });

  it('finishes or compensates a saga whose agent pool was SIGKILLed mid-provisioning: replicas match the record, reservations balance', async () => {
    // Back at one worker once the last load is done (the policy's window is 3 s).
    await waitFor('the pool back at one worker', async () => (await expectBalanced()) === 1, { timeoutMs: 120_000 });
    const before = ofType<ScaleSagaStarted>('ScaleSagaStarted').length;
    await driver.send(Array.from({ length: 40 }, () => driver.dispatch('code_gen', 800)));
    const started = await waitFor('a scale-up saga to start', () => ofType<ScaleSagaStarted>('ScaleSagaStarted').slice(before).find((s) => s.direction === 'up'), { timeoutMs: 60_000, intervalMs: 50 });
    await waitFor('its replicas to be accepted', () => scaling.events.some((e) => e.type === 'flotilla.scaling.ScaleReplicasAccepted' && (e.payload as { sagaId: string }).sagaId === started.sagaId), { timeoutMs: 30_000, intervalMs: 50 });
    await flotilla.process('agent-pool').kill('SIGKILL');
    await flotilla.process('agent-pool').start();
    await sagaEnd(started.sagaId);
    await expectBalanced();
  });

  it('follows a saga in one Jaeger trace across the scaler, the optimizer and the agent pool', async () => {
    // (A saga whose process was SIGKILLed loses the spans it had not exported yet: the override's is whole.)
    const sagaId = overrideSagaId;
    expect(ofType<ScaleSagaCompleted>('ScaleSagaCompleted').find((s) => s.sagaId === sagaId)?.reservationId).toBe(sagaId);
    type JaegerTrace = { traceID: string; processes: Record<string, { serviceName: string }> };
    const services = await waitFor('the saga\'s trace with spans of the three services', async () => {
      const tags = encodeURIComponent(JSON.stringify({ 'flotilla.saga_id': sagaId }));
      const found = (await (await fetch(`${stack.jaegerUrl}/api/traces?service=scaler&operation=scale.saga&tags=${tags}&limit=5&lookback=1h`)).json()) as { data: JaegerTrace[] };
      if (!found.data?.[0]) return undefined;
      const trace = (await (await fetch(`${stack.jaegerUrl}/api/traces/${found.data[0].traceID}`)).json()) as { data: JaegerTrace[] };
      const names = new Set(Object.values(trace.data[0].processes).map((p) => p.serviceName));
      return ['scaler', 'optimizer', 'agent-pool'].every((s) => names.has(s)) ? names : undefined;
    }, { timeoutMs: 60_000, intervalMs: 1_000 });
    expect([...services]).toEqual(expect.arrayContaining(['scaler', 'optimizer', 'agent-pool']));
  });
});

/** A pool whose new workers cannot start: the saga rolls the replicas back and releases its reservation. */
describe('scaler: a worker that cannot start', () => {
  let flotilla: Flotilla<'agent-pool' | 'optimizer' | 'scaler'>;
  let driver: EventDriver;
  let scaling: TopicTail<Record<string, unknown>>;
  let ops = '';

  beforeAll(async () => {
    ops = await token({ role: 'ops' });
    flotilla = await startFlotilla({
      namespacePrefix: 'sclf',
      services: ['agent-pool', 'optimizer', 'scaler'],
      executors: { default: { type: 'synthetic' } },
      settings: {
        // No worker to begin with, and every worker refused at boot (a slot count of 0 is not a configuration).
        'agent-pool': { AGENT_TYPES: 'code_gen', PROVISIONED_AGENT_TYPES: 'code_gen', POOL_INITIAL_REPLICAS: '0', POOL_MAX_REPLICAS: '3', PROVISIONER_INTERVAL_MS: '200', WORKER_ENV: JSON.stringify({ POOL_SLOTS_PER_WORKER: '0' }) },
        scaler: { SCALED_AGENT_TYPES: 'code_gen', SCALER_INTERVAL_MS: '1000' },
      },
    });
    driver = new EventDriver(flotilla.namespace);
    await driver.connect();
    scaling = await driver.tail('flotilla.scaling');
  });
  afterAll(async () => {
    await scaling?.stop();
    await driver?.disconnect();
    await flotilla?.stop();
  });

  const http = async (service: 'scaler' | 'optimizer', method: string, url: string, body?: unknown) => {
    const response = await fetch(`${flotilla.url(service)}${url}`, { method, headers: { authorization: `Bearer ${ops}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  it('rolls the replicas back and releases the reservation', async () => {
    expect((await http('optimizer', 'PUT', '/v1/budgets/pool:code_gen', { period: 'daily', amountMicros: 1_000_000_000 })).status).toBe(200);
    // From zero: the group's lag is what wakes the pool.
    expect((await http('scaler', 'PUT', '/v1/pools/code_gen/policy', { minReplicas: 0, maxReplicas: 2, metrics: [{ metric: 'backlog_per_worker', target: 2 }], behavior: { scaleUp: { policies: [{ type: 'Pods', value: 2, periodSeconds: 15 }] } } })).status).toBe(200);
    await driver.send(Array.from({ length: 4 }, () => driver.dispatch('code_gen', 100)));
    const compensated = await waitFor('the saga to compensate', () => scaling.events.find((e) => e.type === 'flotilla.scaling.ScaleSagaCompensated')?.payload as unknown as ScaleSagaCompensated | undefined, { timeoutMs: 90_000 });
    expect(compensated).toMatchObject({ agentType: 'code_gen', direction: 'up', fromReplicas: 0, failedStep: 'ready', cause: 'worker_failed' });
    expect(compensated.compensations.map((c) => [c.step, c.outcome])).toEqual([['roll_back_replicas', 'done'], ['release_budget', 'done']]);
    await waitFor('nothing reserved at the optimizer', async () => (await http('optimizer', 'GET', '/v1/budgets/pool:code_gen')).body.reservedMicros === 0);
  });
});
