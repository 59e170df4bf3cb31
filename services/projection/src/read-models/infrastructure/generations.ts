import { inTransaction } from '@flotilla/event-store';
import { runner } from 'node-pg-migrate';
import type { Pool, PoolClient } from 'pg';
import type { PartitionPosition } from '../../rebuild/domain/rebuild';

type Queryable = Pick<PoolClient, 'query'>;

/**
 * The tables of one generation of the read models, bookkeeping included. A rebuild creates all of
 * them in a schema of its own and swaps them in together. The checkpoint table comes first: it is the
 * first table every projection transaction touches, so the switch locks in the same order.
 */
export const GENERATION_TABLES = [
  'projection_checkpoints', 'projection_inbox', 'executions', 'alerts', 'sla_violations', 'customer_circuits', 'admission_capacity',
  'cost_attempts', 'cost_hourly', 'budgets', 'budget_reservations', 'budget_crossings', 'recommendations',
  'scaling_pools', 'scaling_decisions', 'scaling_forecasts', 'scaling_sagas', 'scaling_replicas', 'scaling_pool_metrics',
  'notification_subscriptions', 'notification_deliveries', 'notification_attempts',
] as const;

/** Advances a topic-partition's checkpoint to `offset`; false when it was there already (a redelivery). */
export async function advanceCheckpoint(client: Queryable, schema: string, topic: string, partition: number, offset: string): Promise<boolean> {
  const { rowCount } = await client.query(
    `INSERT INTO ${schema}.projection_checkpoints AS c (topic, partition, last_offset) VALUES ($1, $2, $3)
     ON CONFLICT (topic, partition) DO UPDATE SET last_offset = EXCLUDED.last_offset, updated_at = now() WHERE c.last_offset < EXCLUDED.last_offset`,
    [topic, partition, offset],
  );
  return rowCount === 1;
}

/** Records an applied event id; false when it was applied before (published twice, at another offset). */
export async function recordApplied(client: Queryable, schema: string, eventId: string): Promise<boolean> {
  const { rowCount } = await client.query(`INSERT INTO ${schema}.projection_inbox (event_id) VALUES ($1) ON CONFLICT DO NOTHING`, [eventId]);
  return rowCount === 1;
}

export async function readCheckpoints(db: Queryable, schema: string): Promise<PartitionPosition[]> {
  const { rows } = await db.query(`SELECT topic, partition, last_offset FROM ${schema}.projection_checkpoints ORDER BY topic, partition`);
  return rows.map((r) => ({ topic: r.topic, partition: r.partition, offset: Number(r.last_offset) }));
}

/**
 * A new, empty generation in `schema`: the service's own migrations run there, so its tables,
 * indexes and their names are exactly the live ones (the live tables came from the same files).
 */
export async function createGeneration(pool: Pool, schema: string, migrationsDir: string): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await client.query(`CREATE SCHEMA ${schema}`);
    await runner({
      dbClient: client,
      dir: migrationsDir,
      direction: 'up',
      migrationsTable: 'service_migrations',
      schema,
      migrationsSchema: schema,
      createSchema: false,
      checkOrder: true,
      log: () => undefined,
      noLock: true,
    });
  } finally {
    client.release();
  }
}

export async function dropGeneration(pool: Pool, schema: string): Promise<void> {
  await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
}

/**
 * Swaps the generation in `next` for the live one in `live`, in one transaction, if it has applied
 * at least everything the live one has (every live checkpoint is at or below its own). The live
 * tables are locked first, which waits for projection transactions in flight and holds back new ones
 * and queries for the moment of the swap; queries then read the new tables by the same names. The old
 * generation ends up in `retired`, to be dropped. False (nothing changed) when `next` is still behind.
 */
export async function switchGeneration(pool: Pool, live: string, next: string, retired: string): Promise<boolean> {
  return inTransaction(pool, async (client) => {
    await client.query(`LOCK TABLE ${GENERATION_TABLES.map((t) => `${live}.${t}`).join(', ')} IN ACCESS EXCLUSIVE MODE`);
    const { rows } = await client.query(
      `SELECT count(*) AS behind FROM ${live}.projection_checkpoints l
         LEFT JOIN ${next}.projection_checkpoints n ON n.topic = l.topic AND n.partition = l.partition
        WHERE n.last_offset IS NULL OR n.last_offset < l.last_offset`,
    );
    // Still behind: the transaction only took the locks, and its commit releases them.
    if (Number(rows[0].behind) > 0) return false;
    await client.query(`DROP SCHEMA IF EXISTS ${retired} CASCADE`);
    await client.query(`CREATE SCHEMA ${retired}`);
    for (const table of GENERATION_TABLES) {
      await client.query(`ALTER TABLE ${live}.${table} SET SCHEMA ${retired}`);
      await client.query(`ALTER TABLE ${next}.${table} SET SCHEMA ${live}`);
    }
    return true;
  });
}
