import { AGENT_TYPES, isAgentType } from '@flotilla/contracts';
import type { PlatformConfig } from '@flotilla/service-kit';
import * as path from 'node:path';
import { z } from 'zod';

/** The agent pool's own variables, validated at boot with the platform's. */
export const agentPoolConfig = {
  AGENT_TYPES: z
    .string()
    .default(AGENT_TYPES.join(','))
    .transform((v) => v.split(',').map((t) => t.trim()).filter(Boolean))
    .refine((types) => types.every(isAgentType), { message: `must list known agent types (${AGENT_TYPES.join(', ')})` }),
  /** Task slots of each pool on this instance at start (its bulkhead). */
  POOL_CONCURRENCY: z.coerce.number().int().min(1).max(1_000).default(8),
  /** Local provisioning model: a worker is this many slots; workers = ceil(concurrency / slots per worker). */
  POOL_SLOTS_PER_WORKER: z.coerce.number().int().min(1).max(1_000).default(1),
  /** Bounds a capacity command must respect. */
  POOL_MIN_CONCURRENCY: z.coerce.number().int().min(1).max(1_000).default(1),
  POOL_MAX_CONCURRENCY: z.coerce.number().int().min(1).max(1_000).default(256),
  /** Dispatches taken from Kafka that may wait for a slot, per slot; beyond that the pool's topic is paused. */
  POOL_QUEUE_PER_SLOT: z.coerce.number().int().min(0).max(100).default(1),
  POOL_METRICS_INTERVAL_MS: z.coerce.number().int().min(100).default(5_000),
  /** On shutdown, how long running attempts may take to finish before their dispatches are left to redelivery. */
  SHUTDOWN_DRAIN_MS: z.coerce.number().int().min(0).default(10_000),
  TASK_TIMEOUT_MS: z.coerce.number().int().min(1).default(300_000),
  EXECUTORS_FILE: z.string().default(path.resolve(__dirname, '../config/executors.json')),
  HEARTBEAT_INTERVAL_MS: z.coerce.number().int().min(50).default(5_000),
  SYNTHETIC_MIN_DURATION_MS: z.coerce.number().min(0).default(20),
  SYNTHETIC_MAX_DURATION_MS: z.coerce.number().min(0).default(100),
  SYNTHETIC_FAILURE_RATE: z.coerce.number().min(0).max(1).default(0),
};

export type AgentPoolConfig = PlatformConfig & z.infer<z.ZodObject<typeof agentPoolConfig>>;

export function checkAgentPoolConfig(c: AgentPoolConfig): string | null {
  return c.POOL_MIN_CONCURRENCY <= c.POOL_CONCURRENCY && c.POOL_CONCURRENCY <= c.POOL_MAX_CONCURRENCY ? null : 'POOL_CONCURRENCY must lie within POOL_MIN_CONCURRENCY..POOL_MAX_CONCURRENCY';
}
