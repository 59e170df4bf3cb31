import type { CapacityBounds } from './pools/domain/pool-capacity';
import type { TaskExecutor } from './task-attempts/task-executor';

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
export const DISPATCH_CONSUMER = Symbol('DISPATCH_CONSUMER');
export const POOL_METRICS_REPORTER = Symbol('POOL_METRICS_REPORTER');
export const POOL_REPLICAS = Symbol('POOL_REPLICAS');
export const PROVISIONING_LOOP = Symbol('PROVISIONING_LOOP');
export const ORPHAN_WATCH = Symbol('ORPHAN_WATCH');
