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
  /**
   * Pools whose workers are provisioned as replicas (processes or pods), scaled by PoolReplicasRequested;
   * the other pools of AGENT_TYPES run embedded in this process, sized by PoolCapacityChangeRequested.
   */
  PROVISIONED_AGENT_TYPES: z
    .string()
    .default('')
    .transform((v) => v.split(',').map((t) => t.trim()).filter(Boolean))
    .refine((types) => types.every(isAgentType), { message: `must list known agent types (${AGENT_TYPES.join(', ')})` }),
  /** How provisioned pools get their workers: OS processes on this host, or the pods of a Deployment per pool. */
  POOL_PROVISIONER: z.enum(['process', 'kubernetes']).default('process'),
  /**
   * POOL_PROVISIONER=kubernetes: the namespace of the pools' Deployments (in the cluster, give it the
   * pod's own: the downward API's metadata.namespace). The client is configured by
   * KubeConfig.loadFromDefault(): KUBECONFIG or ~/.kube/config, else the pod's service account.
   */
  K8S_NAMESPACE: z
    .string()
    .default('flotilla')
    .refine((v) => /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(v), { message: 'must be a namespace name (lower-case letters, digits and -, at most 63)' }),
  /** A pool's Deployment is this prefix and its agent type with _ written - (code_gen → pool-code-gen); its pods carry the label flotilla.io/pool=<agent type>. */
  K8S_DEPLOYMENT_PREFIX: z
    .string()
    .default('pool-')
    .refine((v) => /^([a-z0-9][-a-z0-9]{0,39})?$/.test(v), { message: 'must start a Deployment name: lower-case letters, digits and -, at most 40, not starting with -' }),
  /** Replicas a provisioned pool starts with, the first time it is provisioned (afterwards its record says). */
  POOL_INITIAL_REPLICAS: z.coerce.number().int().min(0).max(1_000).default(1),
  POOL_MIN_REPLICAS: z.coerce.number().int().min(0).max(1_000).default(0),
  /** Workers beyond the dispatch topic's partitions would sit idle in the group: the default is their count. */
  POOL_MAX_REPLICAS: z.coerce.number().int().min(0).max(1_000).default(6),
  /** A worker not ready (joined its pool's group) this long after it started has failed to start. */
  WORKER_START_TIMEOUT_MS: z.coerce.number().int().min(1_000).default(90_000),
  /** A draining worker still running this long after it was asked to leave is stopped hard; its unfinished dispatches are redelivered. */
  WORKER_DRAIN_TIMEOUT_MS: z.coerce.number().int().min(1_000).default(30_000),
  WORKER_MAX_START_BACKOFF_MS: z.coerce.number().int().min(1_000).default(60_000),
  /** How often the provisioner compares each pool with its record and looks at its workers. */
  PROVISIONER_INTERVAL_MS: z.coerce.number().int().min(50).default(500),
  /** Variables for the worker processes only, as a JSON object (e.g. another EXECUTORS_FILE or LOG_LEVEL for the workers). */
  WORKER_ENV: z
    .string()
    .default('{}')
    .transform((v, ctx) => {
      try {
        const parsed: unknown = JSON.parse(v);
        if (parsed && typeof parsed === 'object' && !Array.isArray(parsed) && Object.values(parsed).every((x) => typeof x === 'string')) return parsed as Record<string, string>;
      } catch {
        // reported below
      }
      ctx.addIssue({ code: z.ZodIssueCode.custom, message: 'must be a JSON object of strings, e.g. {"LOG_LEVEL":"debug"}' });
      return z.NEVER;
    }),
  /** Set by the provisioner for the processes it starts: this process is one worker of one pool. */
  AGENT_POOL_ROLE: z.enum(['service', 'worker']).default('service'),
  WORKER_ID: z.string().default(''),
};

export type AgentPoolConfig = PlatformConfig & z.infer<z.ZodObject<typeof agentPoolConfig>>;

export function checkAgentPoolConfig(c: AgentPoolConfig): string | null {
  if (c.POOL_MIN_CONCURRENCY > c.POOL_CONCURRENCY || c.POOL_CONCURRENCY > c.POOL_MAX_CONCURRENCY) return 'POOL_CONCURRENCY must lie within POOL_MIN_CONCURRENCY..POOL_MAX_CONCURRENCY';
  if (c.POOL_MIN_REPLICAS > c.POOL_MAX_REPLICAS) return 'POOL_MIN_REPLICAS must not exceed POOL_MAX_REPLICAS';
  if (c.POOL_INITIAL_REPLICAS < c.POOL_MIN_REPLICAS || c.POOL_INITIAL_REPLICAS > c.POOL_MAX_REPLICAS) return 'POOL_INITIAL_REPLICAS must lie within POOL_MIN_REPLICAS..POOL_MAX_REPLICAS';
  if (c.AGENT_POOL_ROLE === 'worker' && (c.WORKER_ID === '' || c.AGENT_TYPES.length !== 1)) return 'AGENT_POOL_ROLE=worker needs WORKER_ID and exactly one agent type in AGENT_TYPES';
  return null;
}

/** The pools this process runs embedded (its own slots): in a worker, its one pool; in the service, those not provisioned as replicas. */
export function embeddedAgentTypes(c: AgentPoolConfig): string[] {
  return c.AGENT_POOL_ROLE === 'worker' ? c.AGENT_TYPES : c.AGENT_TYPES.filter((t) => !c.PROVISIONED_AGENT_TYPES.includes(t));
}
