import type { EventPublisher, OutgoingEvent, PreparedBatch } from '@flotilla/messaging';
import { testPool, uniqueNamespace, waitFor } from '@flotilla/testing';
import { setTimeout as delay } from 'node:timers/promises';
import type { Pool } from 'pg';
import { OutboxRelay, PostgresEventStore, schemaName, type OutboxMessage } from '../src';

/**
 * The relay against real PostgreSQL, with a publisher that records what it is asked to send (and
 * can hold or fail a send), so that the order of publication is exactly what the relay produced.
 */

type Recorded = PreparedBatch & { readonly events: readonly OutgoingEvent[] };

class RecordingPublisher {
  /** Every batch Kafka would have acknowledged, in the order sent. */
  readonly sent: OutgoingEvent[][] = [];
  sends = 0;

  constructor(private readonly behaviour: { failSend?: (n: number) => boolean; sendDelayMs?: () => number } = {}) {}

  async prepare(events: readonly OutgoingEvent[]): Promise<PreparedBatch> {
    return { size: events.length, topicMessages: [], events } as Recorded;
  }

  async send(batch: PreparedBatch): Promise<void> {
    const n = ++this.sends;
    const ms = this.behaviour.sendDelayMs?.() ?? 0;
    if (ms > 0) await delay(ms);
    if (this.behaviour.failSend?.(n)) throw new Error(`send ${n} refused`);
    this.sent.push([...(batch as Recorded).events]);
  }

  get eventIds(): string[] {
    return this.sent.flat().map((e) => e.envelope.eventId);
  }

  asPublisher(): EventPublisher {
    return this as unknown as EventPublisher;
  }
}

const message = (aggregateId: string, version: number): OutboxMessage => ({
  topic: 'flotilla.test.relay',
  key: aggregateId,
  eventId: `${aggregateId}-${version}`,
  eventType: 'flotilla.test.Noted',
  payload: { aggregateId, version },
  metadata: { occurredAt: Date.now(), correlationId: aggregateId, causationId: null, traceparent: null, tracestate: null, aggregateId, aggregateVersion: version },
});

