import type { PoolReplicasRow } from './domain/pool-replicas';

/** Each pool's replicas as the agent pool last recorded them (flotilla.pool-events). */
export interface PoolReplicasRows {
  save(row: PoolReplicasRow): Promise<void>;
  all(): Promise<Map<string, PoolReplicasRow>>;
}

/** The consumer lag of a pool's dispatch group: what waits for its workers, read when none reports it. */
export interface GroupLag {
  of(agentType: string): Promise<number>;
  close(): Promise<void>;
}
