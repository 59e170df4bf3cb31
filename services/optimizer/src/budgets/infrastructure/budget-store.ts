import type { Pool, PoolClient } from 'pg';
import type { BudgetState } from '../domain/budget';
import type { BudgetRows, StoredBudget } from '../ports';

/** Budget rows, locked for the transaction that decides on them (in id order, so that two transactions never deadlock). */
export class BudgetStore implements BudgetRows {
  constructor(
    private readonly pool: Pool,
    private readonly schema: string,
  ) {}

  /** Rows for budgets about to be decided on for the first time (state None), so that they can be locked. */
  async ensure(client: PoolClient, budgetIds: readonly string[]): Promise<void> {
    if (budgetIds.length === 0) return;
    await client.query(
      `INSERT INTO ${this.schema}.budgets (budget_id, state, stream_version) SELECT id, '{"status":"None"}'::jsonb, 0 FROM unnest($1::text[]) AS id ORDER BY id ON CONFLICT (budget_id) DO NOTHING`,
      [[...budgetIds].sort()],
    );
  }

  /** The rows of `budgetIds` that exist, locked; the others are absent from the map (no budget: state None). */
  async lock(client: PoolClient, budgetIds: readonly string[]): Promise<Map<string, StoredBudget>> {
    const ids = [...new Set(budgetIds)].sort();
    const { rows } = await client.query(`SELECT budget_id, state, stream_version FROM ${this.schema}.budgets WHERE budget_id = ANY($1::text[]) ORDER BY budget_id FOR UPDATE`, [ids]);
    return new Map(rows.map((r) => [r.budget_id as string, { state: r.state as BudgetState, version: r.stream_version as number }]));
  }

  async save(client: PoolClient, budgets: ReadonlyArray<{ readonly budgetId: string } & StoredBudget>): Promise<void> {
    if (budgets.length === 0) return;
    await client.query(
      `INSERT INTO ${this.schema}.budgets (budget_id, state, stream_version, updated_at)
         SELECT * , now() FROM unnest($1::text[], $2::jsonb[], $3::int[])
       ON CONFLICT (budget_id) DO UPDATE SET state = EXCLUDED.state, stream_version = EXCLUDED.stream_version, updated_at = now()`,
      [budgets.map((b) => b.budgetId), budgets.map((b) => JSON.stringify(b.state)), budgets.map((b) => b.version)],
    );
  }

  async get(budgetId: string): Promise<BudgetState | null> {
    const { rows } = await this.pool.query(`SELECT state FROM ${this.schema}.budgets WHERE budget_id = $1`, [budgetId]);
    return rows[0] ? (rows[0].state as BudgetState) : null;
  }

  /** Every budget, or those whose id is in `budgetIds`; in id order. */
  async list(budgetIds?: readonly string[]): Promise<BudgetState[]> {
    const { rows } = await this.pool.query(
      `SELECT state FROM ${this.schema}.budgets WHERE state->>'status' = 'Active' AND ($1::text[] IS NULL OR budget_id = ANY($1::text[])) ORDER BY budget_id`,
      [budgetIds ?? null],
    );
    return rows.map((r) => r.state as BudgetState);
  }
}
