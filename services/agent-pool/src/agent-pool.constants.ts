import type { TaskExecutor } from './infrastructure/executors/task-executor';

export const AGENT_POOL_SETTINGS = Symbol('AGENT_POOL_SETTINGS');
export const RUNNING_ATTEMPTS = Symbol('RUNNING_ATTEMPTS');

export interface AgentPoolSettings {
  readonly concurrencyPerPool: number;
  readonly taskTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  executorFor(agentType: string): TaskExecutor;
}
