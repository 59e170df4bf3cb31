import { Kafka } from 'kafkajs';
import { AvroSerde, DEAD_LETTER_HEADERS, ensureTopics, EventConsumer, EventPublisher, IncompatibleSchemaError, type ConsumedEvent } from '../src';
import { readTopic, stack, testKafka, uniqueNamespace } from '@flotilla/testing';
import { waitFor } from '@flotilla/testing';

const NOTE_V1 = {
  type: 'record',
  name: 'Note',
  namespace: 'flotilla.test',
  fields: [
    { name: 'id', type: 'string' },
    { name: 'text', type: 'string' },
  ],
};

describe('Avro serde with the schema registry (real registry)', () => {
  it('round-trips a record in the registry wire format', async () => {
    const type = `flotilla.test.${uniqueNamespace('n')}.Note`;
    const schema = { ...NOTE_V1, namespace: type.replace(/\.Note$/, '') };
    const serde = AvroSerde.create(stack.registryUrl, { [type]: schema });
    const bytes = await serde.encode(type, { id: '1', text: 'hello' });
    expect(bytes[0]).toBe(0); // magic byte
    await expect(serde.decode(bytes)).resolves.toEqual({ type, payload: { id: '1', text: 'hello' } });
  });

  it('rejects a breaking change under BACKWARD compatibility and accepts a compatible one', async () => {
    const namespace = `flotilla.test.${uniqueNamespace('c')}`;
    const type = `${namespace}.Note`;
    const v1 = { ...NOTE_V1, namespace };
    const breaking = { ...v1, fields: [...v1.fields, { name: 'priority', type: 'int' }] }; // new field, no default
    const compatible = { ...v1, fields: [...v1.fields, { name: 'priority', type: 'int', default: 0 }] };
    await AvroSerde.create(stack.registryUrl, { [type]: v1 }).registerAll();

    const checker = AvroSerde.create(stack.registryUrl, {});
    await expect(checker.checkCompatibility(type, breaking)).resolves.toMatchObject({ compatible: false });
    await expect(checker.checkCompatibility(type, compatible)).resolves.toMatchObject({ compatible: true });
    await expect(AvroSerde.create(stack.registryUrl, { [type]: breaking }).registerAll()).rejects.toBeInstanceOf(IncompatibleSchemaError);
  });

  it('registers a new subject from several processes at once (services starting together), each getting the same id', async () => {
    const schemas = Object.fromEntries(
      Array.from({ length: 5 }, () => {
        const namespace = `flotilla.test.${uniqueNamespace('r')}`;
        return [`${namespace}.Note`, { ...NOTE_V1, namespace }];
      }),
    );
    const serdes = Array.from({ length: 4 }, () => AvroSerde.create(stack.registryUrl, schemas));
    await Promise.all(serdes.map((serde) => serde.registerAll()));
    for (const type of Object.keys(schemas)) {
      const ids = await Promise.all(serdes.map((serde) => serde.register(type)));
      expect(new Set(ids).size).toBe(1);
    }
  });
});

