import type { HandedOff } from '@flotilla/messaging';
import { ROOT_CONTEXT } from '@opentelemetry/api';
import { DispatchHandOff } from './dispatch-hand-off';
import type { DispatchSink, TakenDispatch } from './ports';

function pools(room: Record<string, boolean>) {
  const offered: TakenDispatch[] = [];
  const calls: string[] = [];
  const sink: DispatchSink = {
    hasRoom: (agentType) => room[agentType],
    offer: (taken) => void offered.push(taken),
    whenRoom: (agentType, listener) => (calls.push(`whenRoom ${agentType}`), listener()),
    dropQueued: (matches) => void calls.push(`dropQueued ${matches('t.code_gen', 0)} ${matches('t.review', 1)}`),
    drain: async (timeoutMs) => (calls.push(`drain ${timeoutMs}`), true),
  };
  return { sink, offered, calls };
}

function handedOff(topic: string, eventType: string, settled: string[]): HandedOff {
  return {
    event: { topic, partition: 0, offset: '7', key: 'e1', envelope: { eventType, payload: { agentType: 'code_gen' } } as never },
    takenAt: 1_000,
    traceContext: ROOT_CONTEXT,
    settle: () => void settled.push(`settled ${topic}`),
    deadLetter: async (error) => void settled.push(`dead-lettered ${String(error)}`),
  };
}

describe('DispatchHandOff', () => {
  const byTopic = new Map([
    ['t.code_gen', 'code_gen'],
    ['t.review', 'review'],
  ]);

  it.each([
    { topic: 't.code_gen', room: { code_gen: true, review: false }, hasRoom: true },
    { topic: 't.review', room: { code_gen: true, review: false }, hasRoom: false },
  ])('asks the pool of the topic $topic for room', ({ topic, room, hasRoom }) => {
    const { sink } = pools(room);
    expect(new DispatchHandOff(sink, byTopic).hasRoom(topic)).toBe(hasRoom);
  });

  it('hands a dispatch to its agent type\'s pool, settling and dead-lettering through the consumer', async () => {
    const { sink, offered } = pools({ code_gen: true });
    const settled: string[] = [];
    new DispatchHandOff(sink, byTopic).offer(handedOff('t.code_gen', 'flotilla.task.TaskDispatched', settled));
    expect(offered.map((t) => [t.agentType, t.takenAt, t.event.offset])).toEqual([['code_gen', 1_000, '7']]);
    offered[0].settle();
    await offered[0].deadLetter('boom');
    expect(settled).toEqual(['settled t.code_gen', 'dead-lettered boom']);
  });

  it('settles anything but a dispatch at once, without troubling the pools', () => {
    const { sink, offered } = pools({ code_gen: true });
    const settled: string[] = [];
    new DispatchHandOff(sink, byTopic).offer(handedOff('t.code_gen', 'flotilla.task.SomethingElse', settled));
    expect([offered, settled]).toEqual([[], ['settled t.code_gen']]);
  });

  it('passes room, revocations and draining on to the pools, by agent type', async () => {
    const { sink, calls } = pools({});
    const handOff = new DispatchHandOff(sink, byTopic);
    let resumed = false;
    handOff.whenRoom('t.review', () => (resumed = true));
    handOff.partitionsRevoked((topic, partition) => topic === 't.review' && partition === 1);
    await expect(handOff.drain(500)).resolves.toBe(true);
    expect([resumed, calls]).toEqual([true, ['whenRoom review', 'dropQueued false true', 'drain 500']]);
    expect(handOff.topics).toEqual(['t.code_gen', 't.review']);
    expect(() => handOff.hasRoom('t.unknown')).toThrow(/not a dispatch topic/);
  });
});
