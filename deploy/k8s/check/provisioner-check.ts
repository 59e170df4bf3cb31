/**
 * The Kubernetes provisioner against a real API server: what it sends is applied by Kubernetes
 * itself (the scale subresource, JSON Patch, pod deletion, RBAC), and the Deployment and ReplicaSet
 * controllers do what they do. Not part of the test suite (it needs a cluster): run it against the
 * manifests of deploy/k8s applied to a throwaway cluster, with the supervisor's credentials.
 *
 *   KUBECONFIG=<the agent-pool-supervisor service account's kubeconfig> \
 *   ADMIN_KUBECONFIG=<an admin's kubeconfig, to play the kubelet> \
 *   node -r @swc-node/register deploy/k8s/check/provisioner-check.ts
 *
 * With no kubelet in the cluster (deploy/k8s/check/local-apiserver.sh runs none), the admin's
 * credentials play its part: bind the pods to a node, set them Ready, and finish their deletion.
 */
import * as k8s from '@kubernetes/client-node';
import pino from 'pino';
import { connectKubernetes, DELETION_COST_ANNOTATION, KubernetesProvisioner } from '../../../services/agent-pool/src/replicas/infrastructure/kubernetes-provisioner';
import type { Worker } from '../../../services/agent-pool/src/replicas/domain/pool-replicas';
import type { WorkerProcessRows } from '../../../services/agent-pool/src/replicas/ports';

const NAMESPACE = process.env.K8S_NAMESPACE ?? 'flotilla';
const POOL = 'code_gen';
const DEPLOYMENT = 'pool-code-gen';

const rows: WorkerProcessRows = {
  recordStarted: async () => undefined,
  recordDrained: async () => undefined,
  find: async () => new Map(),
  forget: async () => undefined,
};

function admin() {
  const config = new k8s.KubeConfig();
  config.loadFromFile(process.env.ADMIN_KUBECONFIG ?? '');
  return { apps: config.makeApiClient(k8s.AppsV1Api), core: config.makeApiClient(k8s.CoreV1Api) };
}

async function until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function check(condition: boolean, what: string): void {
  if (!condition) throw new Error(`FAILED: ${what}`);
  process.stdout.write(`ok - ${what}\n`);
}

