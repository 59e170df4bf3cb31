/**
 * The Kubernetes provisioner against the client library's own types. No Kubernetes API server runs
 * here (no cluster, no Docker; see docs/kubernetes.md for what was tried), so nothing in this spec
 * talks to one: the fake below implements the library's AppsV1Api / CoreV1Api methods that the
 * provisioner calls, with the library's request types in and its models (V1Scale, V1Pod, V1PodList)
 * out, records exactly what is sent, and applies it the way the API server would (JSON Patch, the
 * scale subresource, graceful and immediate pod deletion). The last part adds a simulated
 * ReplicaSet (ours, a simplification of Kubernetes' ranking: not ready first, then the lower
 * pod-deletion-cost, then the newest) to show the record and the pods agreeing through scale-ups,
 * scale-downs, a scale-down that picks another pod, and a restart of the agent pool.
 */
import type {
  ApiException,
  AppsV1ApiPatchNamespacedDeploymentScaleRequest,
  AppsV1ApiReadNamespacedDeploymentScaleRequest,
  CoreV1ApiDeleteNamespacedPodRequest,
  CoreV1ApiListNamespacedPodRequest,
  CoreV1ApiPatchNamespacedPodRequest,
  V1Pod,
  V1PodList,
  V1Scale,
} from '@kubernetes/client-node';
import type { PoolReplicasRequested } from '@flotilla/contracts';
import pino from 'pino';
import type { Active, PoolBounds, PoolReplicasCommand, PoolReplicasEvent, PoolReplicasState, Worker } from '../domain/pool-replicas';
import { poolReplicasDecider } from '../domain/pool-replicas.decider';
import type { PoolReplicasCommands } from '../pool-replicas.commands';
import type { WorkerProcessRows } from '../ports';
import { ProvisioningLoop } from '../provisioning-loop';
import { DELETION_COST_ANNOTATION, DRAIN_DELETION_COST, deploymentName, FIELD_MANAGER, KubernetesProvisioner, POOL_LABEL, type JsonPatch, type KubernetesApis } from './kubernetes-provisioner';

const NAMESPACE = 'flotilla-test';
const DEPLOYMENT = 'pool-code-gen';
const logger = pino({ level: 'silent' });

class FakeApiException extends Error implements Pick<ApiException<unknown>, 'code' | 'body'> {
  constructor(
    readonly code: number,
    readonly body: unknown,
  ) {
    super(`HTTP-Code: ${code} Message: ${JSON.stringify(body)}`);
  }
}

type Sent =
  | { readonly call: 'readNamespacedDeploymentScale'; readonly param: AppsV1ApiReadNamespacedDeploymentScaleRequest }
  | { readonly call: 'patchNamespacedDeploymentScale'; readonly param: AppsV1ApiPatchNamespacedDeploymentScaleRequest }
  | { readonly call: 'listNamespacedPod'; readonly param: CoreV1ApiListNamespacedPodRequest }
  | { readonly call: 'patchNamespacedPod'; readonly param: CoreV1ApiPatchNamespacedPodRequest }
  | { readonly call: 'deleteNamespacedPod'; readonly param: CoreV1ApiDeleteNamespacedPodRequest };

/** One namespace with Deployments' scales and pods, answering as the API server does. */
class FakeCluster implements KubernetesApis {
  readonly sent: Sent[] = [];
  /** spec.replicas by Deployment. */
  readonly replicas = new Map<string, number>([[DEPLOYMENT, 0]]);
  private readonly scaleVersions = new Map<string, number>();
  readonly pods = new Map<string, V1Pod>();
  private version = 100;
  private podSequence = 0;

  readonly apps: KubernetesApis['apps'] = {
    readNamespacedDeploymentScale: async (param: AppsV1ApiReadNamespacedDeploymentScaleRequest): Promise<V1Scale> => {
      this.sent.push({ call: 'readNamespacedDeploymentScale', param });
      return this.scale(param.namespace, param.name);
    },
    patchNamespacedDeploymentScale: async (param: AppsV1ApiPatchNamespacedDeploymentScaleRequest): Promise<V1Scale> => {
      this.sent.push({ call: 'patchNamespacedDeploymentScale', param });
      const patched = applyJsonPatch(this.scale(param.namespace, param.name), param.body as JsonPatch);
      this.replicas.set(param.name, patched.spec?.replicas ?? 0);
      this.scaleVersions.set(param.name, ++this.version);
      return this.scale(param.namespace, param.name);
    },
  };

