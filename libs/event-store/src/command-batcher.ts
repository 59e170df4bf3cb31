import type { Decider, DomainEvent } from '@flotilla/domain';
import { currentTraceContext, inSpan } from '@flotilla/observability';
import { v7 as uuidv7 } from 'uuid';
import type { CommandResult, Destination } from './command-handler';
import { ConcurrencyError } from './errors';
import type { OutboxMessage, PostgresEventStore, Transaction } from './event-store';

/** One command for the batcher: which stream, and what the consumed event behind it was (inbox). */
export interface BatchedCommand<Command> {
  readonly streamId: string;
  readonly command: Command;
  readonly correlationId: string;
  readonly causationId?: string | null;
  /** Recorded in the same transaction, so a redelivered event changes nothing. */
  readonly inbox?: { readonly consumer: string; readonly eventId: string };
}

/** A command of the batch that appended events, as the rows that commit with them need it. */
export interface AppliedCommand<Command, Event, State> {
  readonly streamId: string;
  readonly correlationId: string;
  readonly command: Command;
  readonly applied: ReadonlyArray<{ readonly event: Event; readonly stateAfter: State }>;
  /** The trace the command was submitted in, which its events carry too. */
  readonly traceparent: string | null;
}

export interface CommandBatcherOptions<Command, Event extends DomainEvent, State> {
  readonly store: PostgresEventStore;
  readonly decider: Decider<Command, Event, State>;
  /** Where each event is published; an event may go to several topics, or none. */
  readonly route: (event: Event) => readonly Destination[];
  /**
   * Rows that must commit together with the events (durable timers, lookups), for every command of
   * the batch that appended, in submission order: a statement per kind of row, not per command.
   */
  readonly withinTransaction?: (client: Transaction, applied: ReadonlyArray<AppliedCommand<Command, Event, State>>) => Promise<void>;
  /** After each commit that queued outbox rows: wakes an in-process relay without a NOTIFY round trip. */
  readonly onCommitted?: () => void;
  readonly maxBatchSize?: number;
  /** Transactions open at once; a stream is never in two of them. */
  readonly maxConcurrentBatches?: number;
  readonly maxConflictRetries?: number;
  /** Streams whose state is kept between batches (0: none; every command loads its whole stream). */
  readonly cachedStreams?: number;
  readonly now?: () => number;
  readonly newEventId?: () => string;
}

interface Pending<Command, Event, State> {
  readonly spec: BatchedCommand<Command>;
  readonly trace: { readonly traceparent: string | null; readonly tracestate: string | null };
  conflicts: number;
  readonly resolve: (result: CommandResult<Event, State>) => void;
  readonly reject: (error: unknown) => void;
}

type Outcome<Event, State> =
  | { readonly kind: 'done'; readonly result: CommandResult<Event, State> }
  | { readonly kind: 'failed'; readonly error: unknown }
  | { readonly kind: 'conflict' };

/**
 * Handles commands of many aggregates in one transaction each, the way a group commit does: the
 * commands submitted while a batch is being written wait and go together into the next one. One
 * execution costs a few commands; with a transaction of ~8 round trips each, the round trips and
 * fsyncs were the service's whole CPU (see the throughput benchmark). A batch is:
 *
 *   record the inbox entries (one insert; the ones already there are duplicates)
 *   → load every stream of the batch (one query) → decide each command in submission order
 *   → append every event (one insert) → queue the outbox (one insert) → the caller's rows → commit
 *
 * The same guarantees as `handleCommand`, per command: a command whose stream moved on since it was
 * loaded (another process appended: its insert of the same version is skipped) is taken out of the
 * batch (its events and inbox entry deleted before the commit) and decided again in the next batch,
 * while the rest commit. A command whose `decide` throws fails alone. A statement that fails for one
 * command's data (not an outage) fails the batch, and its commands are then run one by one so that
 * only that command fails.
 */
export class CommandBatcher<Command, Event extends DomainEvent, State> {
  private readonly queue: Pending<Command, Event, State>[] = [];
  /** Streams with a batch in flight: their next commands wait, so one process never conflicts with itself. */
  private readonly busyStreams = new Set<string>();
  /**
   * Streams' states at the last version this process committed or read, most recently used last:
   * a command then loads only the events after it (an execution's stream is loaded again by each of
   * its commands; read whole, that was most of the rows the batches read).
   */
  private readonly cache = new Map<string, { readonly state: State; readonly version: number }>();
  private readonly cacheSize: number;
  private inFlight = 0;
  private pumpScheduled = false;
  private readonly maxBatchSize: number;
  private readonly maxConcurrentBatches: number;
  private readonly maxConflictRetries: number;
  private readonly now: () => number;
  private readonly newEventId: () => string;

