import type { Admin, Kafka } from 'kafkajs';
import { AvroSerde, ConsumerLag, DEAD_LETTER_HEADERS, ensureTopics, EventConsumer, EventPublisher, RetriesExhaustedError, type HandedOff, type HandOffSink } from '../src';
import { readTopic, stack, testKafka, uniqueNamespace, waitFor } from '@flotilla/testing';

/**
 * A sink that holds what it is offered until the test settles it, with room for `room[topic]`
 * messages per topic (2 by default), like a bulkhead whose slots are all busy.
 */
class HoldingSink implements HandOffSink {
  readonly offered: HandedOff[] = [];
  held: HandedOff[] = [];
  readonly revocations: ((topic: string, partition: number) => boolean)[] = [];
  drainCalls = 0;
  readonly hasRoomCalls = new Map<string, number>();
  private listeners: { topic: string; listener: () => void }[] = [];
  private emptied: (() => void)[] = [];

  constructor(private readonly room: Readonly<Record<string, number>> = {}) {}

  hasRoom(topic: string): boolean {
    this.hasRoomCalls.set(topic, (this.hasRoomCalls.get(topic) ?? 0) + 1);
    return this.held.filter((h) => h.event.topic === topic).length < (this.room[topic] ?? 2);
  }

  offer(handedOff: HandedOff): void {
    this.offered.push(handedOff);
    this.held.push(handedOff);
  }

  whenRoom(topic: string, listener: () => void): void {
    if (this.hasRoom(topic)) return listener();
    this.listeners.push({ topic, listener });
  }

  partitionsRevoked(revoked: (topic: string, partition: number) => boolean): void {
    this.revocations.push(revoked);
    this.held = this.held.filter((h) => !revoked(h.event.topic, h.event.partition));
    this.notify();
  }

  async drain(timeoutMs: number): Promise<boolean> {
    this.drainCalls++;
    if (this.held.length > 0) {
      // Drained when the last held message is settled or revoked (notify), or given up at the time-out.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(finish, timeoutMs);
        function finish() {
          clearTimeout(timer);
          resolve();
        }
        this.emptied.push(finish);
      });
    }
    return this.held.length === 0;
  }

  /** The sink is done with the held messages at these offsets of `topic`. */
  settle(topic: string, ...offsets: string[]): void {
    for (const offset of offsets) {
      const handedOff = this.held.find((h) => h.event.topic === topic && h.event.offset === offset);
      if (!handedOff) throw new Error(`nothing held at ${topic}@${offset}`);
      this.held = this.held.filter((h) => h !== handedOff);
      handedOff.settle();
    }
    this.notify();
  }

  offeredOffsets(topic: string, partition?: number): string[] {
    return this.offered.filter((h) => h.event.topic === topic && (partition === undefined || h.event.partition === partition)).map((h) => h.event.offset);
  }

  private notify(): void {
    if (this.held.length === 0) for (const drained of this.emptied.splice(0)) drained();
    const ready = this.listeners.filter(({ topic }) => this.hasRoom(topic));
    this.listeners = this.listeners.filter((l) => !ready.includes(l));
    for (const { listener } of ready) listener();
  }
}