  readonly core: KubernetesApis['core'] = {
    listNamespacedPod: async (param: CoreV1ApiListNamespacedPodRequest): Promise<V1PodList> => {
      this.sent.push({ call: 'listNamespacedPod', param });
      const [key, value] = (param.labelSelector ?? '').split('=');
      const items = param.namespace === NAMESPACE ? [...this.pods.values()].filter((p) => p.metadata?.labels?.[key] === value) : [];
      return { apiVersion: 'v1', kind: 'PodList', metadata: { resourceVersion: String(this.version) }, items: items.map((p) => structuredClone(p)) };
    },
    patchNamespacedPod: async (param: CoreV1ApiPatchNamespacedPodRequest): Promise<V1Pod> => {
      this.sent.push({ call: 'patchNamespacedPod', param });
      const pod = this.pod(param.namespace, param.name);
      const patched = applyJsonPatch(pod, param.body as JsonPatch);
      patched.metadata = { ...patched.metadata, resourceVersion: String(++this.version) };
      this.pods.set(param.name, patched);
      return structuredClone(patched);
    },
    deleteNamespacedPod: async (param: CoreV1ApiDeleteNamespacedPodRequest): Promise<V1Pod> => {
      this.sent.push({ call: 'deleteNamespacedPod', param });
      const pod = this.pod(param.namespace, param.name);
      if (param.gracePeriodSeconds === 0) this.pods.delete(param.name);
      else if (!pod.metadata?.deletionTimestamp) this.pods.set(param.name, { ...pod, metadata: { ...pod.metadata, deletionTimestamp: new Date(1_000_000), resourceVersion: String(++this.version) } });
      return structuredClone(pod);
    },
  };

  add(name: string, options: { ready?: boolean; createdAt?: number; annotations?: Record<string, string>; deleting?: boolean; phase?: string; reason?: string; message?: string } = {}): V1Pod {
    const created = new Date(options.createdAt ?? 1_000);
    const pod: V1Pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name,
        namespace: NAMESPACE,
        labels: { [POOL_LABEL]: 'code_gen', 'pod-template-hash': '7d9f8c6b5' },
        ...(options.annotations ? { annotations: options.annotations } : {}),
        creationTimestamp: created,
        resourceVersion: String(++this.version),
        ...(options.deleting ? { deletionTimestamp: new Date(900_000) } : {}),
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: `${DEPLOYMENT}-7d9f8c6b5`, uid: 'rs-uid', controller: true }],
      },
      spec: { nodeName: 'node-a', containers: [{ name: 'worker', image: 'flotilla/agent-pool' }] },
      status: {
        phase: options.phase ?? 'Running',
        ...(options.reason ? { reason: options.reason, message: options.message } : {}),
        conditions: [
          { type: 'PodScheduled', status: 'True' },
          { type: 'Ready', status: options.ready ? 'True' : 'False', lastTransitionTime: created },
        ],
      },
    };
    this.pods.set(name, pod);
    return pod;
  }

  setReady(name: string, ready = true): void {
    const pod = this.pods.get(name)!;
    pod.status = { ...pod.status, conditions: (pod.status?.conditions ?? []).map((c) => (c.type === 'Ready' ? { ...c, status: ready ? 'True' : 'False' } : c)) };
  }

  /**
   * A simplified ReplicaSet controller: creates pods up to spec.replicas (not counting those being
   * deleted), and on a scale-down deletes gracefully by Kubernetes' order: not ready first, then the
   * lower pod-deletion-cost, then the newest.
   */
  reconcileReplicaSet(now: number): void {
    const active = [...this.pods.values()].filter((p) => !p.metadata?.deletionTimestamp && p.status?.phase !== 'Failed');
    const want = this.replicas.get(DEPLOYMENT) ?? 0;
    for (let i = active.length; i < want; i++) this.add(`${DEPLOYMENT}-7d9f8c6b5-${String(++this.podSequence).padStart(5, 'x')}`, { createdAt: now });
    const rank = (p: V1Pod) => [isReady(p) ? 1 : 0, Number(p.metadata?.annotations?.[DELETION_COST_ANNOTATION] ?? 0), -(p.metadata?.creationTimestamp?.getTime() ?? 0)];
    const order = [...active].sort((a, b) => compare(rank(a), rank(b)));
    for (const pod of order.slice(0, Math.max(0, active.length - want))) this.pods.set(pod.metadata!.name!, { ...pod, metadata: { ...pod.metadata, deletionTimestamp: new Date(now) } });
  }

  /** The kubelet's part: pods being deleted are gone once their worker drained (it recorded how, in its row). */
  finishTerminations(rows: MemoryRows, handedBack = 0): string[] {
    const gone = [...this.pods.values()].filter((p) => p.metadata?.deletionTimestamp).map((p) => p.metadata!.name!);
    for (const name of gone) {
      void rows.recordDrained(name, handedBack, 9_000);
      this.pods.delete(name);
    }
    return gone;
  }

  calls<C extends Sent['call']>(call: C): Extract<Sent, { call: C }>[] {
    return this.sent.filter((s): s is Extract<Sent, { call: C }> => s.call === call);
  }

  private scale(namespace: string, name: string): V1Scale {
    if (namespace !== NAMESPACE || !this.replicas.has(name)) throw new FakeApiException(404, { kind: 'Status', reason: 'NotFound', message: `deployments.apps "${name}" not found` });
    const replicas = this.replicas.get(name)!;
    const pods = [...this.pods.values()].filter((p) => !p.metadata?.deletionTimestamp);
    return {
      apiVersion: 'autoscaling/v1',
      kind: 'Scale',
      metadata: { name, namespace, resourceVersion: String(this.scaleVersions.get(name) ?? 1) },
      // Like the API server: spec.replicas is omitted when it is 0 (omitempty).
      spec: replicas === 0 ? {} : { replicas },
      status: { replicas: pods.length, selector: `${POOL_LABEL}=code_gen` },
    };
  }

  private pod(namespace: string, name: string): V1Pod {
    const pod = namespace === NAMESPACE ? this.pods.get(name) : undefined;
    if (!pod) throw new FakeApiException(404, { kind: 'Status', reason: 'NotFound', message: `pods "${name}" not found` });
    return structuredClone(pod);
  }
}

