import * as path from 'node:path';
import { runner } from 'node-pg-migrate';
import type { Pool, PoolClient } from 'pg';
import { ConcurrencyError } from './errors';

/** Envelope fields kept with each stored event and copied to the outbox. */
export interface StoredEventMetadata {
  readonly occurredAt: number;
  readonly correlationId: string;
  readonly causationId: string | null;
  readonly traceparent: string | null;
  readonly tracestate: string | null;
}

export interface NewEvent<Data = unknown> {
  readonly eventId: string;
  readonly eventType: string;
  readonly data: Data;
  readonly metadata: StoredEventMetadata;
}

export interface StoredEvent<Data = unknown> extends NewEvent<Data> {
  readonly streamId: string;
  readonly streamVersion: number;
  readonly globalPosition: string;
}

/** A message waiting in the outbox: published by the relay, in id order. */
export interface OutboxMessage {
  readonly topic: string;
  readonly key: string;
  readonly eventId: string;
  readonly eventType: string;
  readonly payload: unknown;
  readonly metadata: StoredEventMetadata & { readonly aggregateId: string; readonly aggregateVersion: number };
}

export const NO_STREAM = 0;

/** A quoted, validated PostgreSQL schema name: one per service (and per test namespace). */
/** Runs `work` in one transaction on a pooled connection: committed if it returns, rolled back if it throws. */
/**
 * The open transaction a command runs in, as application code sees it: something to hand to the stores
 * that must write in the same commit (timers, queue rows), never queried by the application itself.
 */
export type Transaction = PoolClient;

export async function inTransaction<T>(pool: Pool, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

export function schemaName(...parts: string[]): string {
  const name = parts.filter(Boolean).join('_').replace(/[^a-zA-Z0-9_]/g, '_').toLowerCase();
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`invalid schema name ${name}`);
  return name;
}

/** PostgreSQL event store of one service, in that service's own schema. */
export class PostgresEventStore {
  constructor(
    readonly pool: Pool,
    readonly schema: string,
  ) {}

  /** Applies the event-store migrations, then the service's own (if any), each tracked separately. */
  async migrate(serviceMigrationsDir?: string): Promise<void> {
    await this.runMigrations(path.resolve(__dirname, '../migrations'), 'event_store_migrations');
    if (serviceMigrationsDir) await this.runMigrations(serviceMigrationsDir, 'service_migrations');
  }

