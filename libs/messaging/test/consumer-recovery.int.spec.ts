import type { Kafka } from 'kafkajs';
import { AvroSerde, ensureTopics, EventConsumer, EventPublisher, type DeadLetter } from '../src';
import { stack, testKafka, uniqueNamespace, waitFor } from '@flotilla/testing';

/**
 * What the consumer does when the trouble is not the message: a dependency away longer than the
 * handler's retries, and a crash kafkajs does not restart by itself.
 */
describe('EventConsumer recovery (real Kafka and registry)', () => {
  const namespace = uniqueNamespace('recovery');
  const type = `flotilla.test.${namespace}.Note`;
  const serde = AvroSerde.create(stack.registryUrl, {
    [type]: { type: 'record', name: 'Note', namespace: `flotilla.test.${namespace}`, fields: [{ name: 'id', type: 'string' }] },
  });
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

  const topicWithDlq = async (name: string): Promise<string> => {
    const topic = `${namespace}.${name}`;
    await ensureTopics(kafka, [
      { name: topic, partitions: 1, retentionMs: 3_600_000, compacted: false },
      { name: `${topic}.dlq`, partitions: 1, retentionMs: 3_600_000, compacted: false },
    ]);
    return topic;
  };
  const publish = (topic: string, id: string) =>
    publisher.publish([{ topic, key: id, envelope: { eventId: id, eventType: type, aggregateId: id, aggregateVersion: 1, occurredAt: Date.now(), correlationId: id, causationId: null, traceparent: null, tracestate: null, payload: { id } } }]);
  const consumer = (topic: string, handler: () => Promise<void>, onDeadLetter?: (deadLetter: DeadLetter) => void) => {
    const created = new EventConsumer(kafka, serde, publisher, {
      groupId: `${topic}.group`,
      topics: [topic],
      deadLetterTopic: `${topic}.dlq`,
      handler,
      retry: { maxAttempts: 3, initialDelayMs: 10, maxDelayMs: 50 },
      onDeadLetter,
    });
    consumers.push(created);
    return created;
  };
  const messagesIn = async (topic: string): Promise<number> => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      return (await admin.fetchTopicOffsets(topic)).reduce((n, p) => n + Number(p.high) - Number(p.low), 0);
    } finally {
      await admin.disconnect();
    }
  };

  it('waits out a dependency that stays away longer than the retries, and dead-letters nothing', async () => {
    const topic = await topicWithDlq('outage');
    await publish(topic, 'during-outage');
    const awayUntil = Date.now() + 2_500;
    let attempts = 0;
    let handledAt = 0;
    await consumer(topic, async () => {
      attempts++;
      if (Date.now() < awayUntil) throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
      handledAt = Date.now();
    }).start();

    await waitFor('the message to be handled once the dependency is back', () => handledAt > 0, { timeoutMs: 20_000 });
    expect(attempts).toBeGreaterThan(3); // more than its retries allow: the outage did not count against them
    expect(await messagesIn(`${topic}.dlq`)).toBe(0);
  });

  it('restarts itself after a crash kafkajs does not restart', async () => {
    const topic = await topicWithDlq('crash');
    await publish(topic, 'poison');
    // The handler always fails, so the message is dead-lettered; the first time, the dead-letter
    // callback throws a TypeError, which kafkajs treats as not retriable: it crashes the consumer
    // with restart: false and leaves it stopped.
    let deadLetterCalls = 0;
    const deadLettered: string[] = [];
    const crashing = consumer(
      topic,
      async () => {
        throw new Error('refused');
      },
      (deadLetter) => {
        if (deadLetterCalls++ === 0) throw new TypeError('a bug in a callback');
        deadLettered.push(deadLetter.offset);
      },
    );
    await crashing.start();

    await waitFor('the crash to be reported', () => crashing.problem !== null, { timeoutMs: 20_000, intervalMs: 20 });
    expect(crashing.problem).toBe('crashed (KafkaJSNonRetriableError: a bug in a callback); restarting'); // not "kafkajs restarts it"
    // Restarted: the message comes again (its offset was never committed) and goes to the dead-letter topic.
    await waitFor('the message to be dead-lettered after the restart', () => deadLettered.length > 0, { timeoutMs: 30_000 });
    await waitFor('the consumer to report no problem once it has joined again', () => crashing.problem === null, { timeoutMs: 30_000 });
    expect(deadLettered).toEqual(['0']);
  });
});