describe('OutboxRelay (real PostgreSQL)', () => {
  let pool: Pool;

  beforeAll(() => {
    pool = testPool(20);
  });
  afterAll(() => pool.end());

  async function newStore(prefix: string): Promise<PostgresEventStore> {
    const store = new PostgresEventStore(pool, schemaName(uniqueNamespace(prefix)));
    await store.migrate();
    return store;
  }

  const outboxSize = async (store: PostgresEventStore) => Number((await pool.query(`SELECT count(*) FROM ${store.schema}.outbox`)).rows[0].count);

  it('keeps each aggregate in order while transactions commit out of id order', async () => {
    const store = await newStore('relayorder');
    // Sends slow enough for a late transaction and the next one of its stream to commit while a batch is in flight.
    const publisher = new RecordingPublisher({ sendDelayMs: () => 10 + Math.random() * 20 });
    const relay = new OutboxRelay(pool, store.schema, publisher.asPublisher(), { batchSize: 16, pollIntervalMs: 50 });
    await relay.start();

    // As in the event store, a stream's next event is written only once its previous one committed
    // (there a unique constraint waits, here a lock), while transactions of different streams take
    // their ids and commit in any order: some commit after rows with higher ids were read.
    const aggregates = ['a', 'b', 'c', 'd', 'e', 'f'];
    const versions = new Map<string, number>();
    const write = async (aggregateId: string) => {
      await store.withTransaction(async (client) => {
        await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`${store.schema}.${aggregateId}`]);
        const version = (versions.get(aggregateId) ?? 0) + 1;
        versions.set(aggregateId, version);
        await store.enqueue(client, [message(aggregateId, version)]);
        await client.query('SELECT pg_sleep($1)', [Math.random() * 0.005]);
      });
      relay.notifyCommitted();
    };
    await Promise.all(
      Array.from({ length: 12 }, async (_, writer) => {
        for (let i = 0; i < 40; i++) await write(aggregates[(writer + i) % aggregates.length]);
      }),
    );

    const committed = [...versions].reduce((sum, [, n]) => sum + n, 0);
    await waitFor('every committed row published and deleted', async () => new Set(publisher.eventIds).size === committed && (await outboxSize(store)) === 0);
    await relay.stop();

    const firstSeen = new Map<string, number[]>();
    const seen = new Set<string>();
    for (const event of publisher.sent.flat()) {
      if (seen.has(event.envelope.eventId)) continue;
      seen.add(event.envelope.eventId);
      firstSeen.set(event.envelope.aggregateId, [...(firstSeen.get(event.envelope.aggregateId) ?? []), event.envelope.aggregateVersion]);
    }
    for (const [aggregateId, published] of firstSeen) {
      expect({ aggregateId, published }).toEqual({ aggregateId, published: Array.from({ length: versions.get(aggregateId)! }, (_, i) => i + 1) });
    }
  });

  it('sends nothing after a refused batch until that batch was sent again, in id order', async () => {
    const store = await newStore('relayfail');
    await store.withTransaction((c) => store.enqueue(c, Array.from({ length: 100 }, (_, i) => message('x', i + 1))));
    const publisher = new RecordingPublisher({ failSend: (n) => n === 3 || n === 4 });
    const relay = new OutboxRelay(pool, store.schema, publisher.asPublisher(), { batchSize: 10, pollIntervalMs: 20 });
    await relay.start();
    await waitFor('the outbox to drain', async () => (await outboxSize(store)) === 0);
    await relay.stop();

    expect(publisher.sends).toBe(12);
    expect(publisher.eventIds).toEqual(Array.from({ length: 100 }, (_, i) => `x-${i + 1}`));
  });

  it('publishes on notifyCommitted without waiting for a notification or the poll', async () => {
    const store = await newStore('relaywake');
    // No NOTIFY from commits: only the in-process wake-up (or the poll, a minute away) can start a read.
    await pool.query(`ALTER TABLE ${store.schema}.outbox DISABLE TRIGGER outbox_notify`);
    const publisher = new RecordingPublisher();
    const relay = new OutboxRelay(pool, store.schema, publisher.asPublisher(), { pollIntervalMs: 60_000 });
    await relay.start();

    // Once a row is deleted, the read that deleted it has been made, so it cannot see a row committed after.
    await store.withTransaction((c) => store.enqueue(c, [message('w', 1)]));
    relay.notifyCommitted();
    await waitFor('the first row published and deleted', async () => publisher.eventIds.length === 1 && (await outboxSize(store)) === 0, { timeoutMs: 10_000, intervalMs: 20 });

    await store.withTransaction((c) => store.enqueue(c, [message('w', 2)]));
    relay.notifyCommitted();
    await waitFor('the second row published', () => publisher.eventIds.length === 2, { timeoutMs: 10_000, intervalMs: 20 });
    await relay.stop();
    expect(publisher.eventIds).toEqual(['w-1', 'w-2']);
    expect(await outboxSize(store)).toBe(0);
  });

  it('stop publishes everything already committed, then stops', async () => {
    const store = await newStore('relaystop');
    await store.withTransaction((c) => store.enqueue(c, Array.from({ length: 1_000 }, (_, i) => message('s', i + 1))));
    const publisher = new RecordingPublisher();
    const relay = new OutboxRelay(pool, store.schema, publisher.asPublisher(), { batchSize: 50 });
    await relay.start();
    await relay.stop();

    expect(publisher.eventIds).toEqual(Array.from({ length: 1_000 }, (_, i) => `s-${i + 1}`));
    expect(await outboxSize(store)).toBe(0);
  });

  it('goes on publishing after its connections were terminated, as when PostgreSQL restarts', async () => {
    const store = await newStore('relaykill');
    const publisher = new RecordingPublisher();
    const relay = new OutboxRelay(pool, store.schema, publisher.asPublisher(), { batchSize: 20, pollIntervalMs: 100 });
    await relay.start();
    await store.withTransaction((c) => store.enqueue(c, Array.from({ length: 50 }, (_, i) => message('k', i + 1))));
    await waitFor('the first rows published', async () => (await outboxSize(store)) === 0);

    // The relay's own connections (last seen reading or deleting this outbox's rows) and the leadership's (holding the lock).
    const { rows } = await pool.query<{ what: string; terminated: boolean }>(
      `SELECT 'relay' AS what, pg_terminate_backend(pid) AS terminated FROM pg_stat_activity
        WHERE pid <> pg_backend_pid() AND (query LIKE $1 OR query LIKE $2)
       UNION ALL
       SELECT 'leadership', pg_terminate_backend(pid) FROM pg_locks
        WHERE locktype = 'advisory' AND granted AND objsubid = 1 AND objid = (hashtext($3)::bigint & 4294967295)::oid`,
      [`%FROM ${store.schema}.outbox WHERE id <> ALL%`, `DELETE FROM ${store.schema}.outbox WHERE id = ANY%`, `${store.schema}.outbox`],
    );
    expect(rows.filter((r) => r.terminated).map((r) => r.what)).toEqual(expect.arrayContaining(['relay', 'leadership']));

    await store.withTransaction((c) => store.enqueue(c, Array.from({ length: 50 }, (_, i) => message('k', i + 51))));
    await waitFor('the rows committed after the restart published', async () => (await outboxSize(store)) === 0 && new Set(publisher.eventIds).size === 100, { timeoutMs: 30_000 });
    expect(relay.leading).toBe(true);
    await relay.stop();
    expect([...new Set(publisher.eventIds)]).toEqual(Array.from({ length: 100 }, (_, i) => `k-${i + 1}`));
  });
});
