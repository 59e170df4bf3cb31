import type { Logger } from '@flotilla/observability';
import type { AppsV1Api, CoreV1Api, V1Pod } from '@kubernetes/client-node';
import type { Worker } from '../domain/pool-replicas';
import type { ReplicaProvisioner, WorkerProcessRows, WorkerSighting } from '../ports';

/** The label that names a pod's pool (its agent type); the pool's Deployment selects its pods by it. */
export const POOL_LABEL = 'flotilla.io/pool';
/** Read by the ReplicaSet controller when it picks which pods a scale-down deletes (lower first). */
export const DELETION_COST_ANNOTATION = 'controller.kubernetes.io/pod-deletion-cost';
/** The lowest cost there is (the annotation is an int32): among pods the ReplicaSet ranks alike, a draining worker's goes first. */
export const DRAIN_DELETION_COST = '-2147483648';
/** Who changed the replicas, in the Deployment's managed fields. */
export const FIELD_MANAGER = 'flotilla-agent-pool';

/** The parts of the client library this provisioner calls, typed by the library (the unit spec fakes exactly these). */
export interface KubernetesApis {
  readonly apps: Pick<AppsV1Api, 'readNamespacedDeploymentScale' | 'patchNamespacedDeploymentScale'>;
  readonly core: Pick<CoreV1Api, 'listNamespacedPod' | 'patchNamespacedPod' | 'deleteNamespacedPod'>;
}

export interface KubernetesProvisionerOptions {
  /** The client's APIs, or their promise (the library is loaded only when this provisioner is chosen: `connectKubernetes`). */
  readonly apis: KubernetesApis | Promise<KubernetesApis>;
  readonly namespace: string;
  /** The pool's Deployment is this prefix and its agent type, `_` written `-` (K8S_DEPLOYMENT_PREFIX). */
  readonly deploymentPrefix: string;
  /** Where a worker pod records how its drain ended (it updates its row; the provisioner writes the row when it first sees the pod). */
  readonly rows: WorkerProcessRows;
  readonly logger: Logger;
  readonly now?: () => number;
}

/** A JSON Patch (RFC 6902): what the client library sends a patch as when no other content type is asked for. */
export type JsonPatch = ReadonlyArray<{ readonly op: 'test' | 'add' | 'replace'; readonly path: string; readonly value: unknown }>;

export function deploymentName(prefix: string, agentType: string): string {
  return `${prefix}${agentType.replace(/_/g, '-')}`;
}

/**
 * Workers as the pods of one Deployment per pool (`<K8S_DEPLOYMENT_PREFIX><agent type>`, pods
 * labelled `flotilla.io/pool=<agent type>`), each running this service in the worker role with its
 * pod's name as WORKER_ID. A Deployment's controller, not this service, picks which pods to start
 * and which to delete, so the per-worker interface maps onto it like this:
 *
 * - scale: the pool's replicas are set through the Deployment's scale subresource (read it; a JSON
 *   Patch that tests the replicas read and sets the new ones, so a concurrent change by another
 *   writer fails the patch and the next round reads again). Nothing is sent when they already match.
 * - start: the ReplicaSet creates and names the pods; `inspect` reports each pod the record lacks
 *   (with its creation time) and the loop records it. So the record's worker ids are pod names, and
 *   after a restart of the agent pool the record is brought to the pods that are there.
 * - drain: the pod gets the lowest `controller.kubernetes.io/pod-deletion-cost`, and the `scale`
 *   that follows lowers the replicas: the ReplicaSet deletes it, and the kubelet sends SIGTERM; the
 *   worker drains (stop fetching, finish or hand back within SHUTDOWN_DRAIN_MS, record what it handed
 *   back) within the pod's terminationGracePeriodSeconds. The ReplicaSet ranks unscheduled, pending
 *   and not-ready pods before the cost, so it may delete another pod: that pod is reported draining
 *   (and recorded so), and a pod the record drains that Kubernetes kept, once the Deployment has no
 *   more pods than its replicas, is deleted here gracefully (it drains the same way; the ReplicaSet
 *   replaces it, and the new pod is recorded).
 * - stop: the pod is deleted at once (grace period 0); the ReplicaSet replaces it if the replicas
 *   still want it.
 * - inspect: one list of the pool's pods. Ready is the pod's Ready condition (its readiness probe is
 *   the worker's /ready); a pod being deleted is draining; a missing or finished pod (Failed, as
 *   after an eviction for node pressure, or Succeeded) is gone, drained if the worker recorded its
 *   drain in its row.
 * - close: nothing. The pods belong to their Deployment and outlive this supervisor; the next one
 *   takes them over from the record and the pods.
 */
export class KubernetesProvisioner implements ReplicaProvisioner {
  readonly kind = 'kubernetes' as const;
  readonly naming = 'platform' as const;
  /** Pods seen, by name: their pool, and their resourceVersion when last listed (to add an annotations map only to the pod as seen). */
  private readonly seen = new Map<string, { readonly agentType: string; readonly resourceVersion: string | undefined }>();
  /** Pods whose row is written. */
  private readonly rowWritten = new Set<string>();
  /** Workers reported gone, with their pool: their rows are forgotten once the pool's record no longer holds them. */
  private readonly reportedGone = new Map<string, string>();
  /** Pools whose replicas this process has set: only then does a kept pod count as kept. */
  private readonly scaled = new Set<string>();
  private readonly now: () => number;

