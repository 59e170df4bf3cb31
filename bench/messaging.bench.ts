// npm run bench:messaging — throughput of our producer and outbox relay against raw kafkajs, and raw
// produce->consume latency, all measured in this one process on the real stack. Each throughput figure
// is the median of several rounds; ratios compare medians.
import { ensureTopics, EventPublisher, AvroSerde, type OutgoingEvent } from '@flotilla/messaging';
import { OutboxRelay, PostgresEventStore, schemaName, type OutboxMessage } from '@flotilla/event-store';
import { Kafka, logLevel } from 'kafkajs';
import { Pool } from 'pg';
import { ensureStack, fmt, median, percentile } from './support';

const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 20_000);
const BATCH = 500;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const LATENCY_SAMPLES = Number(process.env.BENCH_LATENCY_SAMPLES ?? 300);

const SCHEMA = {
  type: 'record',
  name: 'BenchEvent',
  namespace: 'flotilla.bench',
  fields: [
    { name: 'executionId', type: 'string' },
    { name: 'taskId', type: 'string' },
    { name: 'attempt', type: 'int' },
    { name: 'agentType', type: 'string' },
    { name: 'output', type: { type: 'map', values: 'string' } },
    { name: 'at', type: 'long' },
  ],
};

const payload = (i: number) => ({ executionId: `exec-${i % 1000}`, taskId: `task-${i}`, attempt: 1, agentType: 'code_gen', output: { summary: 'x'.repeat(64) }, at: Date.now() });

async function main() {
  await ensureStack();
  const run = `bench${Date.now().toString(36)}`;
  const kafka = new Kafka({ clientId: 'bench', brokers: process.env.KAFKA_BROKERS!.split(','), logLevel: logLevel.NOTHING });
  const topic = (name: string) => `${run}.${name}`;
  await ensureTopics(kafka, ['raw', 'avro', 'relay', 'latency'].map((n) => ({ name: topic(n), partitions: 6, retentionMs: 3_600_000, compacted: false })));

  const serde = AvroSerde.create(process.env.SCHEMA_REGISTRY_URL!, { 'flotilla.bench.BenchEvent': SCHEMA });
  await serde.registerAll();
  const raw = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await raw.connect();
  const publisher = new EventPublisher(kafka, serde);
  await publisher.connect();

  const envelopes = (n: number, t: string): OutgoingEvent[] =>
    Array.from({ length: n }, (_, i) => ({
      topic: t,
      key: `exec-${i % 1000}`,
      envelope: { eventId: `${run}-${i}`, eventType: 'flotilla.bench.BenchEvent', aggregateId: `exec-${i % 1000}`, aggregateVersion: i, occurredAt: Date.now(), correlationId: 'bench', causationId: null, traceparent: null, tracestate: null, payload: payload(i) },
    }));

  // 1. raw kafkajs sendBatch of JSON bytes vs our Avro publisher (same sizes, same batch size, same acks).
  // Round 0 of each measure warms up (JIT, connections, metadata) and is not counted.
  const rawRates: number[] = [];
  const avroRates: number[] = [];
  for (let round = 0; round <= ROUNDS; round++) {
    let start = performance.now();
    for (let i = 0; i < MESSAGES; i += BATCH) {
      const messages = Array.from({ length: BATCH }, (_, j) => ({ key: `exec-${(i + j) % 1000}`, value: Buffer.from(JSON.stringify(payload(i + j))) }));
      await raw.sendBatch({ acks: -1, topicMessages: [{ topic: topic('raw'), messages }] });
    }
    if (round > 0) rawRates.push(MESSAGES / ((performance.now() - start) / 1000));

    const events = envelopes(MESSAGES, topic('avro'));
    start = performance.now();
    for (let i = 0; i < MESSAGES; i += BATCH) await publisher.publish(events.slice(i, i + BATCH));
    if (round > 0) avroRates.push(MESSAGES / ((performance.now() - start) / 1000));
  }

  // 2. outbox relay: rows committed up front, then timed from relay start until the outbox is empty.
  // Until every row was acknowledged by Kafka the relay's own count is watched, not the table: a
  // count(*) every few milliseconds would take the CPU the relay and PostgreSQL share.
  const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: 4 });
  const store = new PostgresEventStore(pool, schemaName(run));
  await store.migrate();
  const relayRates: number[] = [];
  for (let round = 0; round <= ROUNDS; round++) {
    const rows: OutboxMessage[] = envelopes(MESSAGES, topic('relay')).map((e) => ({
      topic: e.topic,
      key: e.key,
      eventId: e.envelope.eventId,
      eventType: e.envelope.eventType,
      payload: e.envelope.payload,
      metadata: { occurredAt: e.envelope.occurredAt, correlationId: 'bench', causationId: null, traceparent: null, tracestate: null, aggregateId: e.envelope.aggregateId, aggregateVersion: e.envelope.aggregateVersion },
    }));
    for (let i = 0; i < rows.length; i += 2_000) await store.withTransaction((c) => store.enqueue(c, rows.slice(i, i + 2_000)));
    const relay = new OutboxRelay(pool, store.schema, publisher, { batchSize: BATCH });
    const start = performance.now();
    await relay.start();
    while (relay.publishedCount < MESSAGES) await new Promise((r) => setTimeout(r, 1));
    for (;;) {
      const { rows: left } = await pool.query(`SELECT count(*)::int AS n FROM ${store.schema}.outbox`);
      if (left[0].n === 0) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    if (round > 0) relayRates.push(MESSAGES / ((performance.now() - start) / 1000));
    await relay.stop();
  }

  // 3. raw produce -> consume round trip, one message at a time.
  const consumer = kafka.consumer({ groupId: `${run}-latency`, maxWaitTimeInMs: 10 });
  await consumer.connect();
  await consumer.subscribe({ topic: topic('latency'), fromBeginning: false });
  const pending = new Map<string, (t: number) => void>();
  await consumer.run({ eachMessage: async ({ message }) => pending.get(message.key!.toString())?.(performance.now()) });
  await new Promise((r) => setTimeout(r, 3_000)); // let the group settle before measuring
  const latencies: number[] = [];
  for (let i = 0; i < LATENCY_SAMPLES; i++) {
    const key = `l-${i}`;
    const received = new Promise<number>((resolve) => pending.set(key, resolve));
    const sent = performance.now();
    await raw.send({ topic: topic('latency'), acks: -1, messages: [{ key, value: Buffer.from('ping') }] });
    latencies.push((await received) - sent);
    pending.delete(key);
  }
  latencies.sort((a, b) => a - b);

  const rawRate = median(rawRates);
  const avroRate = median(avroRates);
  const relayRate = median(relayRates);
  console.log(`\nmessaging benchmark: ${MESSAGES} messages per round, batches of ${BATCH}, ${ROUNDS} rounds after a warm-up (medians)`);
  console.log(`  raw kafkajs sendBatch           ${fmt(rawRate)} msgs/s`);
  console.log(`  Avro EventPublisher             ${fmt(avroRate)} msgs/s   ratio to raw ${fmt(avroRate / rawRate, 2)}`);
  console.log(`  outbox relay (PG -> Kafka)      ${fmt(relayRate)} events/s ratio to raw ${fmt(relayRate / rawRate, 2)}`);
  console.log(`  raw produce->consume round trip p50 ${fmt(percentile(latencies, 50), 1)} ms  p99 ${fmt(percentile(latencies, 99), 1)} ms  (${LATENCY_SAMPLES} samples)`);

  await consumer.disconnect();
  await raw.disconnect();
  await publisher.disconnect();
  await pool.end();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
