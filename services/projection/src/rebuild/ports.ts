import type { ReadModelProjector } from '../read-models/read-model-events';
import type { PartitionEnd, PartitionPosition } from './domain/rebuild';

/**
 * Generations of the read models: the live tables in the service's schema, a rebuild's beside them.
 * Implemented over PostgreSQL schemas in infrastructure/postgres-generations.ts.
 */
export interface ReadModelGenerations {
  /** A new, empty generation in `schema` (the service's migrations, checkpoints and inbox included). */
  create(schema: string): Promise<void>;
  drop(schema: string): Promise<void>;
  /** What a generation has applied: its last offset per topic-partition. */
  checkpoints(schema: string): Promise<PartitionPosition[]>;
  /** Swaps `next` in for `live` in one transaction once it has applied at least what `live` has; false when not yet. */
  switchTo(live: string, next: string, retired: string): Promise<boolean>;
  projector(schema: string): ReadModelProjector;
  /** Every customer a generation has executions of. */
  customers(schema: string): Promise<string[]>;
}

/** Where the topics and a consumer group are, from Kafka. Implemented in infrastructure/kafka-topic-positions.ts. */
export interface TopicPositions {
  ends(topics: readonly string[]): Promise<PartitionEnd[]>;
  /** The next offset the group will read, per partition. */
  committed(groupId: string, topics: readonly string[]): Promise<PartitionPosition[]>;
  /** Deletes the group's committed offsets; a group that does not exist is fine. */
  forget(groupId: string): Promise<void>;
  close(): Promise<void>;
}
