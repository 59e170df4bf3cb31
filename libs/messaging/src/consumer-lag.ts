import type { Admin, Kafka } from 'kafkajs';

export interface OwnedPartitions {
  partitionsOf(topic: string): readonly number[];
  nextToTake(topic: string, partition: number): bigint | null;
}

/**
 * Consumer lag of a group on a topic. With `owned` (a consumer of the group in this process): the
 * messages not taken yet by this instance, over the partitions it owns — the end offset minus the
 * later of the group's committed offset and what this instance already took; instances own disjoint
 * partitions, so their backlogs add up. Without: the whole group's lag over every partition.
 */
export class ConsumerLag {
  private admin: Admin | null = null;

  constructor(
    private readonly kafka: Kafka,
    private readonly groupId: string,
    private readonly owned: OwnedPartitions | null = null,
  ) {}

  async notTaken(topic: string): Promise<number> {
    const partitions = this.owned?.partitionsOf(topic) ?? null;
    if (partitions?.length === 0) return 0;
    const admin = await this.connected();
    const [ends, committed] = await Promise.all([admin.fetchTopicOffsets(topic), admin.fetchOffsets({ groupId: this.groupId, topics: [topic] })]);
    const committedByPartition = new Map((committed[0]?.partitions ?? []).map((p) => [p.partition, BigInt(p.offset)]));
    let lag = 0n;
    for (const end of ends) {
      if (partitions && !partitions.includes(end.partition)) continue;
      const low = BigInt(end.low);
      const groupAt = committedByPartition.get(end.partition) ?? -1n;
      let next = groupAt < 0n ? low : groupAt;
      const taken = this.owned?.nextToTake(topic, end.partition) ?? null;
      if (taken !== null && taken > next) next = taken;
      const behind = BigInt(end.high) - next;
      if (behind > 0n) lag += behind;
    }
    return Number(lag);
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
