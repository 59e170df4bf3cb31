import { contextFromTraceparent, recordSpan, SpanKind, type Logger } from '@flotilla/observability';
import type { EventPublisher, OutgoingEvent } from '@flotilla/messaging';
import type { Pool } from 'pg';
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

/**
 * Publishes outbox rows to Kafka in id order (so per aggregate in order) and deletes them once Kafka
 * acknowledged. Woken by LISTEN/NOTIFY when a transaction commits rows, with a slow poll as a safety
 * net. One relay per schema leads (AdvisoryLeadership, which also carries the LISTEN); others wait as
 * standbys. When PostgreSQL restarts, the leader loses its lock with its connection, and every relay
 * reconnects and competes again on its next round. A crash between publish and delete republishes:
 * consumers drop the duplicate by event id (inbox).
 */
export class OutboxRelay {
  private state: RelayState = 'idle';
  private readonly leadership: AdvisoryLeadership;
  private wake: (() => void) | null = null;
  private pending = false;
  private loop: Promise<void> | null = null;
  private published = 0;

  constructor(
    private readonly pool: Pool,
    private readonly schema: string,
    private readonly publisher: EventPublisher,
    private readonly options: OutboxRelayOptions = {},
  ) {
    this.leadership = new AdvisoryLeadership(pool, {
      name: `${schema}.outbox`,
      listen: { channel: `${schema}_outbox`, onNotification: () => this.signal() },
      logger: options.logger,
    });
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
    this.transition('stopped');
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
    while (this.state === 'running' || (this.state === 'draining' && this.leadership.isLeader())) {
      try {
        if (!this.leadership.isLeader()) {
          // Also what reconnects (and listens again) after the connection was lost.
          if (!(await this.leadership.acquire())) {
            if (this.state !== 'running') break;
            await this.sleep();
            continue;
          }
        }
        this.pending = false;
        const published = await this.publishBatch();
        if (published === 0) {
          if (this.state === 'draining') break;
          if (!this.pending) await this.sleep();
        }
      } catch (error) {
        this.options.logger?.error({ err: error }, 'outbox relay failed to publish; will retry');
        if (this.state === 'draining') break;
        await this.sleep();
      }
    }
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

  private async publishBatch(): Promise<number> {
    const { rows } = await this.pool.query(
      `SELECT id, topic, message_key, event_id, event_type, payload, metadata FROM ${this.schema}.outbox ORDER BY id LIMIT $1`,
      [this.options.batchSize ?? 500],
    );
    if (rows.length === 0) return 0;
    const events: OutgoingEvent[] = rows.map((row) => {
      // Each event is published as a child of the span that wrote it, and carries the publish span on.
      const trace = row.metadata.traceparent
        ? recordSpan('outbox.publish', {
            kind: SpanKind.PRODUCER,
            parent: contextFromTraceparent(row.metadata.traceparent, row.metadata.tracestate ?? null),
            attributes: { 'messaging.destination.name': row.topic, 'flotilla.event_type': row.event_type },
          })
        : { traceparent: null, tracestate: null };
      return {
        topic: row.topic,
        key: row.message_key,
        envelope: {
          eventId: row.event_id,
          eventType: row.event_type,
          aggregateId: row.metadata.aggregateId,
          aggregateVersion: row.metadata.aggregateVersion,
          occurredAt: row.metadata.occurredAt,
          correlationId: row.metadata.correlationId,
          causationId: row.metadata.causationId ?? null,
          traceparent: trace.traceparent,
          tracestate: trace.tracestate,
          payload: row.payload,
        },
      };
    });
    await this.publisher.publish(events);
    await this.pool.query(`DELETE FROM ${this.schema}.outbox WHERE id = ANY($1::bigint[])`, [rows.map((r) => r.id)]);
    this.published += rows.length;
    return rows.length;
  }
}
