import type { Kafka } from 'kafkajs';
import { KafkaOffsets } from './offsets';

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
  private readonly offsets: KafkaOffsets;

  constructor(
    kafka: Kafka,
    private readonly groupId: string,
    private readonly owned: OwnedPartitions | null = null,
  ) {
    this.offsets = new KafkaOffsets(kafka);
  }

  async notTaken(topic: string): Promise<number> {
    const partitions = this.owned?.partitionsOf(topic) ?? null;
    if (partitions?.length === 0) return 0;
    const [ranges, committed] = await Promise.all([this.offsets.ranges([topic]), this.offsets.committed(this.groupId, [topic])]);
    const committedByPartition = new Map(committed.map((c) => [c.partition, c.offset]));
    let lag = 0n;
    for (const range of ranges) {
      if (partitions && !partitions.includes(range.partition)) continue;
      const groupAt = committedByPartition.get(range.partition) ?? -1n;
      let next = groupAt < 0n ? range.low : groupAt;
      const taken = this.owned?.nextToTake(topic, range.partition) ?? null;
      if (taken !== null && taken > next) next = taken;
      const behind = range.high - next;
      if (behind > 0n) lag += behind;
    }
    return Number(lag);
  }

  close(): Promise<void> {
    return this.offsets.close();
  }
}
