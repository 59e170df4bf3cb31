import type { TaskExecutor } from './infrastructure/executors/task-executor';

export const AGENT_POOL_SETTINGS = Symbol('AGENT_POOL_SETTINGS');

export interface AgentPoolSettings {
  readonly concurrencyPerPool: number;
  readonly taskTimeoutMs: number;
  executorFor(agentType: string): TaskExecutor;
}
