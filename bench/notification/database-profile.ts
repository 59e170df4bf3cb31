// The database's side of a profile of the notification service, for `--profile`:
// - what the service's connections are doing, sampled from pg_stat_activity every few milliseconds
//   (they are told apart by the application_name the bench gives the service's DATABASE_URL): running,
//   waiting on a lock, flushing WAL at commit, or idle inside a transaction while the service works;
// - the row traffic on the service's tables (pg_stat_user_tables), per delivery;
// - pg_stat_statements, when the server has it loaded (shared_preload_libraries), else said so.
import type { Pool } from 'pg';

export interface Sampled {
  readonly what: string;
  readonly samples: number;
  readonly share: number;
}

export interface ActivityProfile {
  readonly samples: number;
  /** Connection-samples: one per connection of the service per sample. */
  readonly connectionSamples: number;
  readonly byState: readonly Sampled[];
  /** Samples of connections not idle, by statement and wait. */
  readonly byStatement: readonly Sampled[];
}

export interface TableTraffic {
  readonly table: string;
  readonly inserted: number;
  readonly updated: number;
  readonly hotUpdated: number;
  readonly deleted: number;
  readonly seqScans: number;
  readonly indexScans: number;
}

export interface ServerStatement {
  readonly statement: string;
  readonly calls: number;
  readonly totalMs: number;
  readonly meanMs: number;
}

/** Samples pg_stat_activity for the connections named `applicationName` until stopped. */
export class ActivitySampler {
  private readonly byState = new Map<string, number>();
  private readonly byStatement = new Map<string, number>();
  private samples = 0;
  private connectionSamples = 0;
  private running = false;
  private loop: Promise<void> | null = null;

  constructor(
    private readonly pool: Pool,
    private readonly applicationName: string,
    private readonly schema: string,
    private readonly intervalMs = 10,
  ) {}

  start(): void {
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<ActivityProfile> {
    this.running = false;
    await this.loop;
    const total = this.connectionSamples;
    const sorted = (map: Map<string, number>, n: number) =>
      [...map]
        .sort((a, b) => b[1] - a[1])
        .slice(0, n)
        .map(([what, samples]) => ({ what, samples, share: samples / total }));
    return { samples: this.samples, connectionSamples: total, byState: sorted(this.byState, 12), byStatement: sorted(this.byStatement, 15) };
  }

  private async run(): Promise<void> {
    while (this.running) {
      const { rows } = await this.pool.query<{ state: string | null; wait: string; query: string }>(
        `SELECT state, coalesce(wait_event_type || ':' || wait_event, '') AS wait, query
           FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()`,
        [this.applicationName],
      );
      this.samples++;
      for (const row of rows) {
        this.connectionSamples++;
        const state = `${row.state ?? '?'}${row.wait ? ` (${row.wait})` : ''}`;
        this.byState.set(state, (this.byState.get(state) ?? 0) + 1);
        if (row.state === 'idle') continue;
        const statement = row.query.replace(/\s+/g, ' ').trim().split(`${this.schema}.`).join('<schema>.').slice(0, 110);
        const key = `${row.state === 'active' ? '' : `[${row.state}] `}${statement}${row.wait ? `  — ${row.wait}` : ''}`;
        this.byStatement.set(key, (this.byStatement.get(key) ?? 0) + 1);
      }
      await new Promise((resolve) => setTimeout(resolve, this.intervalMs)); // the sampling period
    }
  }
}

export async function tableTraffic(pool: Pool, schema: string): Promise<Map<string, TableTraffic>> {
  const { rows } = await pool.query(
    `SELECT relname AS table, n_tup_ins AS inserted, n_tup_upd AS updated, n_tup_hot_upd AS "hotUpdated", n_tup_del AS deleted,
            coalesce(seq_scan, 0) AS "seqScans", coalesce(idx_scan, 0) AS "indexScans"
       FROM pg_stat_user_tables WHERE schemaname = $1`,
    [schema],
  );
  return new Map(rows.map((r) => [r.table as string, Object.fromEntries(Object.entries(r).map(([k, v]) => [k, k === 'table' ? v : Number(v)])) as unknown as TableTraffic]));
}

export function trafficBetween(before: Map<string, TableTraffic>, after: Map<string, TableTraffic>): TableTraffic[] {
  return [...after.values()]
    .map((a) => {
      const b = before.get(a.table);
      const minus = (k: keyof Omit<TableTraffic, 'table'>) => a[k] - (b?.[k] ?? 0);
      return { table: a.table, inserted: minus('inserted'), updated: minus('updated'), hotUpdated: minus('hotUpdated'), deleted: minus('deleted'), seqScans: minus('seqScans'), indexScans: minus('indexScans') };
    })
    .filter((t) => t.inserted + t.updated + t.deleted + t.seqScans + t.indexScans > 0)
    .sort((x, y) => y.inserted + y.updated + y.deleted - (x.inserted + x.updated + x.deleted));
}

/** Whether pg_stat_statements collects on this server; its snapshots are then usable. */
export async function statementStatsLoaded(pool: Pool): Promise<boolean> {
  const { rows } = await pool.query(`SELECT current_setting('shared_preload_libraries') AS libraries`);
  if (!String(rows[0].libraries).split(',').map((l) => l.trim()).includes('pg_stat_statements')) return false;
  await pool.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
  return true;
}

/** pg_stat_statements' entries of the service's statements (its schema in them) and of transaction control. */
export async function serverStatements(pool: Pool, schema: string): Promise<Map<string, { calls: number; totalMs: number }>> {
  const { rows } = await pool.query(
    `SELECT query, sum(calls)::float8 AS calls, sum(total_exec_time)::float8 AS total
       FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
        AND (query LIKE '%' || $1 || '.%' OR query IN ('BEGIN', 'COMMIT', 'ROLLBACK'))
      GROUP BY query`,
    [schema],
  );
  return new Map(rows.map((r) => [String(r.query).replace(/\s+/g, ' ').split(`${schema}.`).join('<schema>.'), { calls: Number(r.calls), totalMs: Number(r.total) }]));
}

export function statementsBetween(before: Map<string, { calls: number; totalMs: number }>, after: Map<string, { calls: number; totalMs: number }>, n = 12): ServerStatement[] {
  return [...after]
    .map(([statement, a]) => {
      const b = before.get(statement) ?? { calls: 0, totalMs: 0 };
      const calls = a.calls - b.calls;
      const totalMs = a.totalMs - b.totalMs;
      return { statement, calls, totalMs, meanMs: calls > 0 ? totalMs / calls : 0 };
    })
    .filter((s) => s.calls > 0)
    .sort((x, y) => y.totalMs - x.totalMs)
    .slice(0, n);
}
