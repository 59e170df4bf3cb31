import type { Transaction } from '@flotilla/event-store';
import type { Pool } from 'pg';
import type { SubscriptionState } from '../domain/subscription';
import type { SubscriptionRows, VersionedSubscription } from '../ports';

export class PostgresSubscriptionRows implements SubscriptionRows {
  constructor(
    private readonly pool: Pool,
    private readonly schema: string,
  ) {}

  async lock(tx: Transaction, subscriptionId: string): Promise<VersionedSubscription> {
    const { rows } = await tx.query(`SELECT state, version FROM ${this.schema}.subscriptions WHERE subscription_id = $1 FOR UPDATE`, [subscriptionId]);
    return rows[0] ? { state: rows[0].state as SubscriptionState, version: rows[0].version as number } : { state: { status: 'None' }, version: 0 };
  }

  async save(tx: Transaction, subscriptionId: string, customerId: string | null, row: VersionedSubscription): Promise<void> {
    await tx.query(
      `INSERT INTO ${this.schema}.subscriptions (subscription_id, customer_id, state, version) VALUES ($1, $2, $3, $4)
       ON CONFLICT (subscription_id) DO UPDATE SET state = EXCLUDED.state, version = EXCLUDED.version`,
      [subscriptionId, customerId, JSON.stringify(row.state), row.version],
    );
  }

  async get(subscriptionIds: readonly string[]): Promise<Map<string, VersionedSubscription>> {
    if (subscriptionIds.length === 0) return new Map();
    const { rows } = await this.pool.query(`SELECT subscription_id, state, version FROM ${this.schema}.subscriptions WHERE subscription_id = ANY($1)`, [subscriptionIds]);
    return new Map(rows.map((r) => [r.subscription_id as string, { state: r.state as SubscriptionState, version: r.version as number }]));
  }

  async candidatesFor(tx: Transaction, customerId: string | null): Promise<VersionedSubscription[]> {
    const { rows } = await tx.query(
      `SELECT state, version FROM ${this.schema}.subscriptions WHERE (customer_id IS NULL OR customer_id = $1) AND state->>'status' = 'Active'`,
      [customerId],
    );
    return rows.map((r) => ({ state: r.state as SubscriptionState, version: r.version as number }));
  }

  async list(customerId: string | null): Promise<VersionedSubscription[]> {
    const { rows } = await this.pool.query(
      `SELECT state, version FROM ${this.schema}.subscriptions WHERE ($1::text IS NULL OR customer_id = $1) AND state->>'status' = 'Active' ORDER BY subscription_id`,
      [customerId],
    );
    return rows.map((r) => ({ state: r.state as SubscriptionState, version: r.version as number }));
  }
}
