import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { EVENT_SCHEMAS, type ExecutionRequested } from '@flotilla/contracts';
import { DEAD_LETTER_HEADERS } from '@flotilla/messaging';
import { randomUUID } from 'node:crypto';
import type { Producer } from 'kafkajs';
import { token } from './support/tokens';
import { readTopic, stack, startFlotilla, testKafka, testPool, waitFor, type Flotilla } from '@flotilla/testing';

/**
 * Black box: requests go in through Kafka from a plain kafkajs producer, answers come out of the
 * projection's HTTP API, the Kafka topics and Jaeger's query API.
 */
describe('walking skeleton: orchestrator -> agent-pool -> projection', () => {
  const kafka = testKafka('e2e-producer');
  const registry = new SchemaRegistry({ host: stack.registryUrl });
  const pool = testPool();
  let flotilla: Flotilla<'orchestrator' | 'agent-pool' | 'projection'>;
  let producer: Producer;
  let requestSchemaId: number;

  const topic = (name: string) => flotilla.topic(name);

  let opsToken = '';
  beforeAll(async () => {
    opsToken = await token({ role: 'ops' });
    flotilla = await startFlotilla({
      namespacePrefix: 'e2e',
      services: ['orchestrator', 'agent-pool', 'projection'],
      // Admission at a capacity of 20 (default per-customer cap): the 200 executions queue and drain through it.
      settings: { all: { SYNTHETIC_MIN_DURATION_MS: '5', SYNTHETIC_MAX_DURATION_MS: '30', ADMISSION_CAPACITY: '20', RATE_LIMIT_PER_SECOND: '10000' } },
    });
    producer = kafka.producer();
    await producer.connect();
    requestSchemaId = (
      await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(EVENT_SCHEMAS['flotilla.execution.ExecutionRequested']) }, { subject: 'flotilla.execution.ExecutionRequested' })
    ).id;
  });

  afterAll(async () => {
    await producer?.disconnect();
    await flotilla?.stop();
    await pool.end();
  });

  /** Requests go to five customers in turn. */
  let requests = 0;
  function request(overrides: Partial<ExecutionRequested> = {}): ExecutionRequested {
    return {
      executionId: randomUUID(),
      customerId: `customer-${requests++ % 5}`,
      kind: 'code_generation',
      tasks: [{ taskId: 'generate', agentType: 'code_gen', dependsOn: [], input: { prompt: 'hello' } }],
      contractValue: null,
      deadlineAt: null,
      tier: null,
      requestedAt: Date.now(),
      ...overrides,
    };
  }

  async function submit(requests: ExecutionRequested[]): Promise<void> {
    const messages = await Promise.all(requests.map(async (r) => ({ key: r.executionId || 'no-id', value: await registry.encode(requestSchemaId, r) })));
    await producer.send({ topic: topic('flotilla.execution-requests'), acks: -1, messages });
  }

  async function getExecution(id: string): Promise<{ status: string; reasons: string[]; tasks: { status: string }[] } | undefined> {
    const response = await fetch(`${flotilla.url('projection')}/v1/executions/${id}`, { headers: { authorization: `Bearer ${opsToken}` } });
    return response.ok ? ((await response.json()) as { status: string; reasons: string[]; tasks: { status: string }[] }) : undefined;
  }

  it('follows one execution through all three services in a single Jaeger trace', async () => {
    const r = request();
    await submit([r]);
    const view = await waitFor('the execution to complete', async () => {
      const execution = await getExecution(r.executionId);
      return execution?.status === 'completed' ? execution : undefined;
    });
    expect(view.tasks).toEqual([expect.objectContaining({ status: 'completed' })]);

    type JaegerTrace = { traceID: string; processes: Record<string, { serviceName: string }>; spans: { operationName: string }[] };
    const services = await waitFor(
      'the trace to reach Jaeger with spans of the three services',
      async () => {
        const tags = encodeURIComponent(JSON.stringify({ 'flotilla.correlation_id': r.executionId }));
        const found = (await (await fetch(`${stack.jaegerUrl}/api/traces?service=orchestrator&tags=${tags}&limit=20&lookback=1h`)).json()) as { data: JaegerTrace[] };
        // The trace that starts where the request was consumed must reach all three services.
        const root = found.data?.find((t) => t.spans.some((s) => s.operationName === 'kafka.consume flotilla.execution.ExecutionRequested'));
        if (!root) return undefined;
        const trace = (await (await fetch(`${stack.jaegerUrl}/api/traces/${root.traceID}`)).json()) as { data: JaegerTrace[] };
        const names = new Set(Object.values(trace.data[0].processes).map((p) => p.serviceName));
        return ['orchestrator', 'agent-pool', 'projection'].every((s) => names.has(s)) ? names : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 1_000 },
    );
    expect([...services].sort()).toEqual(['agent-pool', 'orchestrator', 'projection']);
  });

  it('rejects an invalid request with the reason, and dead-letters undecodable bytes, without stopping', async () => {
    const invalid = request({ customerId: null, tasks: [{ taskId: 't', agentType: 'fortune_telling', dependsOn: [], input: {} }] });
    await submit([invalid]);
    await producer.send({ topic: topic('flotilla.execution-requests'), messages: [{ key: 'garbage', value: Buffer.from('definitely not avro') }] });
    const valid = request();
    await submit([valid]);

    const rejected = await waitFor('the rejection', async () => {
      const execution = await getExecution(invalid.executionId);
      return execution?.status === 'rejected' ? execution : undefined;
    });
    expect(rejected.reasons).toEqual(expect.arrayContaining(['customerId is required', 'tasks[0].agentType "fortune_telling" is not a known agent type']));
    await waitFor('the valid request after the bad ones to complete', async () => (await getExecution(valid.executionId))?.status === 'completed');

    const deadLetters = await readTopic(kafka, topic('flotilla.orchestrator.requests.dlq'), (ms) => ms.some((m) => m.key?.toString() === 'garbage'));
    const garbage = deadLetters.find((m) => m.key?.toString() === 'garbage')!;
    expect(garbage.headers![DEAD_LETTER_HEADERS.errorCode]!.toString()).toBe('UNDECODABLE_MESSAGE');
  });

  it('completes 200 executions exactly once while the orchestrator is SIGKILLed mid-run and restarted', async () => {
    const requests = Array.from({ length: 200 }, () => request());
    const ids = new Set(requests.map((r) => r.executionId));
    await submit(requests);

    const completedCount = async () =>
      Number(
        (await pool.query(`SELECT count(*) FROM ${flotilla.schema('projection')}.executions WHERE execution_id = ANY($1) AND status = 'completed'`, [[...ids]])).rows[0].count,
      );
    await waitFor('some executions to complete before the crash', async () => (await completedCount()) >= 20, { timeoutMs: 120_000 });
    await flotilla.process('orchestrator').kill('SIGKILL');
    const completedAtCrash = await completedCount();
    await flotilla.process('orchestrator').start();

    await waitFor('all 200 executions to complete', async () => (await completedCount()) === 200, { timeoutMs: 300_000, intervalMs: 500 });
    expect(completedAtCrash).toBeLessThan(200);

    const statuses = (await pool.query(`SELECT status, count(*)::int AS n FROM ${flotilla.schema('projection')}.executions WHERE execution_id = ANY($1) GROUP BY status`, [[...ids]])).rows;
    expect(statuses).toEqual([{ status: 'completed', n: 200 }]);

    // Exactly one completion event per execution: a relay republish after the crash repeats an event id, never a new completion.
    const completions = new Map<string, Set<string>>();
    await readTopic(kafka, topic('flotilla.executions'), (messages) => {
      for (const m of messages.splice(0)) {
        if (m.headers?.['flotilla-event-type']?.toString() !== 'flotilla.execution.ExecutionCompleted') continue;
        const id = m.key!.toString();
        if (!ids.has(id)) continue;
        completions.set(id, (completions.get(id) ?? new Set()).add(m.headers['flotilla-event-id']!.toString()));
      }
      return completions.size === 200;
    }, 120_000);
    expect(completions.size).toBe(200);
    expect([...completions.values()].filter((eventIds) => eventIds.size !== 1)).toEqual([]);
  });

  it('exposes Prometheus metrics of executions, tasks and HTTP requests', async () => {
    // An execution of its own, read through the API, so that the counters below do not depend on the tests before.
    const r = request();
    await submit([r]);
    await waitFor('the execution to complete', async () => (await getExecution(r.executionId))?.status === 'completed');
    const orchestratorMetrics = await (await fetch(`${flotilla.url('orchestrator')}/metrics`)).text();
    const completedCount = Number(/workflow_execution_duration_seconds_count\{[^}]*outcome="completed"[^}]*\} (\d+)/.exec(orchestratorMetrics)?.[1] ?? 0);
    expect(completedCount).toBeGreaterThan(0); // since the restart: the executions it completed itself
    const poolMetrics = await (await fetch(`${flotilla.url('agent-pool')}/metrics`)).text();
    expect(poolMetrics).toMatch(/agent_task_duration_seconds_count\{[^}]*agent_type="code_gen"[^}]*outcome="completed"[^}]*\} [1-9]/);
    const projectionMetrics = await (await fetch(`${flotilla.url('projection')}/metrics`)).text();
    expect(projectionMetrics).toMatch(/http_request_duration_seconds_count\{[^}]*route="\/v1\/executions\/:id"[^}]*status="200"[^}]*\} [1-9]/);
  });
});
