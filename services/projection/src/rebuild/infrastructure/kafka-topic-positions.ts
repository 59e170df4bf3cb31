import type { Admin, Kafka } from 'kafkajs';
import type { PartitionEnd, PartitionPosition } from '../domain/rebuild';
import type { TopicPositions } from '../ports';

/** Topic and group positions from Kafka's admin API, over one connection kept for a whole rebuild (polled often). */
export class KafkaTopicPositions implements TopicPositions {
  private admin: Admin | null = null;

  constructor(private readonly kafka: Kafka) {}

  async ends(topics: readonly string[]): Promise<PartitionEnd[]> {
    const admin = await this.connected();
    const ends: PartitionEnd[] = [];
    for (const topic of topics) {
      for (const p of await admin.fetchTopicOffsets(topic)) ends.push({ topic, partition: p.partition, startOffset: Number(p.low), endOffset: Number(p.high) });
    }
    return ends;
  }

  async committed(groupId: string, topics: readonly string[]): Promise<PartitionPosition[]> {
    const offsets = await (await this.connected()).fetchOffsets({ groupId, topics: [...topics] });
    return offsets.flatMap((t) => t.partitions.map((p) => ({ topic: t.topic, partition: p.partition, offset: Number(p.offset) })));
  }

  async forget(groupId: string): Promise<void> {
    await (await this.connected()).deleteGroups([groupId]).catch(() => undefined);
  }

  async close(): Promise<void> {
    await this.admin?.disconnect().catch(() => undefined);
    this.admin = null;
  }

  private async connected(): Promise<Admin> {
    if (!this.admin) {
      const admin = this.kafka.admin();
      await admin.connect();
      this.admin = admin;
    }
    return this.admin;
  }
}
