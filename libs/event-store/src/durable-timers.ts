import type { Pool, PoolClient } from 'pg';

/** A timer to start: its identity (scheduling the same id again moves it), its owner, when, and what it carries. */
export interface NewTimer<Payload> {
  readonly timerId: string;
  /** The aggregate it belongs to: all of a stream's timers can be cancelled at once. */
  readonly streamId: string;
  readonly dueAt: number;
  readonly payload: Payload;
}

export interface DueTimer<Payload> extends NewTimer<Payload> {
  /** The trace of the command that started it, so that its firing joins the same trace. */
  readonly traceparent: string | null;
}

/**
 * Durable timers in the service's event-store schema (`durable_timers`). They are scheduled in the
 * transaction of the events they follow from, so a crash can neither lose a timer nor start one for
 * an event that was not committed. Firing is at least once: the poller records each firing in the
 * inbox under the timer's identity and due time, so the command it runs applies once.
 */
export class DurableTimers<Payload> {
  constructor(
    private readonly pool: Pool,
    private readonly schema: string,
  ) {}

  /**
   * The timer changes of a whole batch of commands, in two statements (a delete, then an insert),
   * netted first so that the order of the commands holds (see `netTimerChanges`).
   */
  async applyChanges(client: PoolClient, changes: readonly TimerChange<Payload>[]): Promise<void> {
    const { cancel, cancelStreams, schedule } = netTimerChanges(changes);
    if (cancel.length > 0 || cancelStreams.length > 0) {
      await client.query(`DELETE FROM ${this.schema}.durable_timers WHERE timer_id = ANY($1::text[]) OR stream_id = ANY($2::text[])`, [cancel, cancelStreams]);
    }
    if (schedule.length === 0) return;
    await client.query(
      `INSERT INTO ${this.schema}.durable_timers (timer_id, stream_id, due_at, payload, traceparent)
         SELECT t.timer_id, t.stream_id, to_timestamp(t.due_ms / 1000.0), t.payload, t.traceparent
           FROM unnest($1::text[], $2::text[], $3::float8[], $4::jsonb[], $5::text[]) AS t(timer_id, stream_id, due_ms, payload, traceparent)
       ON CONFLICT (timer_id) DO UPDATE SET due_at = EXCLUDED.due_at, payload = EXCLUDED.payload, traceparent = EXCLUDED.traceparent`,
      [schedule.map((t) => t.timerId), schedule.map((t) => t.streamId), schedule.map((t) => t.dueAt), schedule.map((t) => JSON.stringify(t.payload)), schedule.map((t) => t.traceparent)],
    );
  }

  /** Moves a timer later (a heartbeat pushing its deadline), never earlier; nothing if it is gone. */
  async postpone(timerId: string, dueAt: number): Promise<void> {
    await this.pool.query(`UPDATE ${this.schema}.durable_timers SET due_at = GREATEST(due_at, to_timestamp($2 / 1000.0)) WHERE timer_id = $1`, [timerId, dueAt]);
  }

  /** The timers due at `now`, earliest first. */
  async due(now: number, limit: number): Promise<DueTimer<Payload>[]> {
    const { rows } = await this.pool.query(
      `SELECT timer_id, stream_id, payload, traceparent, (extract(epoch from due_at) * 1000)::bigint AS due_ms
         FROM ${this.schema}.durable_timers WHERE due_at <= to_timestamp($1 / 1000.0) ORDER BY due_at LIMIT $2`,
      [now, limit],
    );
    return rows.map((r) => ({ timerId: r.timer_id, streamId: r.stream_id, dueAt: Number(r.due_ms), payload: r.payload as Payload, traceparent: r.traceparent }));
  }

  /** Removes a fired timer, unless it was moved later meanwhile (then it fires again at its new time). */
  async remove(timer: DueTimer<Payload>): Promise<void> {
    await this.pool.query(`DELETE FROM ${this.schema}.durable_timers WHERE timer_id = $1 AND due_at <= to_timestamp($2 / 1000.0)`, [timer.timerId, timer.dueAt]);
  }
}

/** What one command does to its stream's timers; the commands of a batch are given in the order they were decided. */
export interface TimerChange<Payload> {
  readonly streamId: string;
  /** Every timer the stream had before this command goes (its aggregate ended). */
  readonly cancelAll: boolean;
  readonly cancel: readonly string[];
  readonly schedule: readonly NewTimer<Payload>[];
  readonly traceparent: string | null;
}

/**
 * A batch's timer changes as one delete and one insert, with the same result as applying each
 * command's in turn: a timer scheduled by one command and cancelled by a later one (or by its
 * stream ending) is not inserted; one cancelled and then scheduled again is deleted and inserted.
 * The delete runs first, so everything still scheduled at the end is inserted after it.
 */
export function netTimerChanges<Payload>(changes: readonly TimerChange<Payload>[]): {
  cancel: string[];
  cancelStreams: string[];
  schedule: Array<NewTimer<Payload> & { readonly traceparent: string | null }>;
} {
  const cancel = new Set<string>();
  const cancelStreams = new Set<string>();
  const schedule = new Map<string, NewTimer<Payload> & { readonly traceparent: string | null }>();
  for (const change of changes) {
    if (change.cancelAll) {
      cancelStreams.add(change.streamId);
      for (const [id, timer] of schedule) if (timer.streamId === change.streamId) schedule.delete(id);
    }
    for (const id of change.cancel) {
      cancel.add(id);
      schedule.delete(id);
    }
    for (const timer of change.schedule) schedule.set(timer.timerId, { ...timer, traceparent: change.traceparent });
  }
  return { cancel: [...cancel], cancelStreams: [...cancelStreams], schedule: [...schedule.values()] };
}
