import { applyPoolNews, type PoolReplicasNews, type PoolReplicasRow } from './domain/pool-replicas';
import type { PoolReplicasRows } from './ports';

/** Each pool's replicas as the agent pool last recorded them: kept in memory, saved with every change. */
export class PoolReplicasView {
  private readonly rows = new Map<string, PoolReplicasRow>();
  private loading: Promise<void> | null = null;

  constructor(private readonly store: PoolReplicasRows) {}

  /** Reads the saved rows once (after the service's migrations have run); what arrived meanwhile is newer and stays. */
  loaded(): Promise<void> {
    this.loading ??= this.store.all().then((saved) => {
      for (const [agentType, row] of saved) if (!this.rows.has(agentType)) this.rows.set(agentType, row);
    });
    return this.loading;
  }

  get(agentType: string): PoolReplicasRow | null {
    return this.rows.get(agentType) ?? null;
  }

  async apply(news: PoolReplicasNews): Promise<void> {
    await this.loaded();
    const next = applyPoolNews(this.get(news.data.agentType), news);
    if (!next) return;
    this.rows.set(next.agentType, next);
    await this.store.save(next);
  }
}
