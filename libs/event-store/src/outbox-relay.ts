import { contextFromTraceparent, recordSpan, SpanKind, type Logger } from '@flotilla/observability';
import type { EventPublisher, OutgoingEvent, PreparedBatch } from '@flotilla/messaging';
import { Pool } from 'pg';
import { AdvisoryLeadership } from './leadership';

export interface OutboxRelayOptions {
  readonly batchSize?: number;
  /** Fallback poll when no notification arrives (e.g. one was missed during a reconnect). */
  readonly pollIntervalMs?: number;
  readonly logger?: Logger;
}

type RelayState = 'idle' | 'starting' | 'running' | 'draining' | 'stopped';

const TRANSITIONS: Record<RelayState, readonly RelayState[]> = {
  idle: ['starting'],
  starting: ['running', 'stopped'],
  running: ['draining'],
  draining: ['stopped'],
  stopped: [],
};

/** Rows read from the outbox and encoded, not yet published. */
interface Batch {
  /** Their ids, comma-separated. */
  readonly ids: string;
  readonly prepared: PreparedBatch;
}

/**
 * Publishes outbox rows to Kafka in id order (so per aggregate in order) and deletes them once Kafka
 * acknowledged. Woken by LISTEN/NOTIFY when a transaction commits rows (or at once by
 * `notifyCommitted()` in the writing process), with a slow poll as a safety net. One relay per schema
 * leads (AdvisoryLeadership, which also carries the LISTEN); others wait as standbys. When PostgreSQL
 * restarts, the leader loses its lock with its connection, and every relay reconnects and competes
 * again on its next round. A crash between publish and delete republishes: consumers drop the
 * duplicate by event id (inbox).
 *
 * Batches are pipelined: while one is in flight to Kafka, the next one is read and encoded and the
 * one acknowledged before is deleted; the next is only sent once Kafka acknowledged the current one.
 */
export class OutboxRelay {
  private state: RelayState = 'idle';
  private readonly leadership: AdvisoryLeadership;
  /**
   * The relay's own connections (a read and a delete at a time): its statements neither wait behind
   * the service's queries nor take the service's connections while a backlog drains. Opened while
   * leading; they close when idle.
   */
  private readonly db: Pool;
  private readonly readNext: string;
  private readonly deletePublished: string;
  private wake: (() => void) | null = null;
  private pending = false;
  private loop: Promise<void> | null = null;
  private published = 0;

  constructor(
    pool: Pool,
    private readonly schema: string,
    private readonly publisher: EventPublisher,
    private readonly options: OutboxRelayOptions = {},
  ) {
    this.leadership = new AdvisoryLeadership(pool, {
      name: `${schema}.outbox`,
      listen: { channel: `${schema}_outbox`, onNotification: () => this.signal() },
      logger: options.logger,
    });
    this.db = new Pool({
      ...pool.options,
      max: 2,
      min: 0,
      allowExitOnIdle: true,
      // Losing a delete to a crash of PostgreSQL only republishes its rows, which consumers drop;
      // waiting for its WAL flush would hold a connection the next read may need.
      options: [pool.options.options, '-c synchronous_commit=off'].filter(Boolean).join(' '),
    });
    // A relay connection the server dropped (a PostgreSQL restart) fails the statement using it,
    // which the loop retries; idle, it must not end the process.
    this.db.on('error', (error) => options.logger?.debug({ err: error }, 'outbox relay connection failed'));
    // A read must not return the rows of the batch in flight, nor those acknowledged whose delete has
    // not committed yet. Not a prepared statement: planned with the id arrays as constants,
    // PostgreSQL hashes them rather than comparing each row with every id. The metadata fields are
    // taken out in SQL: cheaper than sending the whole document and parsing it here.
    this.readNext = `SELECT id, topic, message_key, event_id, event_type, payload,
             metadata->>'aggregateId' AS aggregate_id, metadata->>'aggregateVersion' AS aggregate_version,
             metadata->>'occurredAt' AS occurred_at, metadata->>'correlationId' AS correlation_id,
             metadata->>'causationId' AS causation_id, metadata->>'traceparent' AS traceparent, metadata->>'tracestate' AS tracestate
        FROM ${schema}.outbox WHERE id <> ALL($1::bigint[]) ORDER BY id LIMIT $2`;
    // By id, never by range: ids come from a sequence, so a transaction that took a lower id may
    // commit after a batch was read, and its row must stay (it comes first in the next read, so
    // per aggregate the order holds).
    this.deletePublished = `DELETE FROM ${schema}.outbox WHERE id = ANY($1::bigint[])`;
  }

  get publishedCount(): number {
    return this.published;
  }

  /** Whether this relay is the one publishing (the others are standbys). */
  get leading(): boolean {
    return this.leadership.isLeader();
  }

  async start(): Promise<void> {
    this.transition('starting');
    // The first bid (which connects and listens) before start returns, so a single instance leads from the start.
    await this.leadership.acquire();
    this.transition('running');
    this.loop = this.run();
  }

  /** Publishes what is already committed, then stops. */
  async stop(): Promise<void> {
    if (this.state !== 'running') return;
    this.transition('draining');
    this.signal();
    await this.loop;
    await this.leadership.release();
    await this.db.end();
    this.transition('stopped');
  }

  /**
   * Rows were just committed to this outbox by this process: the same as the NOTIFY that other
   * processes' commits send, without waiting for its round trip through PostgreSQL.
   */
  notifyCommitted(): void {
    this.signal();
  }

