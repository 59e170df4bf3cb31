import type { AlertRaised, ExecutionQueued, SlaViolated } from '@flotilla/contracts';
import type { ReadSideWriter } from '../read-model-events';
import type { PoolClient } from 'pg';

const ts = (ms: number) => new Date(ms).toISOString();

/** Writes of the read side beyond executions and tasks; each runs in the event's projection transaction. */
export class ReadSideRepository implements ReadSideWriter {
  constructor(private readonly schema: string) {}

  async queued(client: PoolClient, e: ExecutionQueued): Promise<void> {
    await client.query(
      `UPDATE ${this.schema}.executions SET queued_at = $2, deadline_at = $3, tier = $4, priority = $5 WHERE execution_id = $1`,
      [e.executionId, ts(e.queuedAt), e.deadlineAt === null ? null : ts(e.deadlineAt), e.tier, e.basePriority],
    );
  }

  async slaViolated(client: PoolClient, e: SlaViolated): Promise<void> {
    await client.query(
      `INSERT INTO ${this.schema}.sla_violations (execution_id, sla, customer_id, limit_ms, actual_ms, violated_at) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (execution_id, sla) DO NOTHING`,
      [e.executionId, e.sla, e.customerId, e.limitMs, e.actualMs, ts(e.violatedAt)],
    );
  }

  async alert(client: PoolClient, a: AlertRaised): Promise<void> {
    await client.query(
      `INSERT INTO ${this.schema}.alerts (alert_id, severity, kind, source, customer_id, execution_id, message, raised_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (alert_id) DO NOTHING`,
      [a.alertId, a.severity, a.kind, a.source, a.customerId, a.executionId, a.message, ts(a.raisedAt)],
    );
  }

  /** Circuit transitions of one customer arrive in order (one partition per customer). */
  async circuit(client: PoolClient, customerId: string, status: 'open' | 'half_open' | 'closed', at: number): Promise<void> {
    await client.query(
      `INSERT INTO ${this.schema}.customer_circuits (customer_id, status, changed_at) VALUES ($1, $2, $3)
       ON CONFLICT (customer_id) DO UPDATE SET status = EXCLUDED.status, changed_at = EXCLUDED.changed_at`,
      [customerId, status, ts(at)],
    );
  }

  async capacity(client: PoolClient, capacity: number, at: number): Promise<void> {
    await client.query(
      `INSERT INTO ${this.schema}.admission_capacity (id, capacity, changed_at) VALUES ('global', $1, $2)
       ON CONFLICT (id) DO UPDATE SET capacity = EXCLUDED.capacity, changed_at = EXCLUDED.changed_at`,
      [capacity, ts(at)],
    );
  }
}
