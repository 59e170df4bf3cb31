import type { Worker } from './domain/pool-replicas';

/** What the provisioner sees of one worker now. */
export type WorkerSighting =
  /** `createdAt`: when the platform created a worker the record does not hold yet (see ReplicaProvisioner). */
  | { readonly state: 'starting'; readonly createdAt?: number }
  | { readonly state: 'ready'; readonly createdAt?: number }
  /** Leaving because the platform took it away (a scale-down it chose, an eviction, a node drain): it drains as if asked. */
  | { readonly state: 'draining' }
  /** Gone: drained (it wrote how its drain ended), or exited some other way (code or signal, and why). */
  | { readonly state: 'exited'; readonly drained: { readonly handedBack: number } | null; readonly reason: string };

/**
 * Where a provisioned pool's workers run: OS processes on this host, or the pods of a Deployment.
 * Each method is safe to repeat (the provisioning loop may call it again after a restart); what
 * happened is read back with `inspect`, never assumed.
 *
 * The two kinds differ in who names a new worker (`naming`), and so in how the loop adds one:
 * - 'loop' (LaunchingProvisioner, the process provisioner): the loop names the worker, records it
 *   starting, then `launch`es it under that name;
 * - 'platform' (ReplicaProvisioner, the Kubernetes provisioner): the platform names it (a
 *   Deployment's controller names its pods, and a worker's id is its pod's name), so the loop sets
 *   the pool's count with `scale` and records the workers that `inspect` reports and the record lacks.
 */
export type WorkerProvisioner = LaunchingProvisioner | ReplicaProvisioner;

interface ProvisionerBase {
  readonly kind: 'process' | 'kubernetes';
  /** Asks a worker to leave: stop fetching, finish or hand back what it has, exit. (A ReplicaProvisioner marks it to go first; the `scale` that follows removes it.) */
  drain(workerId: string): Promise<void>;
  /** Stops a worker at once (it did not start or drain in time). */
  stop(workerId: string): Promise<void>;
  /**
   * The workers of the pool's record as they are now; one the provisioner has never heard of is
   * 'exited'. A ReplicaProvisioner also reports the pool's workers that the record lacks (starting
   * or ready, with `createdAt`).
   */
  inspect(agentType: string, workers: readonly Worker[]): Promise<ReadonlyMap<string, WorkerSighting>>;
  /** Leaves: the process provisioner drains the workers it started; pods belong to their Deployment and outlive it. */
  close(): Promise<void>;
}

/** Starts each worker itself, under the name the loop gives it. */
export interface LaunchingProvisioner extends ProvisionerBase {
  readonly naming: 'loop';
  /** Starts a worker of the pool, named `workerId`. */
  launch(agentType: string, workerId: string): Promise<void>;
}

/** Sets how many workers a pool runs; the platform starts and names them, and picks which go (after those `drain` marked). */
export interface ReplicaProvisioner extends ProvisionerBase {
  readonly naming: 'platform';
  /** The pool should run `replicas` workers (the record's desired count): safe to repeat, a no-op when it already does. */
  scale(agentType: string, replicas: number): Promise<void>;
}

/** The rows a provisioner keeps about its workers (processes or pods): where each runs, and how its drain ended (the worker writes that). */
export interface WorkerProcessRows {
  recordStarted(row: { workerId: string; agentType: string; host: string; pid: number | null; port: number; startedAt: number }): Promise<void>;
  recordDrained(workerId: string, handedBack: number, at: number): Promise<void>;
  find(workerIds: readonly string[]): Promise<Map<string, { host: string; pid: number | null; port: number; drainedAt: number | null; handedBack: number | null }>>;
  forget(workerIds: readonly string[]): Promise<void>;
}
