import { Client, type Pool, type PoolClient } from 'pg';
import { CommandBatcher, PostgresEventStore, schemaName, type BatchedCommand, type CommandResult } from '../src';
import { stack, testPool, uniqueNamespace, waitFor } from '@flotilla/testing';
import { notesDecider, type NoteCommand, type NoteEvent, type NoteState } from './notes.decider';

const TOPIC = 'flotilla.test.notes';
const CONSUMER = 'batcher-test';

/** The event store, counting the transactions opened on it: the batcher opens one per batch. */
class CountingStore extends PostgresEventStore {
  transactions = 0;

  override withTransaction<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    this.transactions++;
    return super.withTransaction(work);
  }
}

const note = (streamId: string, text: string, delivery?: string, times?: number): BatchedCommand<NoteCommand> => ({
  streamId,
  command: { type: 'Note', streamId, note: text, times },
  correlationId: streamId,
  inbox: delivery ? { consumer: CONSUMER, eventId: delivery } : undefined,
});

const explode = (streamId: string, message: string, delivery?: string): BatchedCommand<NoteCommand> => ({
  streamId,
  command: { type: 'Explode', message },
  correlationId: streamId,
  inbox: delivery ? { consumer: CONSUMER, eventId: delivery } : undefined,
});

type Applied = Extract<CommandResult<NoteEvent, NoteState>, { status: 'applied' }>;

function applied(result: CommandResult<NoteEvent, NoteState>): Applied {
  if (result.status !== 'applied') throw new Error(`expected the command applied, got ${result.status}`);
  return result;
}

