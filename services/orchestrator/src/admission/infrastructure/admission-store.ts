import type { Pool, PoolClient } from 'pg';
import type { AdmissionSnapshot, QueueEntry } from '../domain/admission-plan';
import type { BudgetHoldChange } from '../domain/budget-hold';
import type { CircuitState } from '../domain/customer-circuit';
import type { ExecutionEvent } from '../../execution/domain/execution';
import type { AdmissionStore, StoredCircuit } from '../ports';

/** The orchestrator's admission tables (see the admission migration), in its own schema. */
export class PostgresAdmissionStore implements AdmissionStore {
  constructor(
    private readonly pool: Pool,
    private readonly schema: string,
  ) {}

  /**
   * Keeps the queue in step with the Execution events of a batch of commands; runs in the transaction
   * that appends them. One statement per kind of change, in lifecycle order (queued, admitted, SLA,
   * ended), so an execution queued and ended in the same batch ends up gone.
   */
  async applyExecutionEvents(client: PoolClient, events: ReadonlyArray<{ readonly event: ExecutionEvent; readonly traceparent: string | null }>): Promise<void> {
    const queued: Array<{ data: Extract<ExecutionEvent, { type: 'flotilla.execution.ExecutionQueued' }>['data']; traceparent: string | null }> = [];
    const admitted: Array<{ executionId: string; admittedAt: number }> = [];
    const slaViolated: string[] = [];
    const ended: string[] = [];
    for (const { event, traceparent } of events) {
      switch (event.type) {
        case 'flotilla.execution.ExecutionQueued':
          queued.push({ data: event.data, traceparent });
          break;
        case 'flotilla.execution.ExecutionAdmitted':
          admitted.push({ executionId: event.data.executionId, admittedAt: event.data.admittedAt });
          break;
        case 'flotilla.execution.SlaViolated':
          slaViolated.push(event.data.executionId);
          break;
        case 'flotilla.execution.ExecutionCompleted':
        case 'flotilla.execution.ExecutionFailed':
        case 'flotilla.execution.ExecutionCancelled':
        case 'flotilla.execution.ExecutionRejected':
          // The slot (or the place in the queue) is released in the same transaction as the ending.
          ended.push(event.data.executionId);
          break;
        default:
          break;
      }
    }
    if (queued.length > 0) {
      await client.query(
        `INSERT INTO ${this.schema}.admission_queue (execution_id, customer_id, base_priority, queued_at, traceparent)
         SELECT * FROM unnest($1::text[], $2::text[], $3::float8[], $4::bigint[], $5::text[]) ON CONFLICT (execution_id) DO NOTHING`,
        [queued.map((q) => q.data.executionId), queued.map((q) => q.data.customerId), queued.map((q) => q.data.basePriority), queued.map((q) => q.data.queuedAt), queued.map((q) => q.traceparent)],
      );
    }
    if (admitted.length > 0) {
      await client.query(
        `UPDATE ${this.schema}.admission_queue q SET admitted_at = a.admitted_at FROM unnest($1::text[], $2::bigint[]) AS a(execution_id, admitted_at) WHERE q.execution_id = a.execution_id`,
        [admitted.map((a) => a.executionId), admitted.map((a) => a.admittedAt)],
      );
    }
    if (slaViolated.length > 0) await client.query(`UPDATE ${this.schema}.admission_queue SET sla_violated = true WHERE execution_id = ANY($1::text[])`, [slaViolated]);
    if (ended.length > 0) await client.query(`DELETE FROM ${this.schema}.admission_queue WHERE execution_id = ANY($1::text[])`, [ended]);
  }

