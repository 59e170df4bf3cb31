import type { CostRecorded } from '@flotilla/contracts';
import type { Pool, PoolClient } from 'pg';
import type { AttemptCostRow, CostLedgerRows, CustomerCost, ExecutionCost, PoolCost } from '../ports';

/** BIGINT sums come back as text: exact as long as they stay below 2^53 micro-units (9 billion dollars). */
const toNumber = (value: string | number | null): number => (value === null ? 0 : Number(value));

/** The ledger's rows and the sums read from them, in the optimizer's schema. */
export class CostStore implements CostLedgerRows {
  constructor(
    private readonly pool: Pool,
    private readonly schema: string,
    readonly currency: string,
  ) {}

  /** In the transaction that records the CostRecorded events: a row per attempt, once. */
  async insert(client: PoolClient, costs: readonly CostRecorded[]): Promise<void> {
    if (costs.length === 0) return;
    const column = <T>(pick: (c: CostRecorded) => T) => costs.map(pick);
    await client.query(
      `INSERT INTO ${this.schema}.attempt_costs (cost_id, execution_id, customer_id, agent_type, task_id, attempt, outcome, cpu_micros, memory_micros, fixed_micros, units_micros, total_micros, ended_at)
       SELECT c, e, cu, a, t, at, o, cpu, mem, fx, un, tot, to_timestamp(ended / 1000.0)
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int[], $7::text[], $8::bigint[], $9::bigint[], $10::bigint[], $11::bigint[], $12::bigint[], $13::bigint[])
           AS x(c, e, cu, a, t, at, o, cpu, mem, fx, un, tot, ended)
       ON CONFLICT (cost_id) DO NOTHING`,
      [
        column((c) => c.costId),
        column((c) => c.executionId),
        column((c) => c.customerId),
        column((c) => c.agentType),
        column((c) => c.taskId),
        column((c) => c.attempt),
        column((c) => c.outcome),
        column((c) => c.breakdown.cpuMicros),
        column((c) => c.breakdown.memoryMicros),
        column((c) => c.breakdown.fixedMicros),
        column((c) => c.breakdown.unitsMicros),
        column((c) => c.breakdown.totalMicros),
        column((c) => c.endedAt),
      ],
    );
  }

  async execution(executionId: string): Promise<ExecutionCost | null> {
    const { rows } = await this.pool.query(
      `SELECT cost_id, customer_id, task_id, attempt, agent_type, outcome, cpu_micros, memory_micros, fixed_micros, units_micros, total_micros, ended_at
         FROM ${this.schema}.attempt_costs WHERE execution_id = $1 ORDER BY ended_at, cost_id`,
      [executionId],
    );
    if (rows.length === 0) return null;
    const attempts: AttemptCostRow[] = rows.map((r) => ({
      costId: r.cost_id,
      taskId: r.task_id,
      attempt: r.attempt,
      agentType: r.agent_type,
      outcome: r.outcome,
      cpuMicros: toNumber(r.cpu_micros),
      memoryMicros: toNumber(r.memory_micros),
      fixedMicros: toNumber(r.fixed_micros),
      unitsMicros: toNumber(r.units_micros),
      totalMicros: toNumber(r.total_micros),
      endedAt: (r.ended_at as Date).toISOString(),
    }));
    return { executionId, customerId: rows[0].customer_id, currency: this.currency, totalMicros: attempts.reduce((sum, a) => sum + a.totalMicros, 0), attempts };
  }

  async customer(customerId: string, range: { from?: string; to?: string }): Promise<CustomerCost | null> {
    const where = `customer_id = $1 AND ($2::timestamptz IS NULL OR ended_at >= $2) AND ($3::timestamptz IS NULL OR ended_at < $3)`;
    const args = [customerId, range.from ?? null, range.to ?? null];
    const [total, byAgentType, byHour] = await Promise.all([
      this.pool.query(`SELECT sum(total_micros) AS total, count(DISTINCT execution_id)::int AS executions FROM ${this.schema}.attempt_costs WHERE ${where}`, args),
      this.pool.query(`SELECT agent_type, sum(total_micros) AS total FROM ${this.schema}.attempt_costs WHERE ${where} GROUP BY agent_type ORDER BY agent_type`, args),
      this.pool.query(`SELECT date_trunc('hour', ended_at) AS hour, sum(total_micros) AS total FROM ${this.schema}.attempt_costs WHERE ${where} GROUP BY 1 ORDER BY 1`, args),
    ]);
    if (total.rows[0].executions === 0) return null;
    return {
      customerId,
      currency: this.currency,
      totalMicros: toNumber(total.rows[0].total),
      executions: total.rows[0].executions,
      byAgentType: byAgentType.rows.map((r) => ({ agentType: r.agent_type, totalMicros: toNumber(r.total) })),
      byHour: byHour.rows.map((r) => ({ hour: (r.hour as Date).toISOString(), totalMicros: toNumber(r.total) })),
    };
  }

  async pools(range: { from?: string; to?: string }): Promise<PoolCost[]> {
    const { rows } = await this.pool.query(
      `SELECT agent_type, sum(total_micros) AS total, count(*)::int AS attempts FROM ${this.schema}.attempt_costs
        WHERE ($1::timestamptz IS NULL OR ended_at >= $1) AND ($2::timestamptz IS NULL OR ended_at < $2) GROUP BY agent_type ORDER BY agent_type`,
      [range.from ?? null, range.to ?? null],
    );
    return rows.map((r) => ({ agentType: r.agent_type, totalMicros: toNumber(r.total), attempts: r.attempts }));
  }
}
