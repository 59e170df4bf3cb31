import { Bulkhead, type BulkheadJob } from './bulkhead';

/** A job that runs until the test lets it finish. */
function job(name: string, log: string[]): BulkheadJob & { finish(): void; name: string } {
  let finish: () => void = () => undefined;
  const done = new Promise<void>((resolve) => (finish = resolve));
  return {
    name,
    finish: () => finish(),
    run: async () => {
      log.push(`start ${name}`);
      await done;
    },
  };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('Bulkhead', () => {
  it('runs up to the limit, queues up to limit × queuePerSlot, and refuses beyond', () => {
    const log: string[] = [];
    const bulkhead = new Bulkhead(2, 1);
    const jobs = ['a', 'b', 'c', 'd', 'e'].map((n) => job(n, log));
    expect(jobs.map((j) => bulkhead.offer(j))).toEqual([true, true, true, true, false]);
    expect(log).toEqual(['start a', 'start b']);
    expect([bulkhead.inFlight, bulkhead.queued]).toEqual([2, 2]);
  });

  it('starts the next waiting job when one finishes, and tells a waiting listener there is room', async () => {
    const log: string[] = [];
    const bulkhead = new Bulkhead(1, 1);
    const [a, b, c] = ['a', 'b', 'c'].map((n) => job(n, log));
    bulkhead.offer(a);
    bulkhead.offer(b);
    expect(bulkhead.offer(c)).toBe(false);
    let room = 0;
    bulkhead.whenRoom(() => room++);
    a.finish();
    await settle();
    expect(log).toEqual(['start a', 'start b']);
    expect(room).toBe(1);
  });

  it('starts more at once when the limit grows; when it shrinks, lets running jobs finish and starts none beyond it', async () => {
    const log: string[] = [];
    const bulkhead = new Bulkhead(1, 10);
    const jobs = ['a', 'b', 'c', 'd', 'e'].map((n) => job(n, log));
    jobs.forEach((j) => bulkhead.offer(j));
    bulkhead.setLimit(3);
    expect(bulkhead.inFlight).toBe(3);
    bulkhead.setLimit(1);
    expect(bulkhead.inFlight).toBe(3); // nothing is stopped
    jobs[0].finish();
    jobs[1].finish();
    await settle();
    expect(bulkhead.inFlight).toBe(1);
    expect(log).toEqual(['start a', 'start b', 'start c']);
    jobs[2].finish();
    await settle();
    expect(log).toEqual(['start a', 'start b', 'start c', 'start d']);
  });

  it('removes waiting jobs but never running ones', () => {
    const log: string[] = [];
    const bulkhead = new Bulkhead(1, 5);
    const [a, b, c] = ['a', 'b', 'c'].map((n) => job(n, log));
    [a, b, c].forEach((j) => bulkhead.offer(j));
    expect(bulkhead.remove((j) => j === a || j === c)).toEqual([c]);
    expect([bulkhead.inFlight, bulkhead.queued]).toEqual([1, 1]);
  });

  it('drains running jobs within a time limit', async () => {
    const bulkhead = new Bulkhead(2, 1);
    const a = job('a', []);
    bulkhead.offer(a);
    const draining = bulkhead.drain(5_000);
    a.finish();
    expect(await draining).toBe(true);
    bulkhead.offer(job('stuck', []));
    expect(await bulkhead.drain(10)).toBe(false);
  });
});