describe('EventConsumer (real Kafka and registry)', () => {
  const namespace = uniqueNamespace('consumer');
  const type = `flotilla.test.${namespace}.Note`;
  const serde = AvroSerde.create(stack.registryUrl, { [type]: { ...NOTE_V1, namespace: `flotilla.test.${namespace}` } });
  let kafka: Kafka;
  let publisher: EventPublisher;
  const consumers: EventConsumer[] = [];

  beforeAll(async () => {
    kafka = testKafka();
    publisher = new EventPublisher(kafka, serde);
    await publisher.connect();
  });
  afterAll(async () => {
    await Promise.all(consumers.map((c) => c.stop()));
    await publisher.disconnect();
  });

  const envelope = (id: string, text: string) => ({
    eventId: id,
    eventType: type,
    aggregateId: 'same-key',
    aggregateVersion: 1,
    occurredAt: Date.now(),
    correlationId: id,
    causationId: null,
    traceparent: null,
    tracestate: null,
    payload: { id, text },
  });

  async function startConsumer(topic: string, handler: (event: ConsumedEvent) => Promise<void>, concurrency = 8, ordering: 'key' | 'partition' = 'key') {
    const consumer = new EventConsumer(kafka, serde, publisher, {
      groupId: `${topic}.group`,
      topics: [topic],
      deadLetterTopic: `${topic}.dlq`,
      handler,
      concurrencyPerPartition: concurrency,
      ordering,
      retry: { maxAttempts: 3, initialDelayMs: 10, maxDelayMs: 50 },
    });
    consumers.push(consumer);
    await consumer.start();
    return consumer;
  }

  it('dead-letters an undecodable message and one whose handler always throws, with the cause, and goes on', async () => {
    const topic = `${namespace}.poison`;
    await ensureTopics(kafka, [
      { name: topic, partitions: 1, retentionMs: 3_600_000, compacted: false },
      { name: `${topic}.dlq`, partitions: 1, retentionMs: 3_600_000, compacted: false },
    ]);
    // All on one partition, one key: the poison messages sit between good ones.
    await publisher.publish([{ topic, key: 'k', envelope: envelope('m1', 'first') }]);
    await publisher.sendRaw(topic, { key: 'k', value: Buffer.from('{"not":"avro"}') });
    await publisher.publish([{ topic, key: 'k', envelope: envelope('m3', 'always throws') }]);
    await publisher.publish([{ topic, key: 'k', envelope: envelope('m4', 'after the poison') }]);

    const handled: string[] = [];
    const attempts = new Map<string, number>();
    await startConsumer(topic, async (event) => {
      const payload = event.envelope.payload as { id: string; text: string };
      attempts.set(payload.id, (attempts.get(payload.id) ?? 0) + 1);
      if (payload.text === 'always throws') throw new Error('the handler refuses this message');
      handled.push(payload.id);
    });

    await waitFor('m4 to be handled after the poison messages', () => handled.includes('m4'));
    expect(handled).toEqual(['m1', 'm4']);
    expect(attempts.get('m3')).toBe(3);

    const deadLetters = await readTopic(kafka, `${topic}.dlq`, (ms) => ms.length >= 2);
    const causes = deadLetters.map((m) => ({
      code: m.headers![DEAD_LETTER_HEADERS.errorCode]!.toString(),
      message: m.headers![DEAD_LETTER_HEADERS.errorMessage]!.toString(),
      offset: m.headers![DEAD_LETTER_HEADERS.originalOffset]!.toString(),
    }));
    expect(causes).toEqual([
      { code: 'UNDECODABLE_MESSAGE', message: expect.stringMatching(/wire format/), offset: '1' },
      { code: 'HANDLER_FAILED', message: 'Error: the handler refuses this message', offset: '2' },
    ]);
    expect(deadLetters[0].value!.toString()).toBe('{"not":"avro"}');
  });

  it('handles messages of one partition concurrently, keeps per-key order, and commits only the completed prefix', async () => {
    const topic = `${namespace}.concurrent`;
    await ensureTopics(kafka, [{ name: topic, partitions: 1, retentionMs: 3_600_000, compacted: false }, { name: `${topic}.dlq`, partitions: 1, retentionMs: 3_600_000, compacted: false }]);
    const events = Array.from({ length: 40 }, (_, i) => ({ topic, key: `key-${i % 8}`, envelope: { ...envelope(`c${i}`, String(i)), aggregateId: `key-${i % 8}` } }));
    await publisher.publish(events);

    let inFlight = 0;
    let maxInFlight = 0;
    const orderByKey = new Map<string, number[]>();
    const done = new Set<string>();
    // Each handler holds on until a second message is in flight at the same time (one is, from the
    // moment messages of two keys overlap): proof of concurrency that waits for it, not for a time.
    let overlapped: () => void = () => {};
    const overlap = new Promise<void>((resolve) => (overlapped = resolve));
    await startConsumer(topic, async (event) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      if (maxInFlight > 1) overlapped();
      await overlap;
      const n = Number((event.envelope.payload as { text: string }).text);
      orderByKey.set(event.key!, [...(orderByKey.get(event.key!) ?? []), n]);
      done.add(event.envelope.eventId);
      inFlight--;
    });
    try {
      // Without concurrency no second message ever runs beside the first: this wait fails.
      await waitFor('all 40 handled', () => done.size === 40);
    } finally {
      overlapped(); // whatever happened, no handler is left holding the consumer at teardown
    }
    expect(maxInFlight).toBeGreaterThan(1);
    for (const [, numbers] of orderByKey) expect(numbers).toEqual([...numbers].sort((a, b) => a - b));

    const admin = kafka.admin();
    await admin.connect();
    const committed = await waitFor('offsets committed', async () => {
      const [offsets] = await admin.fetchOffsets({ groupId: `${topic}.group`, topics: [topic] });
      return offsets.partitions[0].offset === '40' ? offsets : undefined;
    });
    await admin.disconnect();
    expect(committed.partitions[0].offset).toBe('40');
  });

  it('with ordering "partition", handles a partition strictly in offset order across keys', async () => {
    const topic = `${namespace}.ordered`;
    await ensureTopics(kafka, [{ name: topic, partitions: 1, retentionMs: 3_600_000, compacted: false }, { name: `${topic}.dlq`, partitions: 1, retentionMs: 3_600_000, compacted: false }]);
    // Keys interleaved, so that key order alone would let a later offset of one key pass an earlier one of another.
    await publisher.publish(Array.from({ length: 30 }, (_, i) => ({ topic, key: `key-${i % 3}`, envelope: { ...envelope(`o${i}`, String(i)), aggregateId: `key-${i % 3}` } })));
    const offsets: number[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    await startConsumer(
      topic,
      async (event) => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 10));
        offsets.push(Number(event.offset));
        inFlight--;
      },
      8,
      'partition',
    );
    await waitFor('all 30 handled', () => offsets.length === 30);
    expect(maxInFlight).toBe(1);
    expect(offsets).toEqual(Array.from({ length: 30 }, (_, i) => i));
  });
});