  private async runMigrations(dir: string, table: string): Promise<void> {
    const client = await this.pool.connect();
    // node-pg-migrate's own lock is one advisory lock for the whole database, and it fails rather than
    // waits when taken: services starting together would fail. A per-schema lock, waited for, instead.
    await client.query('SELECT pg_advisory_lock(hashtext($1))', [`${this.schema}.migrations`]);
    try {
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${this.schema}`);
      await runner({
        dbClient: client,
        dir,
        direction: 'up',
        migrationsTable: table,
        schema: this.schema,
        migrationsSchema: this.schema,
        createSchema: true,
        checkOrder: true,
        log: () => undefined,
        noLock: true,
      });
    } finally {
      await client.query('SELECT pg_advisory_unlock(hashtext($1))', [`${this.schema}.migrations`]).catch(() => undefined);
      client.release();
    }
  }

  withTransaction<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    return inTransaction(this.pool, work);
  }

  async readStream<Data = unknown>(streamId: string, client: Pick<PoolClient, 'query'> = this.pool): Promise<{ version: number; events: StoredEvent<Data>[] }> {
    const { rows } = await client.query(
      `SELECT global_position, stream_version, event_id, event_type, data, metadata
         FROM ${this.schema}.events WHERE stream_id = $1 ORDER BY stream_version`,
      [streamId],
    );
    const events = rows.map((row) => ({
      streamId,
      streamVersion: row.stream_version as number,
      globalPosition: String(row.global_position),
      eventId: row.event_id as string,
      eventType: row.event_type as string,
      data: row.data as Data,
      metadata: row.metadata as StoredEventMetadata,
    }));
    return { version: events.length === 0 ? NO_STREAM : events[events.length - 1].streamVersion, events };
  }

  /**
   * Appends `events` if the stream is still at `expectedVersion`; otherwise throws ConcurrencyError.
   * The unique (stream, version) constraint settles races between concurrent writers.
   */
  async appendToStream(client: PoolClient, streamId: string, expectedVersion: number, events: readonly NewEvent[]): Promise<number> {
    if (events.length === 0) return expectedVersion;
    const { rows } = await client.query(`SELECT COALESCE(MAX(stream_version), 0) AS version FROM ${this.schema}.events WHERE stream_id = $1`, [streamId]);
    const actual = Number(rows[0].version);
    if (actual !== expectedVersion) throw new ConcurrencyError(streamId, expectedVersion, actual);
    try {
      await client.query(
        `INSERT INTO ${this.schema}.events (stream_id, stream_version, event_id, event_type, data, metadata)
         SELECT $1, v, e, t, d, m FROM UNNEST($2::int[], $3::text[], $4::text[], $5::jsonb[], $6::jsonb[]) AS x(v, e, t, d, m)`,
        [
          streamId,
          events.map((_, i) => expectedVersion + i + 1),
          events.map((e) => e.eventId),
          events.map((e) => e.eventType),
          events.map((e) => JSON.stringify(e.data)),
          events.map((e) => JSON.stringify(e.metadata)),
        ],
      );
    } catch (error) {
      if ((error as { constraint?: string }).constraint === 'events_stream_version_unique') {
        throw new ConcurrencyError(streamId, expectedVersion, expectedVersion + 1);
      }
      throw error;
    }
    return expectedVersion + events.length;
  }

  /**
   * Appends to several streams whose versions the caller holds a lock on (a state row selected FOR
   * UPDATE), in one insert. A stream not at its expected version fails the whole call with the unique
   * constraint, as a ConcurrencyError.
   */
  async appendToStreams(client: PoolClient, appends: ReadonlyArray<{ readonly streamId: string; readonly expectedVersion: number; readonly events: readonly NewEvent[] }>): Promise<void> {
    const rows = appends.flatMap((a) => a.events.map((e, i) => ({ streamId: a.streamId, version: a.expectedVersion + i + 1, event: e })));
    if (rows.length === 0) return;
    try {
      await client.query(
        `INSERT INTO ${this.schema}.events (stream_id, stream_version, event_id, event_type, data, metadata)
         SELECT * FROM unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::jsonb[], $6::jsonb[])`,
        [
          rows.map((r) => r.streamId),
          rows.map((r) => r.version),
          rows.map((r) => r.event.eventId),
          rows.map((r) => r.event.eventType),
          rows.map((r) => JSON.stringify(r.event.data)),
          rows.map((r) => JSON.stringify(r.event.metadata)),
        ],
      );
    } catch (error) {
      if ((error as { constraint?: string }).constraint === 'events_stream_version_unique') throw new ConcurrencyError(appends.map((a) => a.streamId).join(', '), -1, -1);
      throw error;
    }
  }

  /**
   * Appends each stream's new events and queues each one for where `route` sends it, in the caller's
   * transaction: how an aggregate decided under its own row's lock (a budget, a saga) records what it
   * decided. An event's outbox metadata names its stream and the version it got there.
   */
  async record(
    client: PoolClient,
    appends: ReadonlyArray<{ readonly streamId: string; readonly expectedVersion: number; readonly events: readonly NewEvent[] }>,
    route: (event: { readonly type: string; readonly data: unknown }) => ReadonlyArray<{ readonly topic: string; readonly key: string }>,
  ): Promise<void> {
    await this.appendToStreams(client, appends);
    await this.queue(
      client,
      appends.flatMap(({ streamId, expectedVersion, events }) => events.map((event, i) => ({ event, aggregateId: streamId, aggregateVersion: expectedVersion + i + 1 }))),
      route,
    );
  }

  /**
   * Queues each event for where `route` sends it, in the caller's transaction, without appending it to
   * a stream: commands a saga sends, the records of rows that are not event-sourced (a delivery's
   * attempts), an event an inbound request publishes. Its outbox metadata names the aggregate it is about.
   */
  async queue(
    client: PoolClient,
    items: ReadonlyArray<{ readonly event: NewEvent; readonly aggregateId: string; readonly aggregateVersion: number }>,
    route: (event: { readonly type: string; readonly data: unknown }) => ReadonlyArray<{ readonly topic: string; readonly key: string }>,
  ): Promise<void> {
    await this.enqueue(
      client,
      items.flatMap(({ event, aggregateId, aggregateVersion }) =>
        route({ type: event.eventType, data: event.data }).map(({ topic, key }) => ({
          topic,
          key,
          eventId: event.eventId,
          eventType: event.eventType,
          payload: event.data,
          metadata: { ...event.metadata, aggregateId, aggregateVersion },
        })),
      ),
    );
  }

  /** Queues messages for the relay, in the caller's transaction. */
  async enqueue(client: PoolClient, messages: readonly OutboxMessage[]): Promise<void> {
    if (messages.length === 0) return;
    await client.query(
      `INSERT INTO ${this.schema}.outbox (topic, message_key, event_id, event_type, payload, metadata)
       SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[], $5::jsonb[], $6::jsonb[])`,
      [
        messages.map((m) => m.topic),
        messages.map((m) => m.key),
        messages.map((m) => m.eventId),
        messages.map((m) => m.eventType),
        messages.map((m) => JSON.stringify(m.payload)),
        messages.map((m) => JSON.stringify(m.metadata)),
      ],
    );
  }

  /**
   * Records that `consumer` applied `eventId`, in the caller's transaction. Returns false when it
   * already had: the caller must then change nothing. A concurrent duplicate waits on the row lock
   * and then sees the conflict.
   */
  async recordInbox(client: PoolClient, consumer: string, eventId: string): Promise<boolean> {
    const result = await client.query(`INSERT INTO ${this.schema}.inbox (consumer, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, [consumer, eventId]);
    return result.rowCount === 1;
  }
}
