import type { Transaction } from '@flotilla/event-store';
import type { Pool } from 'pg';
import { v7 as uuidv7 } from 'uuid';
import type { Delivery } from '../domain/delivery';
import type { DeliveryChange, DeliveryRows, ExecutionKinds, LeasedDelivery, NewDelivery } from '../ports';

const COLUMNS = 'delivery_id, subscription_id, customer_id, event_id, event_type, status, attempts, attempts_in_run, next_attempt_at';

function deliveryOf(r: Record<string, unknown>): Delivery {
  return {
    deliveryId: r.delivery_id as string,
    subscriptionId: r.subscription_id as string,
    customerId: (r.customer_id as string | null) ?? null,
    eventId: r.event_id as string,
    eventType: r.event_type as string,
    status: r.status as Delivery['status'],
    attempts: r.attempts as number,
    attemptsInRun: r.attempts_in_run as number,
    nextAttemptAt: Number(r.next_attempt_at),
  };
}

export class PostgresDeliveryRows implements DeliveryRows {
  constructor(
    private readonly pool: Pool,
    private readonly schema: string,
  ) {}

  async schedule(tx: Transaction, deliveries: readonly NewDelivery[]): Promise<NewDelivery[]> {
    if (deliveries.length === 0) return [];
    const { rows } = await tx.query(
      `INSERT INTO ${this.schema}.deliveries (delivery_id, subscription_id, customer_id, event_id, event_type, body, traceparent, status, next_attempt_at, created_at)
       SELECT d.delivery_id, d.subscription_id, d.customer_id, d.event_id, d.event_type, d.body, d.traceparent, 'pending', d.due_at, d.now
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::text[], $9::bigint[]) AS d(delivery_id, subscription_id, customer_id, event_id, event_type, body, now, traceparent, due_at)
       ON CONFLICT DO NOTHING
       RETURNING delivery_id`,
      [
        deliveries.map((d) => d.deliveryId),
        deliveries.map((d) => d.subscriptionId),
        deliveries.map((d) => d.customerId),
        deliveries.map((d) => d.eventId),
        deliveries.map((d) => d.eventType),
        deliveries.map((d) => d.body),
        deliveries.map((d) => d.now),
        deliveries.map((d) => d.traceparent),
        deliveries.map((d) => d.dueAt),
      ],
    );
    const inserted = new Set(rows.map((r) => r.delivery_id as string));
    return deliveries.filter((d) => inserted.has(d.deliveryId));
  }

  async leaseDue(now: number, limit: number, leaseMs: number, skipSubscriptions: readonly string[]): Promise<LeasedDelivery[]> {
    const leaseId = uuidv7();
    const { rows } = await this.pool.query(
      `UPDATE ${this.schema}.deliveries SET lease_id = $3, lease_until = $1::bigint + $4::bigint
        WHERE delivery_id IN (
          SELECT delivery_id FROM ${this.schema}.deliveries
           WHERE status = 'pending' AND next_attempt_at <= $1 AND (lease_until IS NULL OR lease_until <= $1) AND NOT (subscription_id = ANY($5))
           ORDER BY next_attempt_at LIMIT $2 FOR UPDATE SKIP LOCKED)
        RETURNING ${COLUMNS}, body, traceparent`,
      [now, limit, leaseId, leaseMs, skipSubscriptions],
    );
    return rows.map((r) => ({ ...deliveryOf(r), body: r.body as string, traceparent: (r.traceparent as string | null) ?? null, leaseId }));
  }

  async lockLeased(tx: Transaction, deliveryId: string, leaseId: string): Promise<Delivery | null> {
    const { rows } = await tx.query(`SELECT ${COLUMNS} FROM ${this.schema}.deliveries WHERE delivery_id = $1 AND lease_id = $2 FOR UPDATE`, [deliveryId, leaseId]);
    return rows[0] ? deliveryOf(rows[0]) : null;
  }

  async lock(tx: Transaction, deliveryId: string): Promise<Delivery | null> {
    const { rows } = await tx.query(`SELECT ${COLUMNS} FROM ${this.schema}.deliveries WHERE delivery_id = $1 FOR UPDATE`, [deliveryId]);
    return rows[0] ? deliveryOf(rows[0]) : null;
  }

  async update(tx: Transaction, deliveryId: string, change: DeliveryChange): Promise<void> {
    await tx.query(
      `UPDATE ${this.schema}.deliveries
          SET status = $2, attempts = $3, attempts_in_run = $4, next_attempt_at = $5, finished_at = $6, lease_id = NULL, lease_until = NULL,
              last_status = CASE WHEN $7 THEN $8::integer ELSE last_status END, last_error = CASE WHEN $7 THEN $9::text ELSE last_error END
        WHERE delivery_id = $1`,
      [deliveryId, change.status, change.attempts, change.attemptsInRun, change.nextAttemptAt, change.finishedAt, change.lastStatus !== undefined, change.lastStatus ?? null, change.lastError ?? null],
    );
  }

  async postpone(deliveryId: string, leaseId: string, at: number): Promise<void> {
    await this.pool.query(`UPDATE ${this.schema}.deliveries SET next_attempt_at = $3, lease_id = NULL, lease_until = NULL WHERE delivery_id = $1 AND lease_id = $2`, [deliveryId, leaseId, at]);
  }

  async lockPendingOf(tx: Transaction, subscriptionId: string): Promise<Delivery[]> {
    const { rows } = await tx.query(`SELECT ${COLUMNS} FROM ${this.schema}.deliveries WHERE subscription_id = $1 AND status = 'pending' FOR UPDATE`, [subscriptionId]);
    return rows.map(deliveryOf);
  }

  async prune(before: number, limit: number): Promise<number> {
    const deleted = await Promise.all([
      this.pool.query(`DELETE FROM ${this.schema}.deliveries WHERE delivery_id IN (SELECT delivery_id FROM ${this.schema}.deliveries WHERE status <> 'pending' AND finished_at < $1 ORDER BY finished_at LIMIT $2)`, [before, limit]),
      this.pool.query(`DELETE FROM ${this.schema}.execution_kinds WHERE execution_id IN (SELECT execution_id FROM ${this.schema}.execution_kinds WHERE accepted_at < $1 ORDER BY accepted_at LIMIT $2)`, [before, limit]),
      this.pool.query(`DELETE FROM ${this.schema}.inbound_requests WHERE (source, request_id) IN (SELECT source, request_id FROM ${this.schema}.inbound_requests WHERE received_at < $1 ORDER BY received_at LIMIT $2)`, [before, limit]),
    ]);
    return deleted.reduce((sum, r) => sum + (r.rowCount ?? 0), 0);
  }

  async nextDueAt(): Promise<number | null> {
    const { rows } = await this.pool.query(`SELECT min(next_attempt_at) AS due FROM ${this.schema}.deliveries WHERE status = 'pending'`);
    return rows[0]?.due === null || rows[0]?.due === undefined ? null : Number(rows[0].due);
  }
}

export class PostgresExecutionKinds implements ExecutionKinds {
  constructor(private readonly schema: string) {}

  async remember(tx: Transaction, executionId: string, kind: string, at: number): Promise<void> {
    await tx.query(`INSERT INTO ${this.schema}.execution_kinds (execution_id, kind, accepted_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, [executionId, kind, at]);
  }

  async kindOf(tx: Transaction, executionId: string): Promise<string | null> {
    const { rows } = await tx.query(`SELECT kind FROM ${this.schema}.execution_kinds WHERE execution_id = $1`, [executionId]);
    return (rows[0]?.kind as string | undefined) ?? null;
  }
}
