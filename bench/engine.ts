// The engine under benchmark: a real orchestrator and agent pool as processes on the stack, zero-
// duration synthetic tasks, executions submitted to Kafka as any producer would, and completions
// watched on the executions topic. Used by bench:engine and bench:bullmq.
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { EVENT_SCHEMAS, type ExecutionRequested } from '@flotilla/contracts';
import { ServiceProcess, stack, uniqueNamespace } from '@flotilla/testing';
import { Kafka, logLevel, Partitioners, type Consumer, type Producer } from 'kafkajs';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Pool } from 'pg';
import { percentile } from './support';

export interface Result {
  readonly perSecond: number;
  readonly p50: number;
  readonly p99: number;
}

export interface EngineOptions {
  /** Traces exported to Jaeger (the default, as deployed) or no tracing at all. */
  readonly tracing?: boolean;
  readonly poolConcurrency?: number;
}

export class Engine {
  private readonly completedAt = new Map<string, number>();
  private readonly kafka = new Kafka({ clientId: 'bench-engine', brokers: stack.kafkaBrokers, logLevel: logLevel.NOTHING });
  private readonly producer: Producer = this.kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  private watcher: Consumer | null = null;
  private schemaId = 0;
  private readonly registry = new SchemaRegistry({ host: stack.registryUrl });

  /** Highest resident set size seen per service, sampled while the engine runs. */
  private readonly peakRss = new Map<string, number>();
  private readonly rssSampler: NodeJS.Timeout;

  private constructor(
    readonly namespace: string,
    private readonly services: readonly ServiceProcess[],
  ) {
    this.rssSampler = setInterval(() => {
      for (const [name, rss] of this.rss()) this.peakRss.set(name, Math.max(rss, this.peakRss.get(name) ?? 0));
    }, 100).unref();
  }