/** RFC 6902's test, add and replace, as the API server applies an application/json-patch+json body (what the library sends by default). */
function applyJsonPatch<T extends object>(document: T, patch: JsonPatch): T {
  const doc = structuredClone(document) as Record<string, unknown>;
  for (const op of patch) {
    const segments = op.path.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
    const last = segments.pop()!;
    let parent: Record<string, unknown> | undefined = doc;
    for (const s of segments) parent = parent?.[s] as Record<string, unknown> | undefined;
    if (parent === undefined) throw new FakeApiException(422, { reason: 'Invalid', message: `doc is missing path: "${op.path}"` });
    if (op.op === 'test' && JSON.stringify(parent[last]) !== JSON.stringify(op.value)) throw new FakeApiException(422, { reason: 'Invalid', message: `testing value ${op.path} failed` });
    if (op.op === 'replace' && !(last in parent)) throw new FakeApiException(422, { reason: 'Invalid', message: `replace operation does not apply: doc is missing key: ${op.path}` });
    if (op.op === 'add' || op.op === 'replace') parent[last] = op.value;
  }
  return doc as T;
}

class MemoryRows implements WorkerProcessRows {
  readonly rows = new Map<string, { agentType: string; host: string; pid: number | null; port: number; startedAt: number; drainedAt: number | null; handedBack: number | null }>();
  async recordStarted(row: { workerId: string; agentType: string; host: string; pid: number | null; port: number; startedAt: number }): Promise<void> {
    const before = this.rows.get(row.workerId);
    this.rows.set(row.workerId, { ...row, drainedAt: before?.drainedAt ?? null, handedBack: before?.handedBack ?? null });
  }
  async recordDrained(workerId: string, handedBack: number, at: number): Promise<void> {
    const row = this.rows.get(workerId);
    if (row) this.rows.set(workerId, { ...row, drainedAt: at, handedBack });
  }
  async find(workerIds: readonly string[]) {
    return new Map([...this.rows].filter(([id]) => workerIds.includes(id)).map(([id, r]) => [id, { host: r.host, pid: r.pid, port: r.port, drainedAt: r.drainedAt, handedBack: r.handedBack }]));
  }
  async forget(workerIds: readonly string[]): Promise<void> {
    for (const id of workerIds) this.rows.delete(id);
  }
}

