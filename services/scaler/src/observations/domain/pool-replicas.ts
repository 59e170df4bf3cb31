import type { PoolReplicasChanged, PoolReplicasReached, PoolWorkerDrained, PoolWorkerFailed, PoolWorkerReady } from '@flotilla/contracts';

/** A pool's replicas as the agent pool last said: desired, ready, and a worker's slots. */
export interface PoolReplicasRow {
  readonly agentType: string;
  readonly replicas: number;
  readonly readyReplicas: number;
  readonly slotsPerWorker: number;
  readonly provisioner: string;
  readonly updatedAt: number;
}

export type PoolReplicasNews =
  | { readonly type: 'flotilla.pool.PoolReplicasChanged'; readonly data: PoolReplicasChanged }
  | { readonly type: 'flotilla.pool.PoolWorkerReady'; readonly data: PoolWorkerReady }
  | { readonly type: 'flotilla.pool.PoolWorkerFailed'; readonly data: PoolWorkerFailed }
  | { readonly type: 'flotilla.pool.PoolWorkerDrained'; readonly data: PoolWorkerDrained }
  | { readonly type: 'flotilla.pool.PoolReplicasReached'; readonly data: PoolReplicasReached };

/**
 * The row after one of the pool's events (they arrive in order: one partition per pool). Only the
 * answer to a request carries the slots and the provisioner; until the first one the row is unknown.
 */
export function applyPoolNews(row: PoolReplicasRow | null, news: PoolReplicasNews): PoolReplicasRow | null {
  switch (news.type) {
    case 'flotilla.pool.PoolReplicasChanged': {
      const d = news.data;
      return { agentType: d.agentType, replicas: d.replicas, readyReplicas: d.readyReplicas, slotsPerWorker: d.slotsPerWorker, provisioner: d.provisioner, updatedAt: d.changedAt };
    }
    case 'flotilla.pool.PoolWorkerReady':
      return row && { ...row, replicas: news.data.replicas, readyReplicas: news.data.readyReplicas, updatedAt: news.data.readyAt };
    case 'flotilla.pool.PoolWorkerFailed':
      return row && { ...row, replicas: news.data.replicas, readyReplicas: news.data.readyReplicas, updatedAt: news.data.failedAt };
    case 'flotilla.pool.PoolWorkerDrained':
      return row && { ...row, replicas: news.data.replicas, readyReplicas: news.data.readyReplicas, updatedAt: news.data.drainedAt };
    case 'flotilla.pool.PoolReplicasReached':
      return row && { ...row, replicas: news.data.replicas, readyReplicas: news.data.replicas, updatedAt: news.data.reachedAt };
  }
}
