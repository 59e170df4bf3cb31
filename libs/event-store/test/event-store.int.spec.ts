import { AvroSerde, EventPublisher } from '@flotilla/messaging';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import type { Pool } from 'pg';
import { ConcurrencyError, handleCommand, OutboxRelay, PostgresEventStore, schemaName } from '../src';
import { ensureTopics } from '@flotilla/messaging';
import { readTopic, stack, testKafka, testPool, uniqueNamespace } from '@flotilla/testing';
import { waitFor } from '@flotilla/testing';
import { COUNTER_SCHEMA, counterDecider, type CounterEvent } from './counter.decider';

const newEvent = (id: string, value: number) => ({
  eventId: id,
  eventType: 'flotilla.test.Incremented',
  data: { counterId: 'c', value },
  metadata: { occurredAt: Date.now(), correlationId: 'c', causationId: null, traceparent: null, tracestate: null },
});

describe('PostgreSQL event store (real PostgreSQL)', () => {
  let pool: Pool;
  let store: PostgresEventStore;

  beforeAll(async () => {
    pool = testPool();
    store = new PostgresEventStore(pool, schemaName(uniqueNamespace('es')));
    await store.migrate();
  });
  afterAll(() => pool.end());

  it('refuses an append with a stale expected version', async () => {
    await store.withTransaction((c) => store.appendToStream(c, 'stream-a', 0, [newEvent('a1', 1), newEvent('a2', 2)]));
    const stale = store.withTransaction((c) => store.appendToStream(c, 'stream-a', 1, [newEvent('a3', 3)]));
    await expect(stale).rejects.toBeInstanceOf(ConcurrencyError);
    await expect(stale).rejects.toMatchObject({ expectedVersion: 1, actualVersion: 2 });
    const { version, events } = await store.readStream('stream-a');
    expect(version).toBe(2);
    expect(events.map((e) => e.eventId)).toEqual(['a1', 'a2']);
  });

  it('settles two concurrent writers at the same expected version: one wins, one gets ConcurrencyError', async () => {
    const results = await Promise.allSettled([
      store.withTransaction((c) => store.appendToStream(c, 'stream-b', 0, [newEvent('b1', 1)])),
      store.withTransaction((c) => store.appendToStream(c, 'stream-b', 0, [newEvent('b2', 1)])),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(results.find((r) => r.status === 'rejected')).toMatchObject({ reason: expect.any(ConcurrencyError) });
  });

  it('drops a redelivered event through the inbox: the change is applied once', async () => {
    const command = () =>
      handleCommand({
        store,
        decider: counterDecider,
        streamId: 'counter-inbox',
        command: { type: 'Increment', counterId: 'counter-inbox' },
        route: () => [],
        correlationId: 'counter-inbox',
        inbox: { consumer: 'test', eventId: 'delivered-twice' },
      });
    expect((await command()).status).toBe('applied');
    expect((await command()).status).toBe('duplicate');
    const { events } = await store.readStream('counter-inbox');
    expect(events).toHaveLength(1);
  });

  it('retries a command on a version conflict and applies every concurrent command', async () => {
    await Promise.all(
      Array.from({ length: 8 }, () =>
        handleCommand({ store, decider: counterDecider, streamId: 'counter-race', command: { type: 'Increment', counterId: 'x' }, route: () => [], correlationId: 'x', maxConflictRetries: 20 }),
      ),
    );
    const { events } = await store.readStream<CounterEvent['data']>('counter-race');
    expect(events.map((e) => e.data.value)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });
});

describe('Outbox relay after a crash between commit and publish (real PostgreSQL and Kafka)', () => {
  it('publishes every committed event, in per-aggregate order', async () => {
    const namespace = uniqueNamespace('relay');
    const schema = schemaName(namespace);
    const topic = `${namespace}.counters`;
    const kafka = testKafka();
    await ensureTopics(kafka, [{ name: topic, partitions: 3, retentionMs: 3_600_000, compacted: false }]);
    const pool = testPool();
    const store = new PostgresEventStore(pool, schema);
    await store.migrate();

    // A writer process commits and publishes until it is killed at an arbitrary moment.
    const root = path.resolve(__dirname, '../../..');
    const writer = spawn(process.execPath, ['-r', '@swc-node/register', 'libs/event-store/test/outbox-writer.fixture.ts', schema, topic], {
      cwd: root,
      env: process.env,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    await waitFor('the writer to start', () => new Promise<boolean>((resolve) => writer.stdout!.once('data', () => resolve(true))), { timeoutMs: 60_000 });
    await waitFor('some events committed', async () => Number((await pool.query(`SELECT count(*) FROM ${schema}.events`)).rows[0].count) > 300, { timeoutMs: 60_000 });
    writer.kill('SIGKILL');
    await new Promise((resolve) => writer.once('exit', resolve));

    const committed = (await pool.query(`SELECT event_id, stream_id, stream_version FROM ${schema}.events ORDER BY global_position`)).rows;

    // A new relay (the restarted process) takes over what was committed but not yet published.
    const serde = AvroSerde.create(stack.registryUrl, { 'flotilla.test.Incremented': COUNTER_SCHEMA });
    const publisher = new EventPublisher(kafka, serde);
    await publisher.connect();
    const relay = new OutboxRelay(pool, schema, publisher);
    await relay.start();
    await waitFor('the outbox to drain', async () => Number((await pool.query(`SELECT count(*) FROM ${schema}.outbox`)).rows[0].count) === 0, { timeoutMs: 60_000 });
    await relay.stop();
    await publisher.disconnect();

    const expectedIds = new Set(committed.map((r) => r.event_id));
    const messages = await readTopic(kafka, topic, (ms) => new Set(ms.map((m) => m.headers!['flotilla-event-id']!.toString())).size >= expectedIds.size, 60_000);
    const seen = new Map<string, number[]>();
    const firstSeen = new Set<string>();
    for (const message of messages) {
      const id = message.headers!['flotilla-event-id']!.toString();
      if (firstSeen.has(id)) continue; // an at-least-once republish after the crash
      firstSeen.add(id);
      const stream = message.key!.toString();
      seen.set(stream, [...(seen.get(stream) ?? []), Number(message.headers!['flotilla-aggregate-version']!.toString())]);
    }
    expect([...expectedIds].filter((id) => !firstSeen.has(id))).toEqual([]);
    for (const [stream, versions] of seen) {
      const expected = committed.filter((r) => r.stream_id === stream).map((r) => r.stream_version);
      expect({ stream, versions }).toEqual({ stream, versions: expected });
    }
    await pool.end();
  });
});