  private transition(next: RelayState): void {
    if (!TRANSITIONS[this.state].includes(next)) throw new Error(`outbox relay cannot go from ${this.state} to ${next}`);
    this.state = next;
  }

  private signal(): void {
    this.pending = true;
    this.wake?.();
  }

  private async run(): Promise<void> {
    // Read and encoded while the batch before it was in flight; dropped on any failure, since a
    // batch after one that failed must not be sent before that one is read again.
    let next: Batch | null = null;
    const acknowledged = new Acknowledged((ids) => this.db.query(this.deletePublished, [ids]), this.options.logger);
    while (this.state === 'running' || (this.state === 'draining' && this.leadership.isLeader())) {
      try {
        if (!this.leadership.isLeader()) {
          // Another relay may be publishing these rows by now.
          next = null;
          // Also what reconnects (and listens again) after the connection was lost.
          if (!(await this.leadership.acquire())) {
            if (this.state !== 'running') break;
            await this.sleep();
            continue;
          }
        }
        // Cleared before any read that follows, so a commit notified from now on is seen by one.
        this.pending = false;
        acknowledged.delete();
        const batch = next ?? (await this.read(acknowledged.ids, null));
        next = null;
        if (!batch) {
          if (this.state === 'draining') break;
          if (!this.pending) await this.sleep();
          continue;
        }
        const following = this.read(acknowledged.ids, batch);
        following.catch(() => undefined); // awaited below unless the send fails first
        await this.publisher.send(batch.prepared);
        this.published += batch.prepared.size;
        acknowledged.add(batch);
        next = await following;
      } catch (error) {
        next = null;
        this.options.logger?.error({ err: error }, 'outbox relay failed to publish; will retry');
        if (this.state === 'draining') break;
        await this.sleep();
      }
    }
    await acknowledged.settle();
  }

  private sleep(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, this.options.pollIntervalMs ?? 1_000);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = () => {
        this.wake = null;
        done();
      };
    });
  }

  /** The oldest rows but the `excluded` ones and those of `inFlight`, encoded. */
  private async read(excluded: readonly string[], inFlight: Batch | null): Promise<Batch | null> {
    const { rows } = await this.db.query(this.readNext, [idList(inFlight ? [...excluded, inFlight.ids] : excluded), this.options.batchSize ?? 500]);
    if (rows.length === 0) return null;
    const events: OutgoingEvent[] = new Array(rows.length);
    const ids: string[] = new Array(rows.length);
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i];
      ids[i] = row.id;
      // Each event is published as a child of the span that wrote it, and carries the publish span on.
      const trace = row.traceparent
        ? recordSpan('outbox.publish', {
            kind: SpanKind.PRODUCER,
            parent: contextFromTraceparent(row.traceparent, row.tracestate),
            attributes: { 'messaging.destination.name': row.topic, 'flotilla.event_type': row.event_type },
          })
        : { traceparent: null, tracestate: null };
      events[i] = {
        topic: row.topic,
        key: row.message_key,
        envelope: {
          eventId: row.event_id,
          eventType: row.event_type,
          aggregateId: row.aggregate_id,
          // ->> gives JSON numbers as their text, which Number() reads back exactly.
          aggregateVersion: Number(row.aggregate_version),
          occurredAt: Number(row.occurred_at),
          correlationId: row.correlation_id,
          causationId: row.causation_id,
          traceparent: trace.traceparent,
          tracestate: trace.tracestate,
          payload: row.payload,
        },
      };
    }
    return { ids: ids.join(','), prepared: await this.publisher.prepare(events) };
  }
}

/**
 * Batches Kafka acknowledged whose rows are not deleted yet. Their deletes run beside the next read
 * (on the relay's second connection), and reads leave their rows out until a delete committed. A
 * delete that fails is made again with the next ones; a relay that stops before one succeeded
 * leaves the rows to be published again by whoever leads next.
 */
class Acknowledged {
  private batches: Batch[] = [];
  private readonly deleting = new Set<Batch>();
  private readonly deletes = new Set<Promise<void>>();

  constructor(
    private readonly remove: (ids: string) => Promise<unknown>,
    private readonly logger?: Logger,
  ) {}

  /** The ids of every batch not known to be deleted, one comma-separated list per batch. */
  get ids(): string[] {
    return this.batches.map((b) => b.ids);
  }

  add(batch: Batch): void {
    this.batches = [...this.batches, batch];
  }

  /** Starts deleting the batches no delete is running for. */
  delete(): void {
    const batches = this.batches.filter((b) => !this.deleting.has(b));
    if (batches.length === 0) return;
    for (const b of batches) this.deleting.add(b);
    const done = this.remove(idList(batches.map((b) => b.ids))).then(
      () => {
        this.batches = this.batches.filter((b) => !batches.includes(b));
      },
      (error: unknown) => this.logger?.warn({ err: error }, 'outbox relay could not delete published rows; will try again'),
    );
    const settled = done.finally(() => {
      for (const b of batches) this.deleting.delete(b);
      this.deletes.delete(settled);
    });
    this.deletes.add(settled);
  }

  /** Waits for the running deletes, then deletes what is left once more. */
  async settle(): Promise<void> {
    await Promise.all(this.deletes);
    this.delete();
    await Promise.all(this.deletes);
  }
}

/** Comma-separated id lists as one bigint[] literal: pg would otherwise quote each element of a JS array. */
function idList(lists: readonly string[]): string {
  return `{${lists.join(',')}}`;
}