describe('EventConsumer in hand-off mode (real Kafka and registry)', () => {
  const namespace = uniqueNamespace('handoff');
  const type = `flotilla.test.${namespace}.Job`;
  const serde = AvroSerde.create(stack.registryUrl, {
    [type]: { type: 'record', name: 'Job', namespace: `flotilla.test.${namespace}`, fields: [{ name: 'id', type: 'string' }] },
  });
  let kafka: Kafka;
  let publisher: EventPublisher;
  let admin: Admin;
  const consumers: EventConsumer[] = [];

  beforeAll(async () => {
    kafka = testKafka();
    publisher = new EventPublisher(kafka, serde);
    await publisher.connect();
    admin = kafka.admin();
    await admin.connect();
  });
  afterAll(async () => {
    await Promise.all(consumers.map((c) => c.stop()));
    await publisher.disconnect();
    await admin.disconnect();
  });

  const topicOf = async (name: string, partitions = 1): Promise<string> => {
    const topic = `${namespace}.${name}`;
    await ensureTopics(kafka, [
      { name: topic, partitions, retentionMs: 3_600_000, compacted: false },
      { name: `${topic}.dlq`, partitions: 1, retentionMs: 3_600_000, compacted: false },
    ]);
    return topic;
  };
  const publish = (topic: string, ids: string[]) =>
    publisher.publish(
      ids.map((id) => ({ topic, key: id, envelope: { eventId: id, eventType: type, aggregateId: id, aggregateVersion: 1, occurredAt: Date.now(), correlationId: id, causationId: null, traceparent: null, tracestate: null, payload: { id } } })),
    );
  const handOff = (groupId: string, topics: string[], sink: HandOffSink, drainTimeoutMs = 10_000) => {
    const consumer = new EventConsumer(kafka, serde, publisher, {
      groupId,
      topics,
      deadLetterTopic: `${topics[0]}.dlq`,
      retry: { maxAttempts: 2, initialDelayMs: 10, maxDelayMs: 50 },
      mode: { kind: 'hand-off', sink, commitIntervalMs: 50, drainTimeoutMs },
    });
    consumers.push(consumer);
    return consumer;
  };
  const committed = async (groupId: string, topic: string, partition = 0): Promise<string> => {
    const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return offsets.partitions.find((p) => p.partition === partition)!.offset;
  };
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  it('pauses a topic while its sink is full, only that topic, and resumes it when there is room', async () => {
    const [full, other] = [await topicOf('full'), await topicOf('other')];
    const sink = new HoldingSink({ [other]: 10 });
    const group = `${full}.group`;
    const consumer = handOff(group, [full, other], sink);
    await publish(full, ['f0', 'f1', 'f2', 'f3', 'f4', 'f5']);
    await consumer.start();

    await waitFor('the sink to be full', () => sink.offeredOffsets(full).length === 2);
    await waitFor('the sink to be asked once more, and say no', () => (sink.hasRoomCalls.get(full) ?? 0) >= 3);
    const askedWhenFull = sink.hasRoomCalls.get(full)!;
    await publish(other, ['o0', 'o1', 'o2']);
    await waitFor("the other topic's messages to be offered meanwhile", () => sink.offeredOffsets(other).length === 3);
    await sleep(1_000);
    // Paused: the full topic is not fetched again (it would be, batch after batch, were it only refused).
    expect(sink.hasRoomCalls.get(full)).toBe(askedWhenFull);
    expect(sink.offeredOffsets(full)).toEqual(['0', '1']);
    // What it owns and took is what consumer lag counts: four not taken yet.
    expect([consumer.partitionsOf(full), consumer.nextToTake(full, 0)]).toEqual([[0], 2n]);
    const lag = new ConsumerLag(kafka, group, consumer);
    await expect(lag.notTaken(full)).resolves.toBe(4);
    await lag.close();

    sink.settle(full, '0', '1');
    await waitFor('the next two once there is room', () => sink.offeredOffsets(full).length === 4);
    sink.settle(full, '2', '3');
    await waitFor('the last two', () => sink.offeredOffsets(full).length === 6);
    sink.settle(full, '4', '5');
    expect(sink.offeredOffsets(full)).toEqual(['0', '1', '2', '3', '4', '5']); // each once, in order
    await waitFor('everything settled to be committed', async () => (await committed(group, full)) === '6');
  });

  it('commits only the settled prefix when messages are settled out of order', async () => {
    const topic = await topicOf('prefix');
    const sink = new HoldingSink({ [topic]: 10 });
    const group = `${topic}.group`;
    await publish(topic, ['p0', 'p1', 'p2']);
    await handOff(group, [topic], sink).start();
    await waitFor('all three offered', () => sink.offered.length === 3);

    sink.settle(topic, '2', '1');
    await waitFor('the first take to be committed', async () => (await committed(group, topic)) === '0');
    await sleep(500); // ten commit intervals
    expect(await committed(group, topic)).toBe('0'); // 0 still runs: 1 and 2 would be lost in a crash
    sink.settle(topic, '0');
    await waitFor('the whole prefix to be committed', async () => (await committed(group, topic)) === '3');
  });

  it("drops a revoked partition's waiting messages from the sink; the partition's new owner gets them", async () => {
    const topic = await topicOf('revoke', 2);
    const group = `${topic}.group`;
    const first = new HoldingSink({ [topic]: 100 });
    const ids = Array.from({ length: 10 }, (_, i) => `r${i}`);
    await publish(topic, ids);
    const a = handOff(group, [topic], first);
    await a.start();
    await waitFor('every message offered to the first consumer', () => first.offered.length === ids.length);
    expect(new Set(first.offered.map((h) => h.event.partition))).toEqual(new Set([0, 1]));

    const second = new HoldingSink({ [topic]: 100 });
    const b = handOff(group, [topic], second);
    await b.start();
    await waitFor('the group to split the partitions', () => a.partitionsOf(topic).length === 1 && b.partitionsOf(topic).length === 1, { timeoutMs: 60_000 });
    const [moved] = b.partitionsOf(topic);
    const [kept] = a.partitionsOf(topic);
    expect(first.revocations.some((revoked) => revoked(topic, moved) && !revoked(topic, kept))).toBe(true);
    // The first sink forgot what waited in the moved partition, and kept the rest.
    expect(first.held.every((h) => h.event.partition === kept)).toBe(true);
    expect(first.held.length).toBe(first.offeredOffsets(topic, kept).length);
    // Never settled, so never committed: the new owner gets every one of them.
    await waitFor("the moved partition's messages offered to the second consumer", () => second.offered.length === first.offeredOffsets(topic, moved).length);
    expect(second.offeredOffsets(topic, moved)).toEqual(first.offeredOffsets(topic, moved));
  });

  it('lets the sink drain on stop, then commits what it settled meanwhile', async () => {
    const topic = await topicOf('drain');
    const sink = new HoldingSink({ [topic]: 10 });
    const group = `${topic}.group`;
    await publish(topic, ['d0', 'd1']);
    const consumer = handOff(group, [topic], sink);
    await consumer.start();
    await waitFor('both offered', () => sink.offered.length === 2);
    sink.settle(topic, '0');

    const stopAt = Date.now();
    setTimeout(() => sink.settle(topic, '1'), 500); // still running when the stop begins
    await consumer.stop();
    expect(sink.drainCalls).toBe(1);
    expect(Date.now() - stopAt).toBeGreaterThanOrEqual(450);
    expect(await committed(group, topic)).toBe('2');
    await consumer.stop(); // a second stop (the platform's, after the transport's) waits for the same one
    expect(sink.drainCalls).toBe(1);
  });

  it('dead-letters undecodable messages and work the sink gives up on, with the cause; offers again what failed for a dependency away', async () => {
    const topic = await topicOf('dead');
    const sink = new HoldingSink({ [topic]: 10 });
    const group = `${topic}.group`;
    await publisher.sendRaw(topic, { key: 'garbage', value: Buffer.from('not avro at all') });
    await publish(topic, ['x1', 'x2']);
    await handOff(group, [topic], sink).start();
    await waitFor('the decodable two offered', () => sink.offered.length === 2);
    expect(sink.offeredOffsets(topic)).toEqual(['1', '2']);

    const [x1, x2] = sink.held;
    await x1.deadLetter(new RetriesExhaustedError(new Error('outcome rejected'), 8));
    await x2.deadLetter(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }));
    await waitFor('the one that failed for a dependency to be offered again', () => sink.offeredOffsets(topic).length === 3, { timeoutMs: 10_000 });
    expect(sink.offeredOffsets(topic)).toEqual(['1', '2', '2']);
    sink.held = sink.held.filter((h) => h !== x1 && h !== x2);
    sink.settle(topic, '2');

    const deadLetters = await readTopic(kafka, `${topic}.dlq`, (ms) => ms.length >= 2);
    const causes = deadLetters.map((m) => ({
      offset: m.headers![DEAD_LETTER_HEADERS.originalOffset]!.toString(),
      code: m.headers![DEAD_LETTER_HEADERS.errorCode]!.toString(),
      attempts: m.headers![DEAD_LETTER_HEADERS.attempts]!.toString(),
      message: m.headers![DEAD_LETTER_HEADERS.errorMessage]!.toString(),
    }));
    expect(causes).toEqual([
      { offset: '0', code: 'UNDECODABLE_MESSAGE', attempts: '1', message: expect.stringMatching(/wire format/) },
      { offset: '1', code: 'HANDLER_FAILED', attempts: '8', message: 'Error: outcome rejected' },
    ]);
    await waitFor('everything committed: dead letters count as settled', async () => (await committed(group, topic)) === '3');
    const [dlq] = await admin.fetchTopicOffsets(`${topic}.dlq`);
    expect(Number(dlq.high) - Number(dlq.low)).toBe(2); // the one offered again was not dead-lettered
  });
});
