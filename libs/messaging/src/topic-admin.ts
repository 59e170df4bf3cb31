import type { Kafka } from 'kafkajs';
import { withRetry } from './retry';

export interface TopicDeclaration {
  readonly name: string;
  readonly partitions: number;
  readonly retentionMs: number;
  readonly compacted: boolean;
}

/**
 * Makes the broker match the declared topics: creates missing ones, adds partitions, and aligns
 * retention and cleanup policy. Safe to run from every service at every start, concurrently.
 */
export async function ensureTopics(kafka: Kafka, topics: readonly TopicDeclaration[]): Promise<void> {
  // A young broker can answer a retriable "does not host this topic-partition" right after creating
  // a topic, before its metadata has settled; kafkajs retries only some such errors itself. The whole
  // step is idempotent, so it is simply run again.
  await withRetry(() => ensureTopicsOnce(kafka, topics), { maxAttempts: 8, initialDelayMs: 250, maxDelayMs: 5_000 });
}

async function ensureTopicsOnce(kafka: Kafka, topics: readonly TopicDeclaration[]): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t.name));
    if (missing.length > 0) {
      try {
        await admin.createTopics({
          waitForLeaders: true,
          topics: missing.map((t) => ({ topic: t.name, numPartitions: t.partitions, replicationFactor: 1, configEntries: configEntries(t) })),
        });
      } catch (error) {
        // Another service may have created some of them in the meantime; anything else is real.
        if ((error as { type?: string }).type !== 'TOPIC_ALREADY_EXISTS' && !String((error as Error).message).includes('already exists')) throw error;
      }
      // Return only once the broker serves the new topics' metadata: a consumer subscribing right
      // after would otherwise be told the partitions are not hosted here (seen on a fresh broker).
      await admin.fetchTopicMetadata({ topics: missing.map((t) => t.name) });
    }
    const present = topics.filter((t) => existing.has(t.name));
    if (present.length === 0) return;
    const metadata = await admin.fetchTopicMetadata({ topics: present.map((t) => t.name) });
    const grow = present.filter((t) => (metadata.topics.find((m) => m.name === t.name)?.partitions.length ?? t.partitions) < t.partitions);
    if (grow.length > 0) await admin.createPartitions({ topicPartitions: grow.map((t) => ({ topic: t.name, count: t.partitions })) });
    await admin.alterConfigs({
      validateOnly: false,
      resources: present.map((t) => ({ type: 2 /* TOPIC */, name: t.name, configEntries: configEntries(t) })),
    });
  } finally {
    await admin.disconnect();
  }
}

function configEntries(t: TopicDeclaration) {
  return [
    { name: 'retention.ms', value: String(t.retentionMs) },
    { name: 'cleanup.policy', value: t.compacted ? 'compact' : 'delete' },
  ];
}
