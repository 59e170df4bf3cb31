import type { Worker } from './domain/pool-replicas';

/** What the provisioner sees of one worker now. */
export type WorkerSighting =
  | { readonly state: 'starting' }
  | { readonly state: 'ready' }
  /** Gone: drained (it wrote how its drain ended), or exited some other way (code or signal, and why). */
  | { readonly state: 'exited'; readonly drained: { readonly handedBack: number } | null; readonly reason: string };

/**
 * Where a provisioned pool's workers run: OS processes on this host, or the pods of a Deployment.
 * Each method is safe to repeat (the provisioning loop may call it again after a restart); what
 * happened is read back with `inspect`, never assumed.
 */
export interface WorkerProvisioner {
  readonly kind: 'process' | 'kubernetes';
  /** Starts a worker of the pool, named `workerId`. */
  launch(agentType: string, workerId: string): Promise<void>;
  /** Asks a worker to leave: stop fetching, finish or hand back what it has, exit. */
  drain(workerId: string): Promise<void>;
  /** Stops a worker at once (it did not start or drain in time). */
  stop(workerId: string): Promise<void>;
  /** The workers of the pool's record as they are now; one the provisioner has never heard of is 'exited'. */
  inspect(agentType: string, workers: readonly Worker[]): Promise<ReadonlyMap<string, WorkerSighting>>;
  /** Leaves: its workers are drained (a graceful stop of the agent pool stops what it started). */
  close(): Promise<void>;
}

/** The rows the process provisioner keeps about its processes. */
export interface WorkerProcessRows {
  recordStarted(row: { workerId: string; agentType: string; host: string; pid: number | null; port: number; startedAt: number }): Promise<void>;
  recordDrained(workerId: string, handedBack: number, at: number): Promise<void>;
  find(workerIds: readonly string[]): Promise<Map<string, { host: string; pid: number | null; port: number; drainedAt: number | null; handedBack: number | null }>>;
  forget(workerIds: readonly string[]): Promise<void>;
}