describe('CommandBatcher: commands submitted together share one transaction (real PostgreSQL)', () => {
  let pool: Pool;
  let store: CountingStore;
  let schema: string;
  let batchers = 0;

  beforeAll(async () => {
    pool = testPool();
    schema = schemaName(uniqueNamespace('batcher'));
    store = new CountingStore(pool, schema);
    await store.migrate();
  });
  afterAll(() => pool.end());

  /** A batcher over the test decider, recording what it decided on which state, the errors it threw and the event ids it handed out. */
  function newBatcher() {
    const prefix = `b${++batchers}`;
    const decided: Array<{ readonly command: NoteCommand; readonly onValue: number }> = [];
    const thrown: unknown[] = [];
    const eventIds: string[] = [];
    const batcher = new CommandBatcher<NoteCommand, NoteEvent, NoteState>({
      store,
      decider: {
        ...notesDecider,
        decide: (command, state) => {
          decided.push({ command, onValue: state.value });
          try {
            return notesDecider.decide(command, state);
          } catch (error) {
            thrown.push(error);
            throw error;
          }
        },
      },
      route: (event) => [{ topic: TOPIC, key: event.data.streamId }],
      newEventId: () => {
        const id = `${prefix}-e${eventIds.length + 1}`;
        eventIds.push(id);
        return id;
      },
    });
    return { batcher, decided, thrown, eventIds };
  }

  async function stream(streamId: string) {
    const { rows } = await pool.query(`SELECT stream_version, event_id, data FROM ${schema}.events WHERE stream_id = $1 ORDER BY stream_version`, [streamId]);
    return rows.map((r) => ({ version: r.stream_version as number, eventId: r.event_id as string, value: r.data.value as number, note: r.data.note as string }));
  }

  async function outbox(keys: readonly string[], afterId = 0) {
    const { rows } = await pool.query(`SELECT event_id, message_key, metadata FROM ${schema}.outbox WHERE message_key = ANY($1::text[]) AND id > $2 ORDER BY id`, [keys, afterId]);
    return rows.map((r) => ({ eventId: r.event_id as string, key: r.message_key as string, version: r.metadata.aggregateVersion as number }));
  }

  async function inbox(delivery: string): Promise<number> {
    const { rows } = await pool.query(`SELECT count(*)::int AS n FROM ${schema}.inbox WHERE consumer = $1 AND event_id = $2`, [CONSUMER, delivery]);
    return rows[0].n;
  }

  it('commits the rest of a batch when another writer took the next version of one stream, and decides that command again on what it stored', async () => {
    const { batcher, decided, eventIds } = newBatcher();
    const [x, y, z] = ['conflict-x', 'conflict-y', 'conflict-z'];
    const seeded = applied(await batcher.submit(note(x, 'seed')));
    expect(seeded.version).toBe(1);
    const outboxBefore = Number((await pool.query(`SELECT coalesce(max(id), 0) AS id FROM ${schema}.outbox`)).rows[0].id);

    // Another writer appends X's version 2 and keeps its transaction open.
    const other = new Client({ connectionString: stack.databaseUrl });
    await other.connect();
    try {
      const otherPid = (await other.query('SELECT pg_backend_pid() AS pid')).rows[0].pid as number;
      await other.query('BEGIN');
      await other.query(
        `INSERT INTO ${schema}.events (stream_id, stream_version, event_id, event_type, data, metadata) VALUES ($1, 2, 'other-writer-x-2', 'flotilla.test.Noted', $2, $3)`,
        [
          x,
          JSON.stringify({ streamId: x, value: 2, note: 'other writer' }),
          JSON.stringify({ occurredAt: Date.now(), correlationId: x, causationId: null, traceparent: null, tracestate: null }),
        ],
      );

      const transactionsBefore = store.transactions;
      const decidedBefore = decided.length;
      // Submitted in the same turn: one batch. X's command appends two events: its version 2, which
      // the other writer holds, and its version 3, which nobody does and must not stay behind either.
      const submitted = [batcher.submit(note(x, 'x command', 'x-delivery', 2)), batcher.submit(note(y, 'y command', 'y-delivery')), batcher.submit(note(z, 'z command', 'z-delivery'))];
      const settled = Promise.allSettled(submitted);

      // The batch loaded X without the uncommitted row, and its insert of X's version 2 waits on it.
      const waiting = await waitFor('the batch to wait on the other writer', async () => {
        const { rows } = await pool.query(`SELECT pid, wait_event_type FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND $1 = ANY(pg_blocking_pids(pid))`, [otherPid]);
        return rows[0] as { pid: number; wait_event_type: string } | undefined;
      });
      expect(waiting.wait_event_type).toBe('Lock');
      expect(store.transactions - transactionsBefore).toBe(1);
      expect(decided.slice(decidedBefore).map((d) => d.command)).toEqual([note(x, 'x command', undefined, 2).command, note(y, 'y command').command, note(z, 'z command').command]);
      // Y and Z are in the same transaction: nothing of them is visible while it waits.
      expect(await stream(y)).toEqual([]);
      expect(await stream(z)).toEqual([]);

      await other.query('COMMIT');
      const results = await settled;
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled']);
      const [rx, ry, rz] = (await Promise.all(submitted)).map(applied);

      // Y and Z committed in the first batch, X in a second one of its own.
      expect(store.transactions - transactionsBefore).toBe(2);
      expect(ry).toMatchObject({ version: 1, events: [{ data: { streamId: y, value: 1, note: 'y command' } }] });
      expect(rz).toMatchObject({ version: 1, events: [{ data: { streamId: z, value: 1, note: 'z command' } }] });
      // X's command was decided twice: on version 1, then on the other writer's event.
      expect(decided.slice(decidedBefore).filter((d) => d.command.type === 'Note' && d.command.streamId === x).map((d) => d.onValue)).toEqual([1, 2]);
      expect(rx).toEqual({
        status: 'applied',
        version: 4,
        events: [
          { type: 'flotilla.test.Noted', data: { streamId: x, value: 3, note: 'x command' } },
          { type: 'flotilla.test.Noted', data: { streamId: x, value: 4, note: 'x command' } },
        ],
        state: { value: 4, notes: ['seed', 'other writer', 'x command', 'x command'] },
      });

      // X's stream: the seed, the other writer's event, X's command on top; nothing of the first try.
      const xRows = await stream(x);
      expect(xRows.map(({ version, value, note: text }) => ({ version, value, note: text }))).toEqual([
        { version: 1, value: 1, note: 'seed' },
        { version: 2, value: 2, note: 'other writer' },
        { version: 3, value: 3, note: 'x command' },
        { version: 4, value: 4, note: 'x command' },
      ]);
      expect(xRows[1].eventId).toBe('other-writer-x-2');
      const [yRows, zRows] = [await stream(y), await stream(z)];
      expect(yRows.map((r) => r.version)).toEqual([1]);
      expect(zRows.map((r) => r.version)).toEqual([1]);

      // Seven ids handed out (seed, X's first try twice, Y, Z, X's second try twice): the first try's are stored nowhere.
      const stored = new Set([...xRows, ...yRows, ...zRows].map((r) => r.eventId));
      expect(eventIds).toHaveLength(7);
      const firstTry = eventIds.filter((id) => !stored.has(id));
      expect(firstTry).toHaveLength(2);
      const anywhere = await pool.query(
        `SELECT (SELECT count(*) FROM ${schema}.events WHERE event_id = ANY($1::text[]))::int AS events, (SELECT count(*) FROM ${schema}.outbox WHERE event_id = ANY($1::text[]))::int AS outbox`,
        [firstTry],
      );
      expect(anywhere.rows[0]).toEqual({ events: 0, outbox: 0 });

      // The outbox: exactly the events of Y, Z and X's second try (the other writer queued nothing).
      const queued = await outbox([x, y, z], outboxBefore);
      expect([...queued].sort((a, b) => a.key.localeCompare(b.key) || a.version - b.version)).toEqual([
        { eventId: xRows[2].eventId, key: x, version: 3 },
        { eventId: xRows[3].eventId, key: x, version: 4 },
        { eventId: yRows[0].eventId, key: y, version: 1 },
        { eventId: zRows[0].eventId, key: z, version: 1 },
      ]);

      // X's inbox entry, undone with the first try, committed once with the second.
      expect(await inbox('x-delivery')).toBe(1);
      expect(await inbox('y-delivery')).toBe(1);
      expect(await inbox('z-delivery')).toBe(1);
    } finally {
      await other.query('ROLLBACK').catch(() => undefined);
      await other.end();
    }
  });

  it('returns duplicate for a command whose inbox entry is recorded and appends nothing, applies the rest of its batch, and applies an entry given twice in one batch once', async () => {
    const { batcher } = newBatcher();
    expect(applied(await batcher.submit(note('dup-a', 'first delivery', 'dup-a-delivery'))).version).toBe(1);

    const transactionsBefore = store.transactions;
    const [redelivered, b, c, twiceFirst, twiceSecond] = await Promise.all([
      batcher.submit(note('dup-a', 'redelivered', 'dup-a-delivery')),
      batcher.submit(note('dup-b', 'b', 'dup-b-delivery')),
      batcher.submit(note('dup-c', 'c')),
      batcher.submit(note('dup-d', 'd first delivery', 'dup-d-delivery')),
      batcher.submit(note('dup-d', 'd second delivery', 'dup-d-delivery')),
    ]);
    // The repeated delivery is not answered in the batch that claimed it: it waits for the next one.
    expect(store.transactions - transactionsBefore).toBe(2);

    expect(redelivered).toEqual({ status: 'duplicate' });
    expect((await stream('dup-a')).map((r) => r.note)).toEqual(['first delivery']);
    expect((await outbox(['dup-a'])).map((r) => r.version)).toEqual([1]);

    expect(b).toMatchObject({ status: 'applied', version: 1 });
    expect(c).toMatchObject({ status: 'applied', version: 1 });
    expect((await stream('dup-b')).map((r) => r.note)).toEqual(['b']);
    expect((await stream('dup-c')).map((r) => r.note)).toEqual(['c']);

    // The first of the two deliveries applies, the second is its duplicate.
    expect(twiceFirst).toMatchObject({ status: 'applied', version: 1 });
    expect(twiceSecond).toEqual({ status: 'duplicate' });
    expect((await stream('dup-d')).map((r) => ({ version: r.version, note: r.note }))).toEqual([{ version: 1, note: 'd first delivery' }]);
    expect((await outbox(['dup-d'])).map((r) => r.version)).toEqual([1]);
    expect(await inbox('dup-d-delivery')).toBe(1);
  });

  it('applies the second of two deliveries of one event in a batch when the first failed, rather than calling it a duplicate', async () => {
    const { batcher } = newBatcher();
    const [first, second] = await Promise.allSettled([
      batcher.submit(explode('twice-failed', 'the first delivery fails', 'twice-failed-delivery')),
      batcher.submit(note('twice-failed', 'second delivery', 'twice-failed-delivery')),
    ]);
    expect(first.status).toBe('rejected');
    expect(second).toMatchObject({ status: 'fulfilled', value: { status: 'applied', version: 1 } });
    expect((await stream('twice-failed')).map((r) => r.note)).toEqual(['second delivery']);
    expect(await inbox('twice-failed-delivery')).toBe(1);
  });

  it('fails alone a command whose decide throws: the others commit, and its inbox entry is not recorded so that a redelivery applies', async () => {
    const { batcher, thrown } = newBatcher();
    const transactionsBefore = store.transactions;
    const results = await Promise.allSettled([
      batcher.submit(note('throw-a', 'a', 'throw-a-delivery')),
      batcher.submit(explode('throw-b', 'the decider refuses', 'throw-b-delivery')),
      batcher.submit(note('throw-c', 'c', 'throw-c-delivery')),
      // The failed command's stream is not held back by it.
      batcher.submit(note('throw-b', 'after the failure')),
    ]);
    expect(store.transactions - transactionsBefore).toBe(1);

    expect(thrown).toHaveLength(1);
    expect(results[1]).toEqual({ status: 'rejected', reason: thrown[0] });
    expect((thrown[0] as Error).message).toBe('the decider refuses');
    expect(results[0]).toMatchObject({ status: 'fulfilled', value: { status: 'applied', version: 1 } });
    expect(results[2]).toMatchObject({ status: 'fulfilled', value: { status: 'applied', version: 1 } });
    expect(results[3]).toMatchObject({ status: 'fulfilled', value: { status: 'applied', version: 1, state: { notes: ['after the failure'] } } });

    expect((await stream('throw-a')).map((r) => r.note)).toEqual(['a']);
    expect((await stream('throw-b')).map((r) => r.note)).toEqual(['after the failure']);
    expect((await stream('throw-c')).map((r) => r.note)).toEqual(['c']);
    expect(await inbox('throw-a-delivery')).toBe(1);
    expect(await inbox('throw-b-delivery')).toBe(0);
    expect(await inbox('throw-c-delivery')).toBe(1);

    // The same consumed event delivered again (the decider now accepting it) applies rather than being a duplicate.
    expect(await batcher.submit(note('throw-b', 'redelivered', 'throw-b-delivery'))).toMatchObject({ status: 'applied', version: 2 });
    expect(await inbox('throw-b-delivery')).toBe(1);
  });

  it('fails only the command whose data a statement refuses (a NUL character in jsonb): the batch is split and the others commit', async () => {
    const { batcher } = newBatcher();
    const transactionsBefore = store.transactions;
    const results = await Promise.allSettled([
      batcher.submit(note('nul-a', 'a', 'nul-a-delivery')),
      batcher.submit(note('nul-b', 'a NUL \u0000 inside', 'nul-b-delivery')),
      batcher.submit(note('nul-c', 'c', 'nul-c-delivery')),
    ]);
    // The batch, rolled back, then each command alone.
    expect(store.transactions - transactionsBefore).toBe(4);

    expect(results[1]).toMatchObject({ status: 'rejected', reason: { code: expect.stringMatching(/^22/) } });
    expect(results[0]).toMatchObject({ status: 'fulfilled', value: { status: 'applied', version: 1 } });
    expect(results[2]).toMatchObject({ status: 'fulfilled', value: { status: 'applied', version: 1 } });

    expect((await stream('nul-a')).map((r) => r.note)).toEqual(['a']);
    expect(await stream('nul-b')).toEqual([]);
    expect((await stream('nul-c')).map((r) => r.note)).toEqual(['c']);
    expect((await outbox(['nul-a', 'nul-b', 'nul-c'])).map((r) => r.key)).toEqual(['nul-a', 'nul-c']);
    expect(await inbox('nul-a-delivery')).toBe(1);
    expect(await inbox('nul-b-delivery')).toBe(0);
    expect(await inbox('nul-c-delivery')).toBe(1);
  });

  it('applies two commands for one stream submitted together, in submission order, at consecutive versions', async () => {
    const { batcher } = newBatcher();
    const transactionsBefore = store.transactions;
    const [first, second] = await Promise.all([batcher.submit(note('twice', 'first')), batcher.submit(note('twice', 'second'))]);
    expect(store.transactions - transactionsBefore).toBe(1);

    expect(first).toEqual({ status: 'applied', version: 1, events: [{ type: 'flotilla.test.Noted', data: { streamId: 'twice', value: 1, note: 'first' } }], state: { value: 1, notes: ['first'] } });
    expect(second).toEqual({ status: 'applied', version: 2, events: [{ type: 'flotilla.test.Noted', data: { streamId: 'twice', value: 2, note: 'second' } }], state: { value: 2, notes: ['first', 'second'] } });
    const rows = await stream('twice');
    expect(rows.map(({ version, value, note: text }) => ({ version, value, note: text }))).toEqual([
      { version: 1, value: 1, note: 'first' },
      { version: 2, value: 2, note: 'second' },
    ]);
    // Queued in the same order, so the relay publishes them in order.
    expect(await outbox(['twice'])).toEqual(rows.map((r) => ({ eventId: r.eventId, key: 'twice', version: r.version })));
  });
});