  constructor(private readonly options: KubernetesProvisionerOptions) {
    this.now = options.now ?? Date.now;
  }

  deployment(agentType: string): string {
    return deploymentName(this.options.deploymentPrefix, agentType);
  }

  async scale(agentType: string, replicas: number): Promise<void> {
    const { apps } = await this.options.apis;
    const target = { name: this.deployment(agentType), namespace: this.options.namespace };
    const scale = await apps.readNamespacedDeploymentScale(target);
    // The scale's spec.replicas is left out of its JSON when it is 0.
    const current = scale.spec?.replicas;
    if ((current ?? 0) !== replicas) {
      const body: JsonPatch = [...(current === undefined ? [] : [{ op: 'test' as const, path: '/spec/replicas', value: current }]), { op: 'add', path: '/spec/replicas', value: replicas }];
      await apps.patchNamespacedDeploymentScale({ ...target, body, fieldManager: FIELD_MANAGER });
      this.options.logger.info({ agentType, deployment: target.name, namespace: target.namespace, from: current ?? 0, to: replicas }, 'pool deployment scaled');
    }
    this.scaled.add(agentType);
  }

  async drain(workerId: string): Promise<void> {
    const { core } = await this.options.apis;
    const target = { name: workerId, namespace: this.options.namespace, fieldManager: FIELD_MANAGER };
    // The annotation is a preference for the ReplicaSet, not the drain itself: if it cannot be set the
    // scale-down still removes a pod, and a kept one is deleted later (see inspect).
    try {
      const key: JsonPatch = [{ op: 'add', path: `/metadata/annotations/${jsonPointer(DELETION_COST_ANNOTATION)}`, value: DRAIN_DELETION_COST }];
      await core.patchNamespacedPod({ ...target, body: key }).catch(async (error: unknown) => {
        // 422: the pod has no annotations map to add to. It is added whole, and only to the pod as it
        // was last listed (else it would replace annotations added since).
        if (statusOf(error) !== 422) throw error;
        const map: JsonPatch = [
          { op: 'test', path: '/metadata/resourceVersion', value: this.seen.get(workerId)?.resourceVersion },
          { op: 'add', path: '/metadata/annotations', value: { [DELETION_COST_ANNOTATION]: DRAIN_DELETION_COST } },
        ];
        await core.patchNamespacedPod({ ...target, body: map });
      });
    } catch (error) {
      if (statusOf(error) !== 404) this.options.logger.warn({ err: error, workerId }, 'could not mark the pod to be deleted first; the scale-down may pick another');
    }
  }

  async stop(workerId: string): Promise<void> {
    await this.delete(workerId, 0);
  }

  async inspect(agentType: string, workers: readonly Worker[]): Promise<ReadonlyMap<string, WorkerSighting>> {
    const { core } = await this.options.apis;
    const list = await core.listNamespacedPod({ namespace: this.options.namespace, labelSelector: `${POOL_LABEL}=${agentType}` });
    const pods = new Map<string, V1Pod>();
    for (const pod of list.items) if (pod.metadata?.name) pods.set(pod.metadata.name, pod);
    await this.remember(agentType, pods, workers);

    const recorded = new Set(workers.map((w) => w.workerId));
    const gone = workers.filter((w) => !isRunning(pods.get(w.workerId))).map((w) => w.workerId);
    const rows = gone.length > 0 ? await this.options.rows.find(gone) : new Map<string, { drainedAt: number | null; handedBack: number | null }>();
    const kept = await this.keptPods(agentType, workers, pods);

    const sightings = new Map<string, WorkerSighting>();
    for (const worker of workers) {
      const pod = pods.get(worker.workerId);
      if (!isRunning(pod)) {
        const row = rows.get(worker.workerId);
        this.reportedGone.set(worker.workerId, agentType);
        sightings.set(worker.workerId, { state: 'exited', drained: row?.drainedAt ? { handedBack: row.handedBack ?? 0 } : null, reason: goneReason(pod) });
      } else if (pod.metadata?.deletionTimestamp || kept.has(worker.workerId)) {
        sightings.set(worker.workerId, { state: 'draining' });
      } else {
        sightings.set(worker.workerId, isReady(pod) ? { state: 'ready' } : { state: 'starting' });
      }
    }
    // Pods the ReplicaSet started that the record does not hold yet (being deleted or finished ones are not workers to take on).
    for (const [name, pod] of pods) {
      if (recorded.has(name) || !isRunning(pod) || pod.metadata?.deletionTimestamp) continue;
      const createdAt = pod.metadata?.creationTimestamp?.getTime() ?? this.now();
      sightings.set(name, isReady(pod) ? { state: 'ready', createdAt } : { state: 'starting', createdAt });
    }
    return sightings;
  }

  async close(): Promise<void> {
    // The pods are their Deployments': they keep running, and the next supervisor takes them over.
  }