function isReady(pod: V1Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

function compare(a: number[], b: number[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return 0;
}

function setup(now = () => 50_000) {
  const cluster = new FakeCluster();
  const rows = new MemoryRows();
  const provisioner = new KubernetesProvisioner({ apis: cluster, namespace: NAMESPACE, deploymentPrefix: 'pool-', rows, logger, now });
  return { cluster, rows, provisioner };
}

const worker = (workerId: string, status: Worker['status'] = 'ready'): Worker => ({ workerId, status, requestId: null, startingAt: 1_000, drainingAt: status === 'draining' ? 2_000 : null });

describe('KubernetesProvisioner: what it sends through the client library', () => {
  it("names the pool's Deployment by the prefix and the agent type, _ written -", () => {
    expect(deploymentName('pool-', 'code_gen')).toBe('pool-code-gen');
    expect(deploymentName('flotilla-', 'security_scan')).toBe('flotilla-security-scan');
    expect(deploymentName('', 'review')).toBe('review');
  });

  it("scales up through the Deployment's scale subresource: reads it, then a JSON Patch that tests the replicas read and sets the new ones", async () => {
    const { cluster, provisioner } = setup();
    cluster.replicas.set(DEPLOYMENT, 1);
    await provisioner.scale('code_gen', 3);
    expect(cluster.sent).toEqual([
      { call: 'readNamespacedDeploymentScale', param: { name: 'pool-code-gen', namespace: NAMESPACE } },
      {
        call: 'patchNamespacedDeploymentScale',
        param: {
          name: 'pool-code-gen',
          namespace: NAMESPACE,
          fieldManager: FIELD_MANAGER,
          body: [
            { op: 'test', path: '/spec/replicas', value: 1 },
            { op: 'add', path: '/spec/replicas', value: 3 },
          ],
        },
      },
    ]);
    expect(cluster.replicas.get(DEPLOYMENT)).toBe(3);
  });

  it('scales down the same way, to zero too, and from zero (where the scale has no spec.replicas to test)', async () => {
    const { cluster, provisioner } = setup();
    cluster.replicas.set(DEPLOYMENT, 3);
    await provisioner.scale('code_gen', 0);
    expect(cluster.calls('patchNamespacedDeploymentScale').map((s) => s.param)).toEqual([
      {
        name: 'pool-code-gen',
        namespace: NAMESPACE,
        fieldManager: FIELD_MANAGER,
        body: [
          { op: 'test', path: '/spec/replicas', value: 3 },
          { op: 'add', path: '/spec/replicas', value: 0 },
        ],
      },
    ]);
    expect(cluster.replicas.get(DEPLOYMENT)).toBe(0);

    await provisioner.scale('code_gen', 2);
    expect(cluster.calls('patchNamespacedDeploymentScale')[1].param).toEqual({ name: 'pool-code-gen', namespace: NAMESPACE, fieldManager: FIELD_MANAGER, body: [{ op: 'add', path: '/spec/replicas', value: 2 }] });
    expect(cluster.replicas.get(DEPLOYMENT)).toBe(2);
  });

  it('sends no patch when the Deployment already has those replicas', async () => {
    const { cluster, provisioner } = setup();
    cluster.replicas.set(DEPLOYMENT, 2);
    await provisioner.scale('code_gen', 2);
    expect(cluster.sent.map((s) => s.call)).toEqual(['readNamespacedDeploymentScale']);
  });

  it('fails the patch when another writer changed the replicas after the read (the next round reads again)', async () => {
    const { cluster, provisioner } = setup();
    cluster.replicas.set(DEPLOYMENT, 1);
    const read = cluster.apps.readNamespacedDeploymentScale.bind(cluster.apps);
    cluster.apps.readNamespacedDeploymentScale = async (param) => {
      const scale = await read(param);
      cluster.replicas.set(DEPLOYMENT, 5); // an HPA, between our read and our patch
      return scale;
    };
    await expect(provisioner.scale('code_gen', 3)).rejects.toMatchObject({ code: 422 });
    expect(cluster.replicas.get(DEPLOYMENT)).toBe(5);
  });

  it('refuses a Deployment that is not there (wrong prefix or namespace): the error is the API server\'s 404', async () => {
    const cluster = new FakeCluster();
    const provisioner = new KubernetesProvisioner({ apis: cluster, namespace: 'elsewhere', deploymentPrefix: 'pool-', rows: new MemoryRows(), logger });
    await expect(provisioner.scale('code_gen', 1)).rejects.toMatchObject({ code: 404 });
  });

  it('marks a draining worker\'s pod with the lowest pod-deletion-cost, adding to its annotations', async () => {
    const { cluster, provisioner } = setup();
    cluster.add('pool-code-gen-7d9f8c6b5-aaaaa', { ready: true, annotations: { 'prometheus.io/scrape': 'true' } });
    await provisioner.inspect('code_gen', [worker('pool-code-gen-7d9f8c6b5-aaaaa')]);
    await provisioner.drain('pool-code-gen-7d9f8c6b5-aaaaa');
    expect(cluster.calls('patchNamespacedPod').map((s) => s.param)).toEqual([
      {
        name: 'pool-code-gen-7d9f8c6b5-aaaaa',
        namespace: NAMESPACE,
        fieldManager: FIELD_MANAGER,
        body: [{ op: 'add', path: '/metadata/annotations/controller.kubernetes.io~1pod-deletion-cost', value: '-2147483648' }],
      },
    ]);
    expect(cluster.pods.get('pool-code-gen-7d9f8c6b5-aaaaa')?.metadata?.annotations).toEqual({ 'prometheus.io/scrape': 'true', [DELETION_COST_ANNOTATION]: DRAIN_DELETION_COST });
  });

  it('adds the annotations map to a pod that has none, only if the pod is still as it was listed', async () => {
    const { cluster, provisioner } = setup();
    const listed = cluster.add('pool-code-gen-7d9f8c6b5-bbbbb', { ready: true });
    await provisioner.inspect('code_gen', [worker('pool-code-gen-7d9f8c6b5-bbbbb')]);
    await provisioner.drain('pool-code-gen-7d9f8c6b5-bbbbb');
    // The key first (refused: there is no map to add it to), then the map, tested against the version listed.
    expect(cluster.calls('patchNamespacedPod').map((s) => s.param.body)).toEqual([
      [{ op: 'add', path: '/metadata/annotations/controller.kubernetes.io~1pod-deletion-cost', value: '-2147483648' }],
      [
        { op: 'test', path: '/metadata/resourceVersion', value: listed.metadata?.resourceVersion },
        { op: 'add', path: '/metadata/annotations', value: { [DELETION_COST_ANNOTATION]: DRAIN_DELETION_COST } },
      ],
    ]);
    expect(cluster.pods.get('pool-code-gen-7d9f8c6b5-bbbbb')?.metadata?.annotations).toEqual({ [DELETION_COST_ANNOTATION]: DRAIN_DELETION_COST });
  });

  it('leaves a pod changed since it was listed alone rather than replace annotations it has not seen (the drain goes on without the mark)', async () => {
    const { cluster, provisioner } = setup();
    cluster.add('pool-code-gen-7d9f8c6b5-ddddd', { ready: true });
    await provisioner.inspect('code_gen', [worker('pool-code-gen-7d9f8c6b5-ddddd')]);
    cluster.add('pool-code-gen-7d9f8c6b5-ddddd', { ready: true }); // changed since: a new resourceVersion, still no annotations
    await expect(provisioner.drain('pool-code-gen-7d9f8c6b5-ddddd')).resolves.toBeUndefined();
    expect(cluster.calls('patchNamespacedPod')).toHaveLength(2);
    expect(cluster.pods.get('pool-code-gen-7d9f8c6b5-ddddd')?.metadata?.annotations).toBeUndefined();
  });

  it('drains a pod that is already gone without complaint (inspect reports it gone)', async () => {
    const { cluster, provisioner } = setup();
    await expect(provisioner.drain('pool-code-gen-7d9f8c6b5-zzzzz')).resolves.toBeUndefined();
    expect(cluster.calls('patchNamespacedPod')).toHaveLength(1);
  });

  it('stops a worker by deleting its pod at once (grace period 0); a pod already gone is fine', async () => {
    const { cluster, provisioner } = setup();
    cluster.add('pool-code-gen-7d9f8c6b5-ccccc');
    await provisioner.stop('pool-code-gen-7d9f8c6b5-ccccc');
    await provisioner.stop('pool-code-gen-7d9f8c6b5-ccccc');
    expect(cluster.calls('deleteNamespacedPod').map((s) => s.param)).toEqual([
      { name: 'pool-code-gen-7d9f8c6b5-ccccc', namespace: NAMESPACE, gracePeriodSeconds: 0 },
      { name: 'pool-code-gen-7d9f8c6b5-ccccc', namespace: NAMESPACE, gracePeriodSeconds: 0 },
    ]);
    expect(cluster.pods.has('pool-code-gen-7d9f8c6b5-ccccc')).toBe(false);
  });

  it("turns the pool's pods (listed by its label) into sightings of the record's workers, and reports the pods the record lacks", async () => {
    const { cluster, rows, provisioner } = setup();
    cluster.add('p-ready', { ready: true });
    cluster.add('p-starting', { ready: false });
    cluster.add('p-deleting', { ready: true, deleting: true });
    cluster.add('p-evicted', { phase: 'Failed', reason: 'Evicted', message: 'The node was low on resource: memory.' });
    cluster.add('p-new-ready', { ready: true, createdAt: 40_000 });
    cluster.add('p-new-starting', { ready: false, createdAt: 45_000 });
    cluster.add('p-new-deleting', { ready: true, deleting: true });
    await rows.recordStarted({ workerId: 'p-drained', agentType: 'code_gen', host: 'node-a', pid: null, port: 0, startedAt: 1_000 });
    await rows.recordDrained('p-drained', 3, 8_000);

    const sightings = await provisioner.inspect('code_gen', [worker('p-ready'), worker('p-starting', 'starting'), worker('p-deleting'), worker('p-evicted'), worker('p-drained', 'draining'), worker('p-lost')]);

    expect(cluster.calls('listNamespacedPod').map((s) => s.param)).toEqual([{ namespace: NAMESPACE, labelSelector: 'flotilla.io/pool=code_gen' }]);
    expect(Object.fromEntries(sightings)).toEqual({
      'p-ready': { state: 'ready' },
      'p-starting': { state: 'starting' },
      'p-deleting': { state: 'draining' },
      'p-evicted': { state: 'exited', drained: null, reason: 'pod finished (Failed, Evicted: The node was low on resource: memory.)' },
      'p-drained': { state: 'exited', drained: { handedBack: 3 }, reason: expect.stringContaining('has no pod any more') },
      'p-lost': { state: 'exited', drained: null, reason: 'has no pod any more (deleted before it recorded a drain: stopped, evicted, or lost with its node)' },
      'p-new-ready': { state: 'ready', createdAt: 40_000 },
      'p-new-starting': { state: 'starting', createdAt: 45_000 },
    });
    // Each running pod got its row, for the worker to record its drain in.
    expect(rows.rows.get('p-new-starting')).toMatchObject({ agentType: 'code_gen', host: 'node-a', pid: null, startedAt: 45_000, drainedAt: null });
    expect(rows.rows.has('p-evicted')).toBe(false);
  });

  it('forgets the row of a gone worker once the record no longer holds it', async () => {
    const { rows, provisioner } = setup();
    await rows.recordStarted({ workerId: 'p-old', agentType: 'code_gen', host: 'node-a', pid: null, port: 0, startedAt: 1_000 });
    await rows.recordDrained('p-old', 0, 2_000);
    await provisioner.inspect('code_gen', [worker('p-old', 'draining')]);
    expect(rows.rows.has('p-old')).toBe(true);
    await provisioner.inspect('code_gen', []);
    expect(rows.rows.has('p-old')).toBe(false);
  });
});

/** The pool's record in memory: the real decider, without the event store. */
class MemoryRecord {
  state: PoolReplicasState;
  readonly events: PoolReplicasEvent[] = [];
  constructor(replicas: number) {
    this.state = poolReplicasDecider.evolve(poolReplicasDecider.initialState, { type: 'flotilla.pool.PoolReplicasInitialised', data: { agentType: 'code_gen', replicas, initialisedAt: 0 } });
  }
  apply(command: PoolReplicasCommand): void {
    const events = poolReplicasDecider.decide(command, this.state);
    this.events.push(...events);
    this.state = events.reduce(poolReplicasDecider.evolve, this.state);
  }
  get active(): Active {
    return this.state as Active;
  }
  commands(): PoolReplicasCommands {
    const commands: Pick<PoolReplicasCommands, 'provisioned' | 'state' | 'observe'> = {
      provisioned: ['code_gen'],
      state: () => this.state,
      observe: async (_agentType, command) => (this.apply(command), []),
    };
    return commands as PoolReplicasCommands;
  }
  types(): string[] {
    return this.events.map((e) => e.type.replace('flotilla.pool.', ''));
  }
}

describe('KubernetesProvisioner with the provisioning loop and a simulated ReplicaSet: the record and the pods agree', () => {
  const bounds: PoolBounds = { minReplicas: 0, maxReplicas: 6, slotsPerWorker: 1, provisioner: 'kubernetes' };
  const plan = { startTimeoutMs: 90_000, drainTimeoutMs: 60_000, maxStartBackoffMs: 60_000 };
  let now = 10_000;
  const clock = () => now;
  const request = (record: MemoryRecord, replicas: number, requestId: string) =>
    record.apply({ type: 'RequestReplicas', request: { requestId, agentType: 'code_gen', replicas, reason: 'test', requestedBy: 'saga', requestedAt: now } satisfies PoolReplicasRequested, bounds, now });
  const podNames = (cluster: FakeCluster) => [...cluster.pods.values()].filter((p) => !p.metadata?.deletionTimestamp).map((p) => p.metadata!.name!).sort();
  const recorded = (record: MemoryRecord, status?: Worker['status']) => Object.values(record.active.workers).filter((w) => !status || w.status === status).map((w) => w.workerId).sort();

  function start(record: MemoryRecord, cluster = new FakeCluster(), rows = new MemoryRows()) {
    const provisioner = new KubernetesProvisioner({ apis: cluster, namespace: NAMESPACE, deploymentPrefix: 'pool-', rows, logger, now: clock });
    const loop = new ProvisioningLoop({ commands: record.commands(), provisioner, plan, intervalMs: 1_000, logger, now: clock });
    /** One round of the loop, then the ReplicaSet reacts. */
    const round = async () => {
      now += 1_000;
      await loop.once();
      cluster.reconcileReplicaSet(now);
    };
    return { cluster, rows, provisioner, loop, round };
  }

  it('scales up: the loop sets the replicas, the ReplicaSet names the pods, and the record takes them as its workers', async () => {
    const record = new MemoryRecord(1);
    const { cluster, round } = start(record);
    await round(); // sets replicas 1; the ReplicaSet creates a pod
    expect(cluster.replicas.get(DEPLOYMENT)).toBe(1);
    await round(); // the pod is recorded starting
    expect(recorded(record, 'starting')).toEqual(podNames(cluster));
    for (const name of podNames(cluster)) cluster.setReady(name);
    await round();
    expect(recorded(record, 'ready')).toEqual(podNames(cluster));

    request(record, 3, 'up');
    await round();
    await round();
    for (const name of podNames(cluster)) cluster.setReady(name);
    await round();
    expect(cluster.replicas.get(DEPLOYMENT)).toBe(3);
    expect(recorded(record, 'ready')).toEqual(podNames(cluster));
    expect(podNames(cluster)).toHaveLength(3);
    expect(record.types()).toContain('PoolReplicasReached');
    const ready = record.events.filter((e) => e.type === 'flotilla.pool.PoolWorkerReady').map((e) => e.data as { requestId: string | null; timeToReadyMs: number });
    expect(ready.filter((r) => r.requestId === 'up')).toHaveLength(2);
  });

  it('scales down: the pods the plan drains are marked, the ReplicaSet deletes those, and their drains are recorded', async () => {
    const record = new MemoryRecord(3);
    const { cluster, rows, round } = start(record);
    await round();
    await round();
    for (const name of podNames(cluster)) cluster.setReady(name);
    await round();
    const before = podNames(cluster);

    request(record, 1, 'down');
    await round(); // two drained: marked with the lowest cost, replicas 1, the ReplicaSet deletes them
    const draining = recorded(record, 'draining');
    expect(draining).toHaveLength(2);
    expect(cluster.replicas.get(DEPLOYMENT)).toBe(1);
    expect([...cluster.pods.values()].filter((p) => p.metadata?.deletionTimestamp).map((p) => p.metadata!.name!).sort()).toEqual(draining);
    expect(draining.every((name) => cluster.pods.get(name)?.metadata?.annotations?.[DELETION_COST_ANNOTATION] === DRAIN_DELETION_COST)).toBe(true);

    expect(cluster.finishTerminations(rows, 2).sort()).toEqual(draining);
    await round();
    expect(recorded(record)).toEqual(podNames(cluster));
    expect(podNames(cluster)).toEqual(before.filter((name) => !draining.includes(name)));
    const drained = record.events.filter((e) => e.type === 'flotilla.pool.PoolWorkerDrained').map((e) => e.data as { workerId: string; handedBack: number; requestId: string | null });
    expect(drained.map((d) => d.workerId).sort()).toEqual(draining);
    expect(drained.every((d) => d.handedBack === 2 && d.requestId === 'down')).toBe(true);
    expect(record.types().at(-1)).toBe('PoolReplicasReached');
  });

  it('sets the replicas again in the next round when setting them failed (the drained workers are already recorded)', async () => {
    const record = new MemoryRecord(2);
    const { cluster, round } = start(record);
    await round();
    await round();
    for (const name of podNames(cluster)) cluster.setReady(name);
    await round();
    const patch = cluster.apps.patchNamespacedDeploymentScale.bind(cluster.apps);
    let refusals = 1;
    cluster.apps.patchNamespacedDeploymentScale = async (param) => {
      if (refusals-- > 0) throw new FakeApiException(503, { reason: 'ServiceUnavailable' });
      return patch(param);
    };
    request(record, 1, 'down');
    await expect(round()).rejects.toMatchObject({ code: 503 });
    expect(recorded(record, 'draining')).toHaveLength(1);
    expect(cluster.replicas.get(DEPLOYMENT)).toBe(2);
    await round();
    expect(cluster.replicas.get(DEPLOYMENT)).toBe(1);
    expect([...cluster.pods.values()].filter((p) => p.metadata?.deletionTimestamp).map((p) => p.metadata!.name!)).toEqual(recorded(record, 'draining'));
  });

  it('follows a scale-down that picked another pod: that one is recorded draining, and the one the record drains is deleted gracefully and replaced', async () => {
    const record = new MemoryRecord(1);
    const { cluster, rows, round } = start(record);
    await round();
    await round();
    const [older] = podNames(cluster);
    cluster.setReady(older);
    request(record, 2, 'up');
    await round();
    await round();
    const [younger] = podNames(cluster).filter((name) => name !== older);
    cluster.setReady(younger);
    await round();
    expect(recorded(record, 'ready')).toEqual([older, younger].sort());

    request(record, 1, 'down');
    cluster.setReady(older, false); // momentarily not ready: the ReplicaSet deletes it before any cost
    await round();
    expect(recorded(record, 'draining')).toEqual([younger]); // the plan drains the youngest
    expect(cluster.pods.get(older)?.metadata?.deletionTimestamp).toBeDefined(); // the ReplicaSet took the older
    await round(); // the older is recorded draining; the younger, kept by Kubernetes, is deleted gracefully
    expect(recorded(record, 'draining').sort()).toEqual([older, younger].sort());
    expect(cluster.calls('deleteNamespacedPod').map((s) => s.param)).toEqual([{ name: younger, namespace: NAMESPACE }]);

    cluster.finishTerminations(rows);
    await round();
    await round();
    for (const name of podNames(cluster)) cluster.setReady(name);
    await round();
    expect(podNames(cluster)).toHaveLength(1);
    expect(recorded(record, 'ready')).toEqual(podNames(cluster));
    expect(podNames(cluster)).not.toContain(older);
    expect(podNames(cluster)).not.toContain(younger);
  });

  it('after a restart of the agent pool, takes the pods that are there as the record\'s workers and brings the Deployment back to the record', async () => {
    const record = new MemoryRecord(1);
    const first = start(record);
    await first.round();
    await first.round();
    for (const name of podNames(first.cluster)) first.cluster.setReady(name);
    await first.round();
    const kept = podNames(first.cluster);

    // The agent pool dies after a scale-up reached the Deployment but before its pods were recorded; meanwhile the record went back to 1.
    first.cluster.replicas.set(DEPLOYMENT, 3);
    first.cluster.reconcileReplicaSet(now);
    const strangers = podNames(first.cluster).filter((name) => !kept.includes(name));
    expect(strangers).toHaveLength(2);

    const second = start(record, first.cluster, first.rows);
    await second.round(); // the two pods are recorded, then drained (starting ones first), and the replicas set back to 1
    expect(recorded(record, 'draining').sort()).toEqual(strangers.sort());
    expect(first.cluster.replicas.get(DEPLOYMENT)).toBe(1);
    first.cluster.finishTerminations(first.rows);
    await second.round();
    expect(recorded(record)).toEqual(kept);
    expect(podNames(first.cluster)).toEqual(kept);
  });
});
