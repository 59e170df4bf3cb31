import type { CapacityBounds } from './domain/pool-capacity/pool-capacity';
import type { TaskExecutor } from './infrastructure/executors/task-executor';

export const AGENT_POOL_SETTINGS = Symbol('AGENT_POOL_SETTINGS');
export const AGENT_POOLS = Symbol('AGENT_POOLS');

export interface AgentPoolSettings {
  /** hostname-pid: names this process in heartbeats, metrics reports and capacity answers. */
  readonly instanceId: string;
  readonly capacityBounds: CapacityBounds;
  readonly taskTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  executorFor(agentType: string): TaskExecutor;
}
