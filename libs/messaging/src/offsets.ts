import type { Admin, Kafka } from 'kafkajs';

/** A partition's retained range: `low` is its first offset still kept, `high` the next one to be written. */
export interface PartitionRange {
  readonly topic: string;
  readonly partition: number;
  readonly low: bigint;
  readonly high: bigint;
}

/** Where a group will read next in a partition; -1 when it has committed nothing there. */
export interface CommittedOffset {
  readonly topic: string;
  readonly partition: number;
  readonly offset: bigint;
}

/**
 * Topic and group offsets from Kafka's admin API, over one connection opened on first use and kept
 * (lag reports and progress polls ask often). The one place that reads offsets: consumer lag, the
 * catch-up wait and a rebuild's progress are all computed from these.
 */
export class KafkaOffsets {
  // The connection being made or made: concurrent first calls share it rather than each open one.
  private admin: Promise<Admin> | null = null;

  constructor(private readonly kafka: Kafka) {}

  async ranges(topics: readonly string[]): Promise<PartitionRange[]> {
    const admin = await this.connected();
    const perTopic = await Promise.all(
      topics.map(async (topic) => (await admin.fetchTopicOffsets(topic)).map((p) => ({ topic, partition: p.partition, low: BigInt(p.low), high: BigInt(p.high) }))),
    );
    return perTopic.flat();
  }

  async committed(groupId: string, topics: readonly string[]): Promise<CommittedOffset[]> {
    const offsets = await (await this.connected()).fetchOffsets({ groupId, topics: [...topics] });
    return offsets.flatMap((t) => t.partitions.map((p) => ({ topic: t.topic, partition: p.partition, offset: BigInt(p.offset) })));
  }

  /** Deletes a group's committed offsets; a group that does not exist is fine. */
  async forget(groupId: string): Promise<void> {
    await (await this.connected()).deleteGroups([groupId]).catch(() => undefined);
  }

  async close(): Promise<void> {
    const admin = this.admin;
    this.admin = null;
    await admin?.then((a) => a.disconnect()).catch(() => undefined);
  }

  private connected(): Promise<Admin> {
    if (!this.admin) {
      const admin = this.kafka.admin();
      const connecting = admin.connect().then(() => admin);
      // A failed connection is not kept: the next call tries again.
      connecting.catch(() => {
        if (this.admin === connecting) this.admin = null;
      });
      this.admin = connecting;
    }
    return this.admin;
  }
}
