import type { PoolClient } from 'pg';
import type { NotificationsWriter } from '../../read-models/read-model-events';
import { evolveDelivery, type AttemptRecord } from '../domain/delivery-view';
import { isDeliveryEvent, type NotificationEvent } from '../domain/notification-events';
import { evolveSubscription } from '../domain/subscription-view';
import { DELIVERY_COLUMNS, deliveryRecordOf, deliveryRowValues, SUBSCRIPTION_COLUMNS, subscriptionRecordOf, subscriptionRowValues } from './notification-rows';

type Queryable = Pick<PoolClient, 'query'>;

/** `INSERT … ON CONFLICT (key) DO UPDATE` of every column: the row as the fold made it. */
function upsert(schema: string, table: string, columns: readonly string[], key: string): string {
  return `INSERT INTO ${schema}.${table} (${columns.join(', ')}) VALUES (${columns.map((_, i) => `$${i + 1}`).join(', ')})
          ON CONFLICT (${key}) DO UPDATE SET ${columns.filter((c) => c !== key).map((c) => `${c} = EXCLUDED.${c}`).join(', ')}`;
}

/**
 * SQL of the notification read models; each write runs in the event's projection transaction
 * (applied once). A subscription's events and its deliveries' come in order (one partition per
 * subscription), one at a time: each row is read, folded with the event (notifications/domain) and
 * written back whole. A delivery event changes its delivery first; only if it changed something
 * (not an attempt reported twice) does it count on its subscription.
 */
export class NotificationsRepository implements NotificationsWriter {
  private readonly upsertSubscription: string;
  private readonly upsertDelivery: string;

  constructor(private readonly schema: string) {
    this.upsertSubscription = upsert(schema, 'notification_subscriptions', SUBSCRIPTION_COLUMNS, 'subscription_id');
    this.upsertDelivery = upsert(schema, 'notification_deliveries', DELIVERY_COLUMNS, 'delivery_id');
  }

  async event(client: Queryable, event: NotificationEvent): Promise<void> {
    if (isDeliveryEvent(event)) {
      const { rows } = await client.query(`SELECT * FROM ${this.schema}.notification_deliveries WHERE delivery_id = $1 FOR UPDATE`, [event.data.deliveryId]);
      const change = evolveDelivery(rows[0] ? deliveryRecordOf(rows[0]) : null, event);
      if (change === null) return;
      await client.query(this.upsertDelivery, deliveryRowValues(change.delivery));
      if (change.attempt) await this.attempt(client, change.attempt);
    }
    const { rows } = await client.query(`SELECT * FROM ${this.schema}.notification_subscriptions WHERE subscription_id = $1 FOR UPDATE`, [event.data.subscriptionId]);
    const next = evolveSubscription(rows[0] ? subscriptionRecordOf(rows[0]) : null, event);
    await client.query(this.upsertSubscription, subscriptionRowValues(next));
  }

  private async attempt(client: Queryable, a: AttemptRecord): Promise<void> {
    const ts = (t: number | null) => (t === null ? null : new Date(t).toISOString());
    await client.query(
      `INSERT INTO ${this.schema}.notification_attempts (delivery_id, seq, subscription_id, round, attempt, outcome, status_code, error, latency_ms, attempted_at, next_attempt_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (delivery_id, seq) DO NOTHING`,
      [a.deliveryId, a.seq, a.subscriptionId, a.round, a.attempt, a.outcome, a.statusCode, a.error, a.latencyMs, ts(a.attemptedAt), ts(a.nextAttemptAt)],
    );
  }
}
