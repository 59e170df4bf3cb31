import type { Pool, PoolClient } from 'pg';
import type { AdmissionSnapshot, QueueEntry } from '../domain/admission-plan';
import type { CircuitState } from '../domain/customer-circuit';
import type { ExecutionEvent } from '../../execution/domain/execution';
import type { AdmissionStore } from '../ports';

/** The orchestrator's admission tables (see the admission migration), in its own schema. */
export class PostgresAdmissionStore implements AdmissionStore {
  constructor(
    private readonly pool: Pool,
    private readonly schema: string,
  ) {}

  /** Keeps the queue in step with an Execution's events; runs in the transaction that appends them. */
  async applyExecutionEvent(client: PoolClient, event: ExecutionEvent, traceparent: string | null): Promise<void> {
    switch (event.type) {
      case 'flotilla.execution.ExecutionQueued': {
        const { executionId, customerId, basePriority, queuedAt } = event.data;
        await client.query(
          `INSERT INTO ${this.schema}.admission_queue (execution_id, customer_id, base_priority, queued_at, traceparent) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (execution_id) DO NOTHING`,
          [executionId, customerId, basePriority, queuedAt, traceparent],
        );
        return;
      }
      case 'flotilla.execution.ExecutionAdmitted':
        await client.query(`UPDATE ${this.schema}.admission_queue SET admitted_at = $2 WHERE execution_id = $1`, [event.data.executionId, event.data.admittedAt]);
        return;
      case 'flotilla.execution.SlaViolated':
        await client.query(`UPDATE ${this.schema}.admission_queue SET sla_violated = true WHERE execution_id = $1`, [event.data.executionId]);
        return;
      case 'flotilla.execution.ExecutionCompleted':
      case 'flotilla.execution.ExecutionFailed':
      case 'flotilla.execution.ExecutionCancelled':
      case 'flotilla.execution.ExecutionRejected':
        // The slot (or the place in the queue) is released in the same transaction as the ending.
        await client.query(`DELETE FROM ${this.schema}.admission_queue WHERE execution_id = $1`, [event.data.executionId]);
        return;
      default:
        return;
    }
  }

  async saveCircuit(client: PoolClient, customerId: string, state: CircuitState): Promise<void> {
    await client.query(
      `INSERT INTO ${this.schema}.customer_circuits (customer_id, status, consecutive_failures, open_until, probe_execution_id) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (customer_id) DO UPDATE SET status = EXCLUDED.status, consecutive_failures = EXCLUDED.consecutive_failures,
         open_until = EXCLUDED.open_until, probe_execution_id = EXCLUDED.probe_execution_id`,
      [customerId, state.status, state.consecutiveFailures, state.status === 'open' ? state.openUntil : null, state.status === 'half_open' ? state.probeExecutionId : null],
    );
  }

  async saveCapacity(client: PoolClient, capacity: number, changedAt: number): Promise<void> {
    await client.query(
      `INSERT INTO ${this.schema}.admission_capacity (id, capacity, changed_at) VALUES ('global', $1, $2)
       ON CONFLICT (id) DO UPDATE SET capacity = EXCLUDED.capacity, changed_at = EXCLUDED.changed_at`,
      [capacity, changedAt],
    );
  }

  /** What admission decides with: every queued or running execution, the capacity, the circuits that are not closed. */
  async snapshot(defaultCapacity: number): Promise<AdmissionSnapshot & { readonly traceparents: ReadonlyMap<string, string> }> {
    const [entries, capacity, circuits] = await Promise.all([
      this.pool.query(`SELECT execution_id, customer_id, base_priority, queued_at, admitted_at, sla_violated, traceparent FROM ${this.schema}.admission_queue`),
      this.pool.query(`SELECT capacity FROM ${this.schema}.admission_capacity WHERE id = 'global'`),
      this.pool.query(`SELECT customer_id, status, consecutive_failures, open_until, probe_execution_id FROM ${this.schema}.customer_circuits WHERE status <> 'closed'`),
    ]);
    return {
      traceparents: new Map(entries.rows.filter((r) => r.traceparent).map((r) => [r.execution_id, r.traceparent])),
      capacity: capacity.rows[0]?.capacity ?? defaultCapacity,
      entries: entries.rows.map(
        (r): QueueEntry => ({
          executionId: r.execution_id,
          customerId: r.customer_id,
          basePriority: Number(r.base_priority),
          queuedAt: Number(r.queued_at),
          admittedAt: r.admitted_at === null ? null : Number(r.admitted_at),
          slaViolated: r.sla_violated,
        }),
      ),
      circuits: Object.fromEntries(
        circuits.rows.map((r) => [
          r.customer_id,
          r.status === 'open'
            ? { status: 'open', consecutiveFailures: r.consecutive_failures, openUntil: Number(r.open_until) }
            : { status: 'half_open', consecutiveFailures: r.consecutive_failures, probeExecutionId: r.probe_execution_id },
        ]),
      ) as Record<string, CircuitState>,
    };
  }
}
