import type { Pool } from 'pg';
import { createGeneration, dropGeneration, readCheckpoints, switchGeneration } from '../../read-models/infrastructure/generations';
import { Projector } from '../../read-models/infrastructure/projector';
import type { ReadModelProjector } from '../../read-models/read-model-events';
import type { PartitionPosition } from '../domain/rebuild';
import type { ReadModelGenerations } from '../ports';

/** Generations as PostgreSQL schemas built by the service's own migrations (generations.ts). */
export class PostgresGenerations implements ReadModelGenerations {
  constructor(
    private readonly pool: Pool,
    private readonly migrationsDir: string,
  ) {}

  create(schema: string): Promise<void> {
    return createGeneration(this.pool, schema, this.migrationsDir);
  }

  drop(schema: string): Promise<void> {
    return dropGeneration(this.pool, schema);
  }

  checkpoints(schema: string): Promise<PartitionPosition[]> {
    return readCheckpoints(this.pool, schema);
  }

  switchTo(live: string, next: string, retired: string): Promise<boolean> {
    return switchGeneration(this.pool, live, next, retired);
  }

  /** A generation being built serves nobody yet: its projector announces nothing. */
  projector(schema: string): ReadModelProjector {
    return new Projector(this.pool, schema, null);
  }

  async customers(schema: string): Promise<string[]> {
    const { rows } = await this.pool.query(`SELECT DISTINCT customer_id FROM ${schema}.executions WHERE customer_id IS NOT NULL`);
    return rows.map((r) => r.customer_id as string);
  }
}