  constructor(private readonly options: CommandBatcherOptions<Command, Event, State>) {
    this.maxBatchSize = options.maxBatchSize ?? 250;
    this.maxConcurrentBatches = options.maxConcurrentBatches ?? 2;
    this.maxConflictRetries = options.maxConflictRetries ?? 5;
    this.cacheSize = options.cachedStreams ?? 10_000;
    this.now = options.now ?? Date.now;
    this.newEventId = options.newEventId ?? (() => uuidv7());
  }

  /** Applies `spec` in the next batch that can take its stream; settles once that batch committed. */
  submit(spec: BatchedCommand<Command>): Promise<CommandResult<Event, State>> {
    return inSpan('command.handle', { attributes: { 'flotilla.stream_id': spec.streamId, 'flotilla.correlation_id': spec.correlationId } }, () =>
      new Promise<CommandResult<Event, State>>((resolve, reject) => {
        this.queue.push({ spec, trace: currentTraceContext(), conflicts: 0, resolve, reject });
        this.schedulePump();
      }),
    );
  }

  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    // After the current turn: every command submitted in it (a consumed batch's handlers) joins.
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    while (this.inFlight < this.maxConcurrentBatches && this.queue.length > 0) {
      const batch = this.take();
      if (batch.length === 0) return;
      this.inFlight++;
      const streams = new Set(batch.map((p) => p.spec.streamId));
      for (const stream of streams) this.busyStreams.add(stream);
      void this.run(batch).finally(() => {
        for (const stream of streams) this.busyStreams.delete(stream);
        this.inFlight--;
        if (this.queue.length > 0) this.schedulePump();
      });
    }
  }

  /**
   * The oldest commands whose streams are not in flight, in submission order, up to the batch size.
   * A stream with a command left behind keeps its later commands behind too, so they stay in order.
   */
  private take(): Pending<Command, Event, State>[] {
    const batch: Pending<Command, Event, State>[] = [];
    const rest: Pending<Command, Event, State>[] = [];
    const blocked = new Set(this.busyStreams);
    for (const pending of this.queue) {
      const stream = pending.spec.streamId;
      if (batch.length < this.maxBatchSize && !blocked.has(stream)) batch.push(pending);
      else {
        rest.push(pending);
        blocked.add(stream);
      }
    }
    this.queue.splice(0, this.queue.length, ...rest);
    return batch;
  }

  private async run(batch: Pending<Command, Event, State>[]): Promise<void> {
    let outcomes: Map<Pending<Command, Event, State>, Outcome<Event, State>>;
    try {
      outcomes = await this.options.store.withTransaction((client) => this.write(client, batch));
    } catch (error) {
      if (isDeadlock(error)) return this.retry(batch, error);
      if (batch.length > 1 && isStatementError(error)) {
        // One command's data broke a statement: alone, each fails or commits on its own.
        for (const pending of batch) await this.run([pending]);
        return;
      }
      for (const pending of batch) pending.reject(error);
      return;
    }
    const conflicted: Pending<Command, Event, State>[] = [];
    let queuedOutbox = false;
    for (const pending of batch) {
      const outcome = outcomes.get(pending)!;
      if (outcome.kind === 'conflict') conflicted.push(pending);
      else if (outcome.kind === 'failed') pending.reject(outcome.error);
      else {
        if (outcome.result.status === 'applied') {
          if (outcome.result.events.length > 0) queuedOutbox = true;
          this.remember(pending.spec.streamId, outcome.result.state, outcome.result.version);
        }
        pending.resolve(outcome.result);
      }
    }
    if (queuedOutbox) this.options.onCommitted?.();
    if (conflicted.length > 0) this.retry(conflicted, null);
  }

  /**
   * A stream's state at a committed version. Events never change, so it stays true of that version
   * whatever is appended later (by this process or another): the next load reads only what follows.
   */
  private remember(streamId: string, state: State, version: number): void {
    if (this.cacheSize === 0) return;
    this.cache.delete(streamId); // re-inserted last: the map's order is the order of use
    this.cache.set(streamId, { state, version });
    if (this.cache.size > this.cacheSize) this.cache.delete(this.cache.keys().next().value!);
  }

  /** Back to the front of the queue, in their order, to be decided again on what is stored now. */
  private retry(pendings: Pending<Command, Event, State>[], cause: unknown): void {
    const again: Pending<Command, Event, State>[] = [];
    for (const pending of pendings) {
      pending.conflicts++;
      if (pending.conflicts > this.maxConflictRetries) pending.reject(cause ?? new ConcurrencyError(pending.spec.streamId, -1, -1));
      else again.push(pending);
    }
    this.queue.unshift(...again);
  }

  private async write(client: Transaction, batch: readonly Pending<Command, Event, State>[]): Promise<Map<Pending<Command, Event, State>, Outcome<Event, State>>> {
    const { store, decider } = this.options;
    const schema = store.schema;
    const outcomes = new Map<Pending<Command, Event, State>, Outcome<Event, State>>();

    // 1. Inbox: the entries already there (or twice in this batch) are duplicates.
    const withInbox = batch.filter((p) => p.spec.inbox);
    if (withInbox.length > 0) {
      const sorted = [...withInbox].sort((a, b) => compare(inboxKey(a), inboxKey(b)));
      const { rows } = await client.query(
        `INSERT INTO ${schema}.inbox (consumer, event_id) SELECT * FROM unnest($1::text[], $2::text[]) ON CONFLICT DO NOTHING RETURNING consumer, event_id`,
        [sorted.map((p) => p.spec.inbox!.consumer), sorted.map((p) => p.spec.inbox!.eventId)],
      );
      const recorded = new Set(rows.map((r) => `${r.consumer}\u0000${r.event_id}`));
      const claimed = new Set<string>();
      for (const pending of withInbox) {
        const key = inboxKey(pending);
        // The same event twice in one batch: the first claims it; the second waits for the next batch,
        // where it is a duplicate if the first committed, and applies if the first failed.
        if (claimed.has(key)) outcomes.set(pending, { kind: 'conflict' });
        else if (recorded.has(key)) claimed.add(key);
        else outcomes.set(pending, { kind: 'done', result: { status: 'duplicate' } });
      }
    }
    const live = batch.filter((p) => !outcomes.has(p));
    if (live.length === 0) return outcomes;

    // 2. Every stream of the batch, in one query: from the version the cache holds it at, else whole.
    const streamIds = [...new Set(live.map((p) => p.spec.streamId))];
    const streams = new Map<string, { state: State; version: number }>(streamIds.map((id) => [id, { ...(this.cache.get(id) ?? { state: decider.initialState, version: 0 }) }]));
    const { rows: stored } = await client.query(
      `SELECT e.stream_id, e.stream_version, e.event_type, e.data
         FROM unnest($1::text[], $2::int[]) AS s(stream_id, after_version)
         JOIN ${schema}.events e ON e.stream_id = s.stream_id AND e.stream_version > s.after_version
        ORDER BY e.stream_id, e.stream_version`,
      [streamIds, streamIds.map((id) => streams.get(id)!.version)],
    );
    for (const row of stored) {
      const stream = streams.get(row.stream_id)!;
      stream.state = decider.evolve(stream.state, { type: row.event_type, data: row.data } as Event);
      stream.version = row.stream_version;
    }

    // 3. Decide, per stream in submission order, each on the state the previous one left.
    const decided: Array<{ pending: Pending<Command, Event, State>; applied: { event: Event; stateAfter: State }[]; state: State; versionBefore: number; eventIds: string[] }> = [];
    for (const pending of live) {
      const stream = streams.get(pending.spec.streamId)!;
      let state = stream.state;
      const applied: { event: Event; stateAfter: State }[] = [];
      try {
        for (const event of decider.decide(pending.spec.command, state)) {
          state = decider.evolve(state, event);
          applied.push({ event, stateAfter: state });
        }
      } catch (error) {
        outcomes.set(pending, { kind: 'failed', error });
        continue;
      }
      decided.push({ pending, applied, state, versionBefore: stream.version, eventIds: applied.map(() => this.newEventId()) });
      stream.state = state;
      stream.version += applied.length;
    }

    // 4. Append everything; a version some other writer took first is skipped, and its stream conflicts.
    const appending = decided.filter((d) => d.applied.length > 0).sort((a, b) => compare(a.pending.spec.streamId, b.pending.spec.streamId));
    const occurredAt = this.now();
    const conflictedStreams = new Set<string>();
    if (appending.length > 0) {
      const rows = appending.flatMap((d) =>
        d.applied.map(({ event }, i) => ({
          streamId: d.pending.spec.streamId,
          version: d.versionBefore + i + 1,
          eventId: d.eventIds[i],
          type: event.type,
          data: JSON.stringify(event.data),
          metadata: JSON.stringify(metadataOf(d.pending, occurredAt)),
        })),
      );
      const { rows: inserted } = await client.query(
        `INSERT INTO ${schema}.events (stream_id, stream_version, event_id, event_type, data, metadata)
         SELECT * FROM unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::jsonb[], $6::jsonb[])
         ON CONFLICT DO NOTHING RETURNING event_id`,
        [rows.map((r) => r.streamId), rows.map((r) => r.version), rows.map((r) => r.eventId), rows.map((r) => r.type), rows.map((r) => r.data), rows.map((r) => r.metadata)],
      );
      const written = new Set(inserted.map((r) => r.event_id as string));
      for (const row of rows) if (!written.has(row.eventId)) conflictedStreams.add(row.streamId);
      if (conflictedStreams.size > 0) {
        // Undone before the commit: these commands are decided again on what the other writer stored.
        const undo = decided.filter((d) => conflictedStreams.has(d.pending.spec.streamId));
        await client.query(`DELETE FROM ${schema}.events WHERE event_id = ANY($1::text[])`, [undo.flatMap((d) => d.eventIds).filter((id) => written.has(id))]);
      }
    }
    const committed = decided.filter((d) => !conflictedStreams.has(d.pending.spec.streamId));
    for (const d of decided) if (conflictedStreams.has(d.pending.spec.streamId)) outcomes.set(d.pending, { kind: 'conflict' });
    // A command that failed or is decided again has not been applied: its inbox entry must not commit.
    const inboxUndo = live.filter((p) => p.spec.inbox && outcomes.has(p));
    if (inboxUndo.length > 0) {
      await client.query(`DELETE FROM ${schema}.inbox WHERE (consumer, event_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))`, [
        inboxUndo.map((p) => p.spec.inbox!.consumer),
        inboxUndo.map((p) => p.spec.inbox!.eventId),
      ]);
    }

    // 5. The outbox, in submission order (the relay publishes in id order, so per aggregate in order).
    const outbox: OutboxMessage[] = committed.flatMap((d) =>
      d.applied.flatMap(({ event }, i) =>
        this.options.route(event).map((destination) => ({
          topic: destination.topic,
          key: destination.key,
          eventId: d.eventIds[i],
          eventType: event.type,
          payload: event.data,
          metadata: { ...metadataOf(d.pending, occurredAt), aggregateId: d.pending.spec.streamId, aggregateVersion: d.versionBefore + i + 1 },
        })),
      ),
    );
    await store.enqueue(client, outbox);

    // 6. The caller's rows, for the commands that appended.
    const appended = committed.filter((d) => d.applied.length > 0);
    if (appended.length > 0 && this.options.withinTransaction) {
      await this.options.withinTransaction(
        client,
        appended.map((d) => ({ streamId: d.pending.spec.streamId, correlationId: d.pending.spec.correlationId, command: d.pending.spec.command, applied: d.applied, traceparent: d.pending.trace.traceparent })),
      );
    }
    for (const d of committed) {
      outcomes.set(d.pending, { kind: 'done', result: { status: 'applied', events: d.applied.map((a) => a.event), state: d.state, version: d.versionBefore + d.applied.length } });
    }
    return outcomes;
  }
}

function metadataOf(pending: { spec: BatchedCommand<unknown>; trace: { traceparent: string | null; tracestate: string | null } }, occurredAt: number) {
  return { occurredAt, correlationId: pending.spec.correlationId, causationId: pending.spec.causationId ?? null, ...pending.trace };
}

function inboxKey(pending: { spec: BatchedCommand<unknown> }): string {
  return `${pending.spec.inbox!.consumer}\u0000${pending.spec.inbox!.eventId}`;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Two writers waited on each other's rows; PostgreSQL aborted this one. Nothing was written: the batch runs again. */
function isDeadlock(error: unknown): boolean {
  return (error as { code?: unknown })?.code === '40P01';
}

/**
 * A statement refused the data (SQLSTATE classes 22 data exception, 23 integrity, 42 syntax or
 * access, 54 limits): one command's fault. Not an outage (08 connection, 53 resources, 57 operator
 * intervention), for which splitting the batch would only fail each command again.
 */
function isStatementError(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return typeof code === 'string' && /^(22|23|42|54)/.test(code);
}
