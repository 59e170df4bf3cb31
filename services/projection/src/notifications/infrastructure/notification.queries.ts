import type { Pool } from 'pg';
import { attemptViewOf, deliveryViewOf } from '../domain/delivery-view';
import type { DeliveryDetailView, DeliveryListFilter, DeliveryView, KeyedPage, NotificationQueries, SubscriptionListFilter, SubscriptionView } from '../domain/notification-views';
import { FAILING_STATUSES, subscriptionViewOf } from '../domain/subscription-view';
import { attemptRecordOf, deliveryRecordOf, subscriptionRecordOf } from './notification-rows';

/**
 * `NotificationQueries` over the projection's notification tables. A delivery is read with its
 * subscription's customer (the join), which is whose it is: filtering by customer filters by that.
 */
export class PostgresNotificationQueries implements NotificationQueries {
  constructor(
    private readonly pool: Pool,
    private readonly schema: string,
  ) {}

  async listSubscriptions(filter: SubscriptionListFilter, page: { limit: number; after: string | null }): Promise<KeyedPage<SubscriptionView, string>> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.customerId !== undefined) where.push(`customer_id = $${params.push(filter.customerId)}`);
    if (filter.status === 'failing') where.push(`health_status = ANY($${params.push(FAILING_STATUSES)})`);
    else if (filter.status !== undefined) where.push(`health_status = $${params.push(filter.status)}`);
    if (!filter.includeDeleted) where.push('deleted_at IS NULL');
    if (page.after !== null) where.push(`subscription_id > $${params.push(page.after)}`);
    const { rows } = await this.pool.query(
      `SELECT * FROM ${this.schema}.notification_subscriptions ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY subscription_id LIMIT $${params.push(page.limit + 1)}`,
      params,
    );
    const items = rows.slice(0, page.limit).map((r) => subscriptionViewOf(subscriptionRecordOf(r)));
    const last = items[items.length - 1];
    return { items, nextCursor: rows.length > page.limit && last ? last.subscriptionId : null };
  }

  async getSubscription(subscriptionId: string): Promise<SubscriptionView | null> {
    const { rows } = await this.pool.query(`SELECT * FROM ${this.schema}.notification_subscriptions WHERE subscription_id = $1`, [subscriptionId]);
    return rows[0] ? subscriptionViewOf(subscriptionRecordOf(rows[0])) : null;
  }

  async listDeliveries(filter: DeliveryListFilter, page: { limit: number; after: readonly [string, string] | null }): Promise<KeyedPage<DeliveryView, readonly [string, string]>> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.customerId !== undefined) where.push(`s.customer_id = $${params.push(filter.customerId)}`);
    if (filter.subscriptionId !== undefined) where.push(`d.subscription_id = $${params.push(filter.subscriptionId)}`);
    if (filter.status !== undefined) where.push(`d.status = $${params.push(filter.status)}`);
    if (filter.eventType !== undefined) where.push(`d.event_type = $${params.push(filter.eventType)}`);
    if (filter.from !== undefined) where.push(`d.scheduled_at >= $${params.push(filter.from)}`);
    if (filter.to !== undefined) where.push(`d.scheduled_at < $${params.push(filter.to)}`);
    if (page.after !== null) where.push(`(d.scheduled_at, d.delivery_id) < ($${params.push(page.after[0])}::timestamptz, $${params.push(page.after[1])})`);
    const { rows } = await this.pool.query(
      `SELECT d.*, s.customer_id AS owner FROM ${this.schema}.notification_deliveries d
         JOIN ${this.schema}.notification_subscriptions s ON s.subscription_id = d.subscription_id
        ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY d.scheduled_at DESC, d.delivery_id DESC LIMIT $${params.push(page.limit + 1)}`,
      params,
    );
    const items = rows.slice(0, page.limit).map((r) => deliveryViewOf(deliveryRecordOf(r), r.owner));
    const last = items[items.length - 1];
    return { items, nextCursor: rows.length > page.limit && last ? [last.scheduledAt, last.deliveryId] : null };
  }

  async getDelivery(deliveryId: string): Promise<DeliveryDetailView | null> {
    const [delivery, attempts] = await Promise.all([
      this.pool.query(
        `SELECT d.*, s.customer_id AS owner FROM ${this.schema}.notification_deliveries d
           JOIN ${this.schema}.notification_subscriptions s ON s.subscription_id = d.subscription_id
          WHERE d.delivery_id = $1`,
        [deliveryId],
      ),
      this.pool.query(`SELECT * FROM ${this.schema}.notification_attempts WHERE delivery_id = $1 ORDER BY seq`, [deliveryId]),
    ]);
    const row = delivery.rows[0];
    if (!row) return null;
    return { ...deliveryViewOf(deliveryRecordOf(row), row.owner), attempts: attempts.rows.map((r) => attemptViewOf(attemptRecordOf(r))) };
  }
}
