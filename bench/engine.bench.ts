// npm run bench:engine — executions/s and submit->complete latency for 1-task and 3-task synthetic
// executions (zero-duration tasks) through the real orchestrator and agent pool, next to raw kafkajs
// produce->consume measured in the same run on the same broker.
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { EVENT_SCHEMAS, type ExecutionRequested } from '@flotilla/contracts';
import { ensureTopics } from '@flotilla/messaging';
import { ServiceProcess, stack, uniqueNamespace } from '@flotilla/testing';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { randomUUID } from 'node:crypto';
import { ensureStack, fmt, percentile } from './support';

const EXECUTIONS = Number(process.env.BENCH_EXECUTIONS ?? 300);

interface Result {
  readonly perSecond: number;
  readonly p50: number;
  readonly p99: number;
}

async function main() {
  await ensureStack();
  const namespace = uniqueNamespace('bench');
  const env = { FLOTILLA_NAMESPACE: namespace, SYNTHETIC_MIN_DURATION_MS: '0', SYNTHETIC_MAX_DURATION_MS: '0', POOL_CONCURRENCY: '64', LOG_LEVEL: 'error', ADMISSION_CAPACITY: '10000', ADMISSION_PER_CUSTOMER_LIMIT: '10000' };
  const port = 40_000 + Math.floor(Math.random() * 10_000);
  // BENCH_CPU_PROFILE_DIR=dir: each service writes a V8 CPU profile there when it stops (open in Chrome DevTools or speedscope).
  const nodeArgs = process.env.BENCH_CPU_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROFILE_DIR}`] : [];
  const orchestrator = new ServiceProcess('orchestrator', port, env, { nodeArgs });
  const agentPool = new ServiceProcess('agent-pool', port + 1, env, { nodeArgs });
  await orchestrator.start();
  await agentPool.start();

  const kafka = new Kafka({ clientId: 'bench-engine', brokers: stack.kafkaBrokers, logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const registry = new SchemaRegistry({ host: stack.registryUrl });
  const { id } = await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(EVENT_SCHEMAS['flotilla.execution.ExecutionRequested']) }, { subject: 'flotilla.execution.ExecutionRequested' });

  // Completions are observed on the executions topic, as any consumer would see them.
  const completedAt = new Map<string, number>();
  const watcher = kafka.consumer({ groupId: `${namespace}-watch`, maxWaitTimeInMs: 10 });
  await watcher.connect();
  await watcher.subscribe({ topic: `${namespace}.flotilla.executions`, fromBeginning: true });
  await watcher.run({
    eachMessage: async ({ message }) => {
      if (message.headers?.['flotilla-event-type']?.toString() === 'flotilla.execution.ExecutionCompleted') completedAt.set(message.key!.toString(), performance.now());
    },
  });

  async function engineRun(tasksPerExecution: number): Promise<Result> {
    const requests: ExecutionRequested[] = Array.from({ length: EXECUTIONS }, () => ({
      executionId: randomUUID(),
      customerId: `customer-${Math.floor(Math.random() * 20)}`,
      kind: 'bench',
      tasks: Array.from({ length: tasksPerExecution }, (_, i) => ({ taskId: `t${i}`, agentType: 'code_gen', dependsOn: i === 0 ? [] : [`t${i - 1}`], input: {} })),
      contractValue: null,
      deadlineAt: null,
      tier: null,
      requestedAt: Date.now(),
    }));
    const messages = await Promise.all(requests.map(async (r) => ({ key: r.executionId, value: await registry.encode(id, r) })));
    const submittedAt = performance.now();
    await producer.send({ topic: `${namespace}.flotilla.execution-requests`, acks: -1, messages });
    const deadline = Date.now() + 300_000;
    while (requests.some((r) => !completedAt.has(r.executionId))) {
      if (Date.now() > deadline) throw new Error('executions did not all complete within 5 minutes');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const latencies = requests.map((r) => completedAt.get(r.executionId)! - submittedAt).sort((a, b) => a - b);
    return { perSecond: EXECUTIONS / (latencies[latencies.length - 1] / 1000), p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
  }

  async function rawRun(): Promise<Result> {
    const topic = `${namespace}.raw-roundtrip`;
    await ensureTopics(kafka, [{ name: topic, partitions: 6, retentionMs: 3_600_000, compacted: false }]);
    const received = new Map<string, number>();
    const consumer = kafka.consumer({ groupId: `${namespace}-raw`, maxWaitTimeInMs: 10 });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void received.set(message.key!.toString(), performance.now()) });
    const keys = Array.from({ length: EXECUTIONS }, () => randomUUID());
    const sentAt = performance.now();
    await producer.send({ topic, acks: -1, messages: keys.map((key) => ({ key, value: Buffer.alloc(200) })) });
    while (received.size < keys.length) await new Promise((resolve) => setTimeout(resolve, 5));
    await consumer.disconnect();
    const latencies = keys.map((k) => received.get(k)! - sentAt).sort((a, b) => a - b);
    return { perSecond: EXECUTIONS / (latencies[latencies.length - 1] / 1000), p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
  }

  await engineRun(1); // warm-up: JIT, connections, consumer groups settled
  const raw = await rawRun();
  const one = await engineRun(1);
  const three = await engineRun(3);

  const line = (name: string, r: Result) =>
    `  ${name.padEnd(34)} ${fmt(r.perSecond, 1).padStart(9)}/s   p50 ${fmt(r.p50, 0).padStart(6)} ms   p99 ${fmt(r.p99, 0).padStart(6)} ms   ` +
    `(throughput ${fmt(r.perSecond / raw.perSecond, 3)}x raw, p50 ${fmt(r.p50 / raw.p50, 1)}x raw)`;
  console.log(`\nengine benchmark: ${EXECUTIONS} executions submitted at once, zero-duration synthetic tasks, pool concurrency 64`);
  console.log(`  ${'raw kafkajs produce->consume'.padEnd(34)} ${fmt(raw.perSecond, 1).padStart(9)}/s   p50 ${fmt(raw.p50, 0).padStart(6)} ms   p99 ${fmt(raw.p99, 0).padStart(6)} ms`);
  console.log(line('1-task executions', one));
  console.log(line('3-task executions (chain)', three));

  await watcher.disconnect();
  await producer.disconnect();
  await Promise.all([orchestrator.stop(), agentPool.stop()]);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
