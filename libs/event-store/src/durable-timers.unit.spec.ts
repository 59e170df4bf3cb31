import { netTimerChanges, type NewTimer, type TimerChange } from './durable-timers';

type Payload = { readonly n: number };
type Netted = ReturnType<typeof netTimerChanges<Payload>>;

const timer = (timerId: string, streamId: string, dueAt = 1_000, n = 0): NewTimer<Payload> => ({ timerId, streamId, dueAt, payload: { n } });

const change = (streamId: string, { cancelAll = false, cancel = [], schedule = [], traceparent = null }: Partial<Omit<TimerChange<Payload>, 'streamId'>>): TimerChange<Payload> => ({
  streamId,
  cancelAll,
  cancel,
  schedule,
  traceparent,
});

/** The table as each command would leave it, applied one after the other (what the netted statements must match). */
function applyInTurn(before: ReadonlyMap<string, NewTimer<Payload> & { traceparent: string | null }>, changes: readonly TimerChange<Payload>[]) {
  const table = new Map(before);
  for (const c of changes) {
    if (c.cancelAll) for (const [id, t] of table) if (t.streamId === c.streamId) table.delete(id);
    for (const id of c.cancel) table.delete(id);
    for (const t of c.schedule) table.set(t.timerId, { ...t, traceparent: c.traceparent });
  }
  return table;
}

/** The table after the netted delete, then the netted insert (an upsert), as `applyChanges` runs them. */
function applyNetted(before: ReadonlyMap<string, NewTimer<Payload> & { traceparent: string | null }>, netted: Netted) {
  const table = new Map(before);
  for (const [id, t] of table) if (netted.cancel.includes(id) || netted.cancelStreams.includes(t.streamId)) table.delete(id);
  for (const t of netted.schedule) table.set(t.timerId, t);
  return table;
}

interface Case {
  readonly name: string;
  readonly changes: readonly TimerChange<Payload>[];
  readonly then: Netted;
}

const cases: Case[] = [
  {
    name: 'scheduled, then cancelled by a later command: not inserted (deleted, in case an earlier batch had it)',
    changes: [change('s', { schedule: [timer('t1', 's')], traceparent: 'tp-1' }), change('s', { cancel: ['t1'] })],
    then: { cancel: ['t1'], cancelStreams: [], schedule: [] },
  },
  {
    name: 'cancelled, then scheduled again by a later command: both, the delete then the insert',
    changes: [change('s', { cancel: ['t1'] }), change('s', { schedule: [timer('t1', 's', 2_000)], traceparent: 'tp-2' })],
    then: { cancel: ['t1'], cancelStreams: [], schedule: [{ ...timer('t1', 's', 2_000), traceparent: 'tp-2' }] },
  },
  {
    name: 'scheduled, then every timer of its stream cancelled (the aggregate ended): not inserted',
    changes: [change('s', { schedule: [timer('t1', 's'), timer('t2', 's')], traceparent: 'tp-1' }), change('s', { cancelAll: true })],
    then: { cancel: [], cancelStreams: ['s'], schedule: [] },
  },
  {
    name: 'every timer of the stream cancelled, then one scheduled by a later command: both, the delete then the insert',
    changes: [change('s', { cancelAll: true }), change('s', { schedule: [timer('t1', 's')], traceparent: 'tp-2' })],
    then: { cancel: [], cancelStreams: ['s'], schedule: [{ ...timer('t1', 's'), traceparent: 'tp-2' }] },
  },
  {
    name: 'one command cancelling all of its stream and scheduling anew: both, the new ones inserted after the delete',
    changes: [change('s', { schedule: [timer('old', 's')], traceparent: 'tp-1' }), change('s', { cancelAll: true, schedule: [timer('new', 's')], traceparent: 'tp-2' })],
    then: { cancel: [], cancelStreams: ['s'], schedule: [{ ...timer('new', 's'), traceparent: 'tp-2' }] },
  },
  {
    name: 'the changes of independent streams leave each other alone',
    changes: [
      change('a', { schedule: [timer('a1', 'a')], traceparent: 'tp-a' }),
      change('b', { schedule: [timer('b1', 'b'), timer('b2', 'b')], traceparent: 'tp-b' }),
      change('a', { cancelAll: true }),
      change('b', { cancel: ['b2'] }),
      change('c', { cancel: ['c1'] }),
    ],
    then: { cancel: ['b2', 'c1'], cancelStreams: ['a'], schedule: [{ ...timer('b1', 'b'), traceparent: 'tp-b' }] },
  },
  {
    name: 'the same timer scheduled twice (moved): the last schedule wins, with its own traceparent',
    changes: [
      change('s', { schedule: [timer('t1', 's', 1_000, 1)], traceparent: 'tp-first' }),
      change('s', { schedule: [timer('t1', 's', 5_000, 2)], traceparent: 'tp-last' }),
    ],
    then: { cancel: [], cancelStreams: [], schedule: [{ ...timer('t1', 's', 5_000, 2), traceparent: 'tp-last' }] },
  },
  {
    name: 'nothing changed: nothing to delete or insert',
    changes: [change('s', {})],
    then: { cancel: [], cancelStreams: [], schedule: [] },
  },
];

/** Timers already stored before the batch: one of each id and stream the cases touch, and one of a stream none does. */
const stored = new Map(
  [timer('t1', 's', 10), timer('t2', 's', 10), timer('old', 's', 10), timer('a1', 'a', 10), timer('a9', 'a', 10), timer('b2', 'b', 10), timer('c1', 'c', 10), timer('z1', 'z', 10)].map(
    (t) => [t.timerId, { ...t, traceparent: 'tp-stored' }] as const,
  ),
);

describe('netTimerChanges: a batch of commands\' timer changes as one delete and one insert', () => {
  it.each(cases)('$name', ({ changes, then }) => {
    const netted = netTimerChanges(changes);
    expect(netted).toEqual(then);
    // Whatever was stored before, the delete then the insert leave what each command in turn would have.
    expect(applyNetted(new Map(), netted)).toEqual(applyInTurn(new Map(), changes));
    expect(applyNetted(stored, netted)).toEqual(applyInTurn(stored, changes));
  });
});