  /**
   * The circuits of `customerIds`, locked until the transaction ends (a row is made for a customer
   * seen for the first time): whoever records an outcome next waits, then reads what this one wrote.
   */
  async lockCircuits(client: PoolClient, customerIds: readonly string[]): Promise<Map<string, StoredCircuit>> {
    const ids = [...new Set(customerIds)].sort();
    await client.query(
      `INSERT INTO ${this.schema}.customer_circuits (customer_id, status, consecutive_failures) SELECT id, 'closed', 0 FROM unnest($1::text[]) AS id ON CONFLICT (customer_id) DO NOTHING`,
      [ids],
    );
    const { rows } = await client.query(
      `SELECT customer_id, status, consecutive_failures, open_until, probe_execution_id, stream_version FROM ${this.schema}.customer_circuits WHERE customer_id = ANY($1::text[]) ORDER BY customer_id FOR UPDATE`,
      [ids],
    );
    return new Map(rows.map((r) => [r.customer_id as string, { state: circuitFromRow(r), version: r.stream_version as number }]));
  }

  async saveCircuits(client: PoolClient, circuits: ReadonlyArray<{ readonly customerId: string } & StoredCircuit>): Promise<void> {
    if (circuits.length === 0) return;
    await client.query(
      `UPDATE ${this.schema}.customer_circuits c SET status = n.status, consecutive_failures = n.failures, open_until = n.open_until, probe_execution_id = n.probe, stream_version = n.version
         FROM unnest($1::text[], $2::text[], $3::int[], $4::bigint[], $5::text[], $6::int[]) AS n(customer_id, status, failures, open_until, probe, version)
        WHERE c.customer_id = n.customer_id`,
      [
        circuits.map((c) => c.customerId),
        circuits.map((c) => c.state.status),
        circuits.map((c) => c.state.consecutiveFailures),
        circuits.map((c) => (c.state.status === 'open' ? c.state.openUntil : null)),
        circuits.map((c) => (c.state.status === 'half_open' ? c.state.probeExecutionId : null)),
        circuits.map((c) => c.version),
      ],
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
    const [entries, capacity, circuits, holds] = await Promise.all([
      this.pool.query(`SELECT execution_id, customer_id, base_priority, queued_at, admitted_at, sla_violated, traceparent FROM ${this.schema}.admission_queue`),
      this.pool.query(`SELECT capacity FROM ${this.schema}.admission_capacity WHERE id = 'global'`),
      this.pool.query(`SELECT customer_id, status, consecutive_failures, open_until, probe_execution_id FROM ${this.schema}.customer_circuits WHERE status <> 'closed'`),
      this.pool.query(`SELECT customer_id, hold_until FROM ${this.schema}.customer_budget_holds`),
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
      circuits: Object.fromEntries(circuits.rows.map((r) => [r.customer_id, circuitFromRow(r)])),
      budgetHolds: Object.fromEntries(holds.rows.map((r) => [r.customer_id, Number(r.hold_until)])),
    };
  }

  async applyBudgetHold(change: BudgetHoldChange): Promise<void> {
    if (change.holdUntil === null) {
      await this.pool.query(`DELETE FROM ${this.schema}.customer_budget_holds WHERE customer_id = $1`, [change.customerId]);
      return;
    }
    await this.pool.query(
      `INSERT INTO ${this.schema}.customer_budget_holds (customer_id, hold_until, reason) VALUES ($1, $2, $3)
       ON CONFLICT (customer_id) DO UPDATE SET hold_until = GREATEST(customer_budget_holds.hold_until, EXCLUDED.hold_until), reason = EXCLUDED.reason`,
      [change.customerId, change.holdUntil, change.reason],
    );
  }
}

function circuitFromRow(r: { status: string; consecutive_failures: number; open_until: string | null; probe_execution_id: string | null }): CircuitState {
  switch (r.status) {
    case 'open':
      return { status: 'open', consecutiveFailures: r.consecutive_failures, openUntil: Number(r.open_until) };
    case 'half_open':
      return { status: 'half_open', consecutiveFailures: r.consecutive_failures, probeExecutionId: r.probe_execution_id ?? '' };
    default:
      return { status: 'closed', consecutiveFailures: r.consecutive_failures };
  }
}
