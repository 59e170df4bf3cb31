import { KafkaOffsets } from '@flotilla/messaging';
import type { Kafka } from 'kafkajs';
import type { PartitionEnd, PartitionPosition } from '../domain/rebuild';
import type { TopicPositions } from '../ports';

/** Topic and group positions from Kafka, over one admin connection kept for a whole rebuild (polled often). */
export class KafkaTopicPositions implements TopicPositions {
  private readonly offsets: KafkaOffsets;

  constructor(kafka: Kafka) {
    this.offsets = new KafkaOffsets(kafka);
  }

  async ends(topics: readonly string[]): Promise<PartitionEnd[]> {
    return (await this.offsets.ranges(topics)).map((r) => ({ topic: r.topic, partition: r.partition, startOffset: Number(r.low), endOffset: Number(r.high) }));
  }

  async committed(groupId: string, topics: readonly string[]): Promise<PartitionPosition[]> {
    return (await this.offsets.committed(groupId, topics)).map((c) => ({ topic: c.topic, partition: c.partition, offset: Number(c.offset) }));
  }

  forget(groupId: string): Promise<void> {
    return this.offsets.forget(groupId);
  }

  close(): Promise<void> {
    return this.offsets.close();
  }
}
