import { HandOffProgress, type TakenOffset } from './hand-off';

/**
 * Steps on a hand-off consumer's bookkeeping, written `verb topic/partition@offset`:
 * - `assign a/0 a/1 b/0`: a group join with that assignment;
 * - `take a/0@5`: hand a message off (it must be new), `skip a/0@5`: fetched again, not new;
 * - `settle a/0@5`: the sink is done with what was taken at a/0@5 (the latest take of it);
 *   `settle-first a/0@5`: with the first take of it (before a revocation);
 * - `commit`: whatever toCommit says is committed.
 */
interface Case {
  readonly name: string;
  readonly steps: readonly string[];
  /** What toCommit says after the steps, as `topic/partition@offset`. */
  readonly toCommit: readonly string[];
  readonly nextToTake?: Readonly<Record<string, bigint | null>>;
  readonly revoked?: readonly string[];
  readonly stillOwned?: Readonly<Record<string, boolean>>;
}

const cases: Case[] = [
  {
    name: 'settled out of order: only the settled prefix is committed',
    steps: ['assign a/0', 'take a/0@10', 'take a/0@11', 'take a/0@12', 'settle a/0@12', 'settle a/0@11'],
    toCommit: ['a/0@10'],
    nextToTake: { 'a/0': 13n },
  },
  {
    name: 'the gap closes: the commit jumps past everything settled',
    steps: ['assign a/0', 'take a/0@10', 'take a/0@11', 'take a/0@12', 'settle a/0@12', 'settle a/0@11', 'settle a/0@10'],
    toCommit: ['a/0@13'],
  },
  {
    name: 'committed once: nothing more until the prefix moves',
    steps: ['assign a/0', 'take a/0@0', 'settle a/0@0', 'commit'],
    toCommit: [],
  },
  {
    name: 'the prefix moves after a commit: the new offset is committed',
    steps: ['assign a/0', 'take a/0@0', 'take a/0@1', 'commit', 'settle a/0@0'],
    toCommit: ['a/0@1'],
  },
  {
    name: 'fetched again after a rebalance that kept the partition: running and settled messages are skipped',
    steps: ['assign a/0', 'take a/0@5', 'take a/0@6', 'settle a/0@5', 'commit', 'assign a/0 a/1', 'skip a/0@5', 'skip a/0@6', 'take a/0@7'],
    toCommit: [],
    nextToTake: { 'a/0': 8n, 'a/1': null },
  },
  {
    name: 'partitions each commit their own prefix',
    steps: ['assign a/0 a/1 b/0', 'take a/0@3', 'take a/1@8', 'take b/0@0', 'settle a/1@8', 'settle b/0@0'],
    toCommit: ['a/0@3', 'a/1@9', 'b/0@1'],
  },
  {
    name: 'a revoked partition is forgotten: neither committed nor skipped, and settling what was taken from it changes nothing',
    steps: ['assign a/0 a/1', 'take a/0@4', 'take a/1@4', 'commit', 'assign a/0', 'settle a/1@4', 'settle a/0@4'],
    toCommit: ['a/0@5'],
    revoked: ['a/1'],
    nextToTake: { 'a/1': null },
    stillOwned: { 'a/0@4': true, 'a/1@4': false },
  },
  {
    name: 'a partition given back after a revocation: a late settle of what was taken before counts for nothing',
    steps: ['assign a/0', 'take a/0@4', 'assign', 'assign a/0', 'take a/0@4', 'settle-first a/0@4'],
    toCommit: ['a/0@4'],
    stillOwned: { 'a/0@4': true },
  },
  {
    name: 'a partition given back after a revocation starts afresh: its old messages are taken again',
    steps: ['assign a/0', 'take a/0@4', 'assign', 'assign a/0', 'take a/0@4', 'settle a/0@4'],
    toCommit: ['a/0@5'],
    stillOwned: { 'a/0@4': true },
  },
];

describe('HandOffProgress', () => {
  it.each(cases)('$name', ({ steps, toCommit, nextToTake, revoked, stillOwned }) => {
    const progress = new HandOffProgress();
    const taken = new Map<string, TakenOffset>();
    const firstTaken = new Map<string, TakenOffset>();
    let lastRevoked: (topic: string, partition: number) => boolean = () => false;
    let owned: string[] = [];
    for (const step of steps) {
      const [verb, ...args] = step.split(' ');
      if (verb === 'commit') {
        progress.committed(progress.toCommit());
        continue;
      }
      if (verb === 'assign') {
        const assignment: Record<string, number[]> = {};
        for (const { topic, partition } of args.map(parse)) (assignment[topic] ??= []).push(partition);
        const before = owned;
        owned = args;
        lastRevoked = progress.assigned(assignment);
        // Revoked: exactly what was owned before and is not now.
        expect(before.filter((tp) => lastRevoked(parse(tp).topic, parse(tp).partition))).toEqual(before.filter((tp) => !owned.includes(tp)));
        continue;
      }
      const { topic, partition, offset } = parse(args[0]);
      const at = args[0];
      if (verb === 'take') {
        const t = progress.take(topic, partition, offset!);
        expect([at, t !== null]).toEqual([at, true]);
        if (!firstTaken.has(at)) firstTaken.set(at, t!);
        taken.set(at, t!);
      } else if (verb === 'skip') {
        expect([at, progress.isNew(topic, partition, offset!), progress.take(topic, partition, offset!)]).toEqual([at, false, null]);
      } else if (verb === 'settle') {
        taken.get(at)!.settle();
      } else if (verb === 'settle-first') {
        firstTaken.get(at)!.settle();
      } else throw new Error(`unknown step ${step}`);
    }
    expect(progress.toCommit().map(({ topic, partition, offset }) => `${topic}/${partition}@${offset}`).sort()).toEqual([...toCommit].sort());
    for (const [tp, next] of Object.entries(nextToTake ?? {})) expect([tp, progress.nextToTake(parse(tp).topic, parse(tp).partition)]).toEqual([tp, next]);
    for (const tp of revoked ?? []) expect([tp, lastRevoked(parse(tp).topic, parse(tp).partition), progress.partitionsOf(parse(tp).topic).includes(parse(tp).partition)]).toEqual([tp, true, false]);
    for (const [at, owned] of Object.entries(stillOwned ?? {})) expect([at, taken.get(at)!.stillOwned]).toEqual([at, owned]);
  });

  it('owns what the last assignment says, per topic', () => {
    const progress = new HandOffProgress();
    progress.assigned({ a: [0, 2], b: [1] });
    expect([progress.partitionsOf('a'), progress.partitionsOf('b'), progress.partitionsOf('c')]).toEqual([[0, 2], [1], []]);
  });
});

function parse(tp: string): { topic: string; partition: number; offset?: string } {
  const [topicPartition, offset] = tp.split('@');
  const [topic, partition] = topicPartition.split('/');
  return { topic, partition: Number(partition), offset };
}