  /** Resident set size of each service now, in bytes (Linux: /proc). */
  rss(): Map<string, number> {
    const sizes = new Map<string, number>();
    for (const service of this.services) {
      try {
        const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${service.pid}/status`, 'utf8'));
        if (kb) sizes.set(service.name, Number(kb[1]) * 1024);
      } catch {
        // Not running, or not Linux: no figure.
      }
    }
    return sizes;
  }

  /** The highest resident set size each service reached so far, in bytes. */
  peakRssBytes(): Map<string, number> {
    return new Map(this.peakRss);
  }

  static async start({ tracing = true, poolConcurrency = 64 }: EngineOptions = {}): Promise<Engine> {
    const namespace = uniqueNamespace('bench');
    const env: Record<string, string> = {
      FLOTILLA_NAMESPACE: namespace,
      SYNTHETIC_MIN_DURATION_MS: '0',
      SYNTHETIC_MAX_DURATION_MS: '0',
      POOL_CONCURRENCY: String(poolConcurrency),
      LOG_LEVEL: 'error',
      ADMISSION_CAPACITY: '10000',
      ADMISSION_PER_CUSTOMER_LIMIT: '10000',
      ...(tracing ? {} : { OTEL_SDK_DISABLED: 'true' }),
    };
    // BENCH_CPU_PROFILE_DIR=dir: each service writes a V8 CPU profile there when it stops (Chrome DevTools or speedscope open it).
    const nodeArgs = process.env.BENCH_CPU_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROFILE_DIR}`] : [];
    const port = 40_000 + Math.floor(Math.random() * 10_000);
    const services = [new ServiceProcess('orchestrator', port, env, { nodeArgs }), new ServiceProcess('agent-pool', port + 1, env, { nodeArgs })];
    for (const service of services) await service.start();
    const engine = new Engine(namespace, services);
    Engine.running.add(engine);
    await engine.connect();
    return engine;
  }

  private static readonly running = new Set<Engine>();

  /** Stops every engine still running: a benchmark that fails must not leave its services behind. */
  static async stopAll(): Promise<void> {
    await Promise.all([...Engine.running].map((engine) => engine.stop()));
  }

  private async connect(): Promise<void> {
    await this.producer.connect();
    ({ id: this.schemaId } = await this.registry.register(
      { type: SchemaType.AVRO, schema: JSON.stringify(EVENT_SCHEMAS['flotilla.execution.ExecutionRequested']) },
      { subject: 'flotilla.execution.ExecutionRequested' },
    ));
    const watcher = this.kafka.consumer({ groupId: `${this.namespace}-watch`, maxWaitTimeInMs: 10 });
    await watcher.connect();
    await watcher.subscribe({ topic: `${this.namespace}.flotilla.executions`, fromBeginning: true });
    await watcher.run({
      eachMessage: async ({ message }) => {
        if (message.headers?.['flotilla-event-type']?.toString() === 'flotilla.execution.ExecutionCompleted') this.completedAt.set(message.key!.toString(), performance.now());
      },
    });
    this.watcher = watcher;
  }

  /** Every execution submitted at once; throughput is executions over the time until the last one completed. */
  async burst(tasksPerExecution: number, executions: number): Promise<Result> {
    const requests = this.requests(tasksPerExecution, executions);
    const messages = await this.encode(requests);
    const submittedAt = performance.now();
    await this.producer.send({ topic: this.requestTopic, acks: -1, messages });
    await this.allCompleted(requests);
    const latencies = requests.map((r) => this.completedAt.get(r.executionId)! - submittedAt).sort((a, b) => a - b);
    return { perSecond: executions / (latencies[latencies.length - 1] / 1000), p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
  }

  /**
   * Executions submitted at a steady `perSecond`, in small groups every 10 ms (not a burst): the
   * latency each one sees from its own submission to its completion, under a load the engine keeps up with.
   */
  async paced(tasksPerExecution: number, perSecond: number, executions: number): Promise<Result> {
    const requests = this.requests(tasksPerExecution, executions);
    const messages = await this.encode(requests);
    const submittedAt = new Map<string, number>();
    const tickMs = 10;
    const started = performance.now();
    for (let sent = 0; sent < messages.length; ) {
      const due = Math.min(messages.length, Math.floor(((performance.now() - started) / 1000) * perSecond) + 1);
      if (due > sent) {
        const group = messages.slice(sent, due);
        const at = performance.now();
        for (const m of group) submittedAt.set(m.key, at);
        await this.producer.send({ topic: this.requestTopic, acks: -1, messages: group });
        sent = due;
      }
      await new Promise((resolve) => setTimeout(resolve, tickMs)); // pacing: the submission schedule itself
    }
    await this.allCompleted(requests);
    const latencies = requests.map((r) => this.completedAt.get(r.executionId)! - submittedAt.get(r.executionId)!).sort((a, b) => a - b);
    return { perSecond: executions / ((performance.now() - started) / 1000), p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
  }

  /** PostgreSQL's synchronous_commit as the services' database runs it. */
  static async synchronousCommit(): Promise<string> {
    const pool = new Pool({ connectionString: stack.databaseUrl, max: 1 });
    try {
      return (await pool.query('SHOW synchronous_commit')).rows[0].synchronous_commit;
    } finally {
      await pool.end();
    }
  }

  async stop(): Promise<void> {
    Engine.running.delete(this);
    clearInterval(this.rssSampler);
    await this.watcher?.disconnect();
    await this.producer.disconnect();
    await Promise.all(this.services.map((s) => s.stop()));
  }

  private get requestTopic(): string {
    return `${this.namespace}.flotilla.execution-requests`;
  }

  private requests(tasksPerExecution: number, executions: number): ExecutionRequested[] {
    return Array.from({ length: executions }, () => ({
      executionId: randomUUID(),
      customerId: `customer-${Math.floor(Math.random() * 20)}`,
      kind: 'bench',
      tasks: Array.from({ length: tasksPerExecution }, (_, i) => ({ taskId: `t${i}`, agentType: 'code_gen', dependsOn: i === 0 ? [] : [`t${i - 1}`], input: {} })),
      contractValue: null,
      deadlineAt: null,
      tier: null,
      requestedAt: Date.now(),
    }));
  }

  private encode(requests: readonly ExecutionRequested[]): Promise<Array<{ key: string; value: Buffer }>> {
    return Promise.all(requests.map(async (r) => ({ key: r.executionId, value: await this.registry.encode(this.schemaId, r) })));
  }

  private async allCompleted(requests: readonly ExecutionRequested[]): Promise<void> {
    const deadline = Date.now() + 300_000;
    while (requests.some((r) => !this.completedAt.has(r.executionId))) {
      if (Date.now() > deadline) throw new Error('executions did not all complete within 5 minutes');
      await new Promise((resolve) => setTimeout(resolve, 20)); // polling the watcher's map
    }
  }
}