  /**
   * Pods the record drains that Kubernetes kept: the ReplicaSet, when it scaled down, deleted another
   * pod it ranked first (unscheduled, pending, not ready). Once the Deployment runs no more pods than
   * its replicas (the scale-down is done), such a pod is deleted gracefully, so the record's choice
   * holds; the ReplicaSet replaces it. Only for pools this process has scaled: right after a restart
   * the scale may not have been set yet.
   */
  private async keptPods(agentType: string, workers: readonly Worker[], pods: ReadonlyMap<string, V1Pod>): Promise<Set<string>> {
    const kept = new Set<string>();
    const draining = workers.filter((w) => w.status === 'draining').filter((w) => isRunning(pods.get(w.workerId)) && !pods.get(w.workerId)?.metadata?.deletionTimestamp);
    if (draining.length === 0 || !this.scaled.has(agentType)) return kept;
    const { apps } = await this.options.apis;
    const scale = await apps.readNamespacedDeploymentScale({ name: this.deployment(agentType), namespace: this.options.namespace });
    const running = [...pods.values()].filter((p) => isRunning(p) && !p.metadata?.deletionTimestamp).length;
    if (running > (scale.spec?.replicas ?? 0)) return kept; // the ReplicaSet has not scaled down yet
    for (const worker of draining) {
      this.options.logger.warn({ agentType, workerId: worker.workerId }, 'the scale-down deleted another pod and kept this draining one: deleting it gracefully (the ReplicaSet replaces it)');
      await this.delete(worker.workerId, undefined);
      kept.add(worker.workerId);
    }
    return kept;
  }

  /** Pods seen for the first time get their row (where the worker records its drain); rows of workers the record has dropped are forgotten. */
  private async remember(agentType: string, pods: ReadonlyMap<string, V1Pod>, workers: readonly Worker[]): Promise<void> {
    for (const [name, pod] of pods) {
      this.seen.set(name, { agentType, resourceVersion: pod.metadata?.resourceVersion });
      if (this.rowWritten.has(name) || !isRunning(pod)) continue;
      await this.options.rows.recordStarted({ workerId: name, agentType, host: pod.spec?.nodeName ?? '', pid: null, port: 0, startedAt: pod.metadata?.creationTimestamp?.getTime() ?? this.now() });
      this.rowWritten.add(name);
    }
    const recorded = new Set(workers.map((w) => w.workerId));
    for (const [name, info] of this.seen) {
      if (info.agentType === agentType && !pods.has(name) && !recorded.has(name) && !this.reportedGone.has(name)) {
        this.seen.delete(name);
        this.rowWritten.delete(name);
      }
    }
    const dropped = [...this.reportedGone].filter(([id, pool]) => pool === agentType && !recorded.has(id) && !pods.has(id)).map(([id]) => id);
    if (dropped.length > 0) {
      await this.options.rows.forget(dropped);
      for (const id of dropped) {
        this.reportedGone.delete(id);
        this.seen.delete(id);
        this.rowWritten.delete(id);
      }
    }
  }

  private async delete(workerId: string, gracePeriodSeconds: number | undefined): Promise<void> {
    const { core } = await this.options.apis;
    try {
      await core.deleteNamespacedPod({ name: workerId, namespace: this.options.namespace, ...(gracePeriodSeconds === undefined ? {} : { gracePeriodSeconds }) });
    } catch (error) {
      if (statusOf(error) !== 404) throw error; // already gone: inspect says so
    }
  }
}

/**
 * The client library's APIs from the usual places (`KubeConfig.loadFromDefault()`: KUBECONFIG or
 * ~/.kube/config, else the pod's service account in a cluster). The library is an ES module, loaded
 * here and only when POOL_PROVISIONER=kubernetes.
 */
export async function connectKubernetes(): Promise<KubernetesApis> {
  const k8s = await import('@kubernetes/client-node');
  const config = new k8s.KubeConfig();
  config.loadFromDefault();
  return { apps: config.makeApiClient(k8s.AppsV1Api), core: config.makeApiClient(k8s.CoreV1Api) };
}

/** A pod that exists and has not finished (Failed or Succeeded: evicted, or its containers exited under restartPolicy Never). */
function isRunning(pod: V1Pod | undefined): pod is V1Pod {
  return pod !== undefined && pod.status?.phase !== 'Failed' && pod.status?.phase !== 'Succeeded';
}

function isReady(pod: V1Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** Completes "the worker …" in the record's PoolWorkerFailed reason. */
function goneReason(pod: V1Pod | undefined): string {
  if (!pod) return 'has no pod any more (deleted before it recorded a drain: stopped, evicted, or lost with its node)';
  const why = [pod.status?.reason, pod.status?.message].filter(Boolean).join(': ');
  return `pod finished (${pod.status?.phase}${why ? `, ${why}` : ''})`;
}

/** RFC 6901: `~` and `/` escaped in a JSON Pointer's segment. */
function jsonPointer(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}

/** The HTTP status of the client library's ApiException (its `code`), if the error is one. */
function statusOf(error: unknown): number | null {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return typeof code === 'number' ? code : null;
}
