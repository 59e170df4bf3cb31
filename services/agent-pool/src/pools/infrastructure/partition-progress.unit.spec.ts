import { PartitionProgress } from './partition-progress';

describe('PartitionProgress', () => {
  it('commits only up to the first unfinished offset, whatever order they finish in', () => {
    const p = new PartitionProgress();
    ['10', '11', '12'].forEach((o) => expect(p.take(o)).toBe(true));
    expect(p.toCommit()).toBe('10');
    p.finish('12');
    p.finish('11');
    expect(p.toCommit()).toBe('10'); // 10 still runs
    p.finish('10');
    expect(p.toCommit()).toBe('13');
    p.committedAt('13');
    expect(p.toCommit()).toBeNull();
    expect(p.pending).toBe(0);
  });

  it('skips offsets fetched again: running ones, finished ones, and those below the commit point', () => {
    const p = new PartitionProgress();
    ['5', '6', '7'].forEach((o) => p.take(o));
    p.finish('5');
    p.finish('7');
    expect(['5', '6', '7'].map((o) => p.take(o))).toEqual([false, false, false]);
    expect(p.take('8')).toBe(true);
    expect(p.pending).toBe(2);
    expect(p.nextToTake).toBe(9n);
  });

  it('moves over gaps in the offsets', () => {
    const p = new PartitionProgress();
    p.take('0');
    p.take('3');
    p.finish('0');
    expect(p.toCommit()).toBe('3');
    p.finish('3');
    expect(p.toCommit()).toBe('4');
  });
});
