import { caughtUp, IllegalRebuildTransitionError, progressOf, transition, truncatedPartitions, TruncatedHistoryError } from './rebuild';

describe('rebuild', () => {
  it('runs replaying, switching, done, and may start again once finished', () => {
    let state = transition('idle', 'replaying');
    state = transition(state, 'switching');
    state = transition(state, 'done');
    expect(transition(state, 'replaying')).toBe('replaying');
    expect(transition('failed', 'replaying')).toBe('replaying');
  });

  it('refuses a second start while one runs, and a switch before the replay', () => {
    expect(() => transition('replaying', 'replaying')).toThrow('a rebuild is already running');
    expect(() => transition('switching', 'replaying')).toThrow(IllegalRebuildTransitionError);
    expect(() => transition('idle', 'switching')).toThrow('a rebuild cannot go from idle to switching');
  });

  it('is caught up when every partition was read up to its end offset taken at the start', () => {
    const ends = [
      { topic: 'a', partition: 0, startOffset: 0, endOffset: 10 },
      { topic: 'a', partition: 1, startOffset: 0, endOffset: 0 },
      { topic: 'b', partition: 0, startOffset: 0, endOffset: 3 },
    ];
    const behind = progressOf(ends, [{ topic: 'a', partition: 0, offset: 9 }, { topic: 'b', partition: 0, offset: 1 }], []);
    expect(behind.map((p) => p.position)).toEqual([10, 0, 2]);
    expect(caughtUp(behind)).toBe(false);
    // The consumer group moved past offset 2 (say, an undecodable message that left no checkpoint).
    const ahead = progressOf(ends, [{ topic: 'a', partition: 0, offset: 9 }, { topic: 'b', partition: 0, offset: 1 }], [{ topic: 'b', partition: 0, offset: 3 }]);
    expect(caughtUp(ahead)).toBe(true);
  });

  it('names the partitions whose oldest events retention deleted', () => {
    const ends = [
      { topic: 'a', partition: 0, startOffset: 0, endOffset: 10 },
      { topic: 'a', partition: 1, startOffset: 4, endOffset: 9 },
    ];
    expect(truncatedPartitions(ends)).toEqual([ends[1]]);
    expect(new TruncatedHistoryError(truncatedPartitions(ends)).message).toContain('a/1 (from offset 4)');
    expect(truncatedPartitions([ends[0]])).toEqual([]);
  });
});
