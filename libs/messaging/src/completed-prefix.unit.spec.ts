import { CompletedPrefix } from './completed-prefix';

/** A step: take an offset (expecting whether it was new) or complete one (expecting what the prefix grew to). */
type Step = { take: string; isNew: boolean } | { complete: string; grewTo: string | null };

interface Case {
  readonly name: string;
  readonly given?: readonly string[];
  readonly steps: readonly Step[];
  readonly then: { readonly commitOffset: string | null; readonly pending: number; readonly allDone: boolean; readonly nextToTake: bigint | null };
}

const cases: Case[] = [
  {
    name: 'given out-of-order completions, when the gap closes, the prefix jumps past everything done',
    given: ['10', '11', '12', '13'],
    steps: [
      { complete: '12', grewTo: null },
      { complete: '11', grewTo: null },
      { complete: '10', grewTo: '12' },
    ],
    then: { commitOffset: '13', pending: 1, allDone: false, nextToTake: 14n },
  },
  {
    name: 'in-order completions each extend the prefix, up to all done',
    given: ['5', '6'],
    steps: [
      { complete: '5', grewTo: '5' },
      { complete: '6', grewTo: '6' },
    ],
    then: { commitOffset: '7', pending: 0, allDone: true, nextToTake: 7n },
  },
  {
    name: 'nothing taken: nothing to commit, nothing to take from',
    steps: [],
    then: { commitOffset: null, pending: 0, allDone: true, nextToTake: null },
  },
  {
    name: 'taken one by one: commits only up to the first unfinished offset, whatever order they finish in',
    steps: [
      { take: '10', isNew: true },
      { take: '11', isNew: true },
      { take: '12', isNew: true },
      { complete: '12', grewTo: null },
      { complete: '11', grewTo: null },
    ],
    then: { commitOffset: '10', pending: 1, allDone: false, nextToTake: 13n },
  },
  {
    name: 'fetched again: running, finished and below-the-prefix offsets are not new; a later one is',
    steps: [
      { take: '5', isNew: true },
      { take: '6', isNew: true },
      { take: '7', isNew: true },
      { complete: '5', grewTo: '5' },
      { complete: '7', grewTo: null },
      { take: '5', isNew: false },
      { take: '6', isNew: false },
      { take: '7', isNew: false },
      { take: '8', isNew: true },
    ],
    then: { commitOffset: '6', pending: 2, allDone: false, nextToTake: 9n },
  },
  {
    name: 'moves over gaps in the offsets (never delivered, e.g. control records)',
    steps: [
      { take: '0', isNew: true },
      { take: '3', isNew: true },
      { complete: '0', grewTo: '0' },
    ],
    then: { commitOffset: '3', pending: 1, allDone: false, nextToTake: 4n },
  },
  {
    name: 'an offset completed twice, or never taken, changes nothing',
    steps: [
      { take: '20', isNew: true },
      { take: '21', isNew: true },
      { complete: '20', grewTo: '20' },
      { complete: '20', grewTo: null },
      { complete: '99', grewTo: null },
    ],
    then: { commitOffset: '21', pending: 1, allDone: false, nextToTake: 22n },
  },
  {
    name: 'an offset taken out of order still waits its turn in the prefix',
    steps: [
      { take: '30', isNew: true },
      { take: '33', isNew: true },
      { take: '31', isNew: true },
      { complete: '30', grewTo: '30' },
      { complete: '33', grewTo: null },
      { complete: '31', grewTo: '33' },
    ],
    then: { commitOffset: '34', pending: 0, allDone: true, nextToTake: 34n },
  },
];

describe('CompletedPrefix', () => {
  it.each(cases)('$name', ({ given, steps, then }) => {
    const prefix = new CompletedPrefix(given);
    for (const step of steps) {
      if ('take' in step) expect([step.take, prefix.take(step.take)]).toEqual([step.take, step.isNew]);
      else expect([step.complete, prefix.complete(step.complete)]).toEqual([step.complete, step.grewTo]);
    }
    expect({ commitOffset: prefix.commitOffset, pending: prefix.pending, allDone: prefix.allDone, nextToTake: prefix.nextToTake }).toEqual(then);
  });

  it('keeps up with a long run of offsets finishing in order, forgetting the finished ones', () => {
    const prefix = new CompletedPrefix();
    for (let o = 0; o < 10_000; o++) {
      prefix.take(String(o));
      if (o >= 3) expect(prefix.complete(String(o - 3))).toBe(String(o - 3));
    }
    expect([prefix.commitOffset, prefix.pending, prefix.take('9000')]).toEqual(['9997', 3, false]);
  });
});