async function main(): Promise<void> {
  const kube = admin();
  const provisioner = new KubernetesProvisioner({ apis: connectKubernetes(), namespace: NAMESPACE, deploymentPrefix: 'pool-', rows, logger: pino({ level: 'warn' }) });
  const pods = async () => (await kube.core.listNamespacedPod({ namespace: NAMESPACE, labelSelector: `flotilla.io/pool=${POOL}` })).items;
  const live = async () => (await pods()).filter((p) => !p.metadata?.deletionTimestamp);
  const replicas = async () => (await kube.apps.readNamespacedDeploymentScale({ name: DEPLOYMENT, namespace: NAMESPACE })).spec?.replicas ?? 0;
  const node = 'check-node';
  await kube.core.createNode({ body: { metadata: { name: node } } }).catch(() => undefined);
  /** The kubelet's part: pods on a node, running and ready. */
  const runAll = async () => {
    for (const pod of await live()) {
      const name = pod.metadata!.name!;
      if (!pod.spec?.nodeName) await kube.core.createNamespacedPodBinding({ name, namespace: NAMESPACE, body: { metadata: { name }, target: { kind: 'Node', name: node } } });
      const now = new Date();
      await kube.core.replaceNamespacedPodStatus({
        name,
        namespace: NAMESPACE,
        body: { ...(await kube.core.readNamespacedPod({ name, namespace: NAMESPACE })), status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: now }, { type: 'PodScheduled', status: 'True', lastTransitionTime: now }] } },
      });
    }
  };
  const record = (names: string[], status: Worker['status'] = 'ready'): Worker[] => names.map((workerId) => ({ workerId, status, requestId: null, startingAt: 0, drainingAt: null }));

  // From zero: the scale has no spec.replicas then (the provisioner must not test it).
  await provisioner.scale(POOL, 0);
  check((await replicas()) === 0, 'scale to 0 through the scale subresource');
  await until('no live pod left', async () => (await live()).length === 0);
  // The kubelet's part: pods being deleted on a node go once their container stopped.
  for (const pod of await pods()) await kube.core.deleteNamespacedPod({ name: pod.metadata!.name!, namespace: NAMESPACE, gracePeriodSeconds: 0 });

  await provisioner.scale(POOL, 3);
  check((await replicas()) === 3, 'scale from 0 to 3 (JSON Patch add on a scale without spec.replicas)');
  const created = await until('the ReplicaSet to create 3 pods', async () => ((await live()).length === 3 ? live() : undefined));
  let sightings = await provisioner.inspect(POOL, []);
  check(sightings.size === 3 && [...sightings.values()].every((s) => s.state === 'starting' && typeof s.createdAt === 'number'), 'inspect reports the 3 pods the record lacks, starting, with their creation time');

  await runAll();
  const names = created.map((p) => p.metadata!.name!).sort();
  sightings = await provisioner.inspect(POOL, record(names));
  check(names.every((n) => sightings.get(n)?.state === 'ready'), "inspect: ready from the pods' Ready condition");

  // Drain one: the lowest deletion cost, then the replicas lowered; the ReplicaSet deletes that pod.
  const chosen = names[0];
  await provisioner.drain(chosen);
  const marked = await kube.core.readNamespacedPod({ name: chosen, namespace: NAMESPACE });
  check(marked.metadata?.annotations?.[DELETION_COST_ANNOTATION] === '-2147483648', 'drain sets controller.kubernetes.io/pod-deletion-cost on the pod (JSON Patch)');
  await provisioner.scale(POOL, 2);
  const deleting = await until('the ReplicaSet to delete a pod', async () => (await pods()).find((p) => p.metadata?.deletionTimestamp));
  check(deleting.metadata?.name === chosen, `the ReplicaSet deleted the pod marked to go first (${chosen})`);
  sightings = await provisioner.inspect(POOL, [...record(names.slice(1)), ...record([chosen], 'draining')]);
  check(sightings.get(chosen)?.state === 'draining', 'inspect: a pod being deleted is draining');
  // The kubelet, once the worker drained: the pod is gone.
  await kube.core.deleteNamespacedPod({ name: chosen, namespace: NAMESPACE, gracePeriodSeconds: 0 });
  sightings = await provisioner.inspect(POOL, [...record(names.slice(1)), ...record([chosen], 'draining')]);
  check(sightings.get(chosen)?.state === 'exited', 'inspect: a pod that is gone has exited');

  // Stop: deleted at once; the ReplicaSet replaces it (the replicas still want it).
  await provisioner.stop(names[1]);
  check(!(await pods()).some((p) => p.metadata?.name === names[1]), 'stop deletes the pod at once (grace period 0)');
  await until('a replacement pod', async () => (await live()).length === 2);

  // A pod without annotations gets the map, tested against the resourceVersion it was listed with.
  await runAll();
  const [bare] = (await live()).map((p) => p.metadata!.name!);
  await kube.core.patchNamespacedPod({ name: bare, namespace: NAMESPACE, body: [{ op: 'remove', path: '/metadata/annotations' }] });
  await provisioner.inspect(POOL, record((await live()).map((p) => p.metadata!.name!)));
  await provisioner.drain(bare);
  const annotated = await kube.core.readNamespacedPod({ name: bare, namespace: NAMESPACE });
  check(annotated.metadata?.annotations?.[DELETION_COST_ANNOTATION] === '-2147483648', 'drain adds the annotations map to a pod that has none');

  // The ReplicaSet ranks a not-ready pod before any cost: it deletes that one and keeps the marked one,
  // which the provisioner then deletes gracefully (the ReplicaSet replaces it).
  await provisioner.scale(POOL, 3);
  await until('3 pods', async () => (await live()).length === 3);
  await runAll();
  const three = (await live()).map((p) => p.metadata!.name!).sort();
  const marked2 = three[0];
  const unready = three[1];
  await kube.core.patchNamespacedPodStatus({ name: unready, namespace: NAMESPACE, body: [{ op: 'replace', path: '/status/conditions/0/status', value: 'False' }] });
  await provisioner.drain(marked2);
  await provisioner.scale(POOL, 2);
  await until('the ReplicaSet to delete the not-ready pod', async () => (await pods()).find((p) => p.metadata?.name === unready)?.metadata?.deletionTimestamp);
  check(!(await pods()).find((p) => p.metadata?.name === marked2)?.metadata?.deletionTimestamp, 'the ReplicaSet deleted the not-ready pod, not the one marked');
  sightings = await provisioner.inspect(POOL, [...record([three[2]]), ...record([unready]), ...record([marked2], 'draining')]);
  check(sightings.get(unready)?.state === 'draining', 'inspect: the pod the ReplicaSet took is draining');
  check(sightings.get(marked2)?.state === 'draining' && Boolean((await pods()).find((p) => p.metadata?.name === marked2)?.metadata?.deletionTimestamp), 'the kept pod the record drains is deleted gracefully');
  for (const name of [unready, marked2]) await kube.core.deleteNamespacedPod({ name, namespace: NAMESPACE, gracePeriodSeconds: 0 });
  await until('a replacement for the kept pod', async () => (await live()).length === 2);

  // A concurrent writer between the read and the patch: the test op fails and nothing changes.
  const apis = await connectKubernetes();
  const read = await apis.apps.readNamespacedDeploymentScale({ name: DEPLOYMENT, namespace: NAMESPACE });
  await kube.apps.patchNamespacedDeploymentScale({ name: DEPLOYMENT, namespace: NAMESPACE, body: [{ op: 'replace', path: '/spec/replicas', value: 4 }] });
  const conflict = await apis.apps
    .patchNamespacedDeploymentScale({ name: DEPLOYMENT, namespace: NAMESPACE, body: [{ op: 'test', path: '/spec/replicas', value: read.spec?.replicas }, { op: 'add', path: '/spec/replicas', value: 1 }] })
    .then(() => null, (error: { code?: number }) => error.code);
  check(conflict !== null && (await replicas()) === 4, `a failed JSON Patch test is refused (HTTP ${conflict}) and the replicas stay the other writer's`);

  // What the supervisor may not do.
  const forbidden = await apis.apps.readNamespacedDeploymentScale({ name: 'orchestrator', namespace: NAMESPACE }).then(() => null, (error: { code?: number }) => error.code);
  check(forbidden === 403, 'the supervisor cannot read the scale of a Deployment that is not a pool (403)');
  await provisioner.scale(POOL, 1);
  check((await replicas()) === 1, 'scale back to 1');
}

main().then(
  () => process.stdout.write('all checks passed\n'),
  (error) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
