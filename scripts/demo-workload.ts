// The demo's workload: several customers submit executions of a few kinds through Kafka, as any
// producer would; one request is invalid. Waits until every execution has an outcome in the read model.
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { DEVELOPMENT_JWT_SECRET, signToken } from '@flotilla/service-kit';
import { EVENT_SCHEMAS, type ExecutionRequested, type TaskSpec } from '@flotilla/contracts';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { createHmac, randomUUID } from 'node:crypto';

const task = (taskId: string, agentType: string, dependsOn: string[] = [], input: Record<string, string> = {}): TaskSpec => ({ taskId, agentType, dependsOn, input });

const KINDS: Record<string, () => TaskSpec[]> = {
  review: () => [
    task('analysis', 'analysis'),
    task('security_scan', 'security_scan', ['analysis']),
    task('style_check', 'style_check', ['analysis']),
    task('summary', 'summary', ['security_scan', 'style_check']),
  ],
  app_generation: () => [
    task('req_analysis', 'req_analysis'),
    task('arch_planning', 'arch_planning', ['req_analysis']),
    task('code_gen', 'code_gen', ['arch_planning'], { tokens: '1200' }),
    task('testing', 'testing', ['code_gen']),
    task('deployment', 'deployment', ['testing']),
  ],
  // `tokens`: the synthetic agent reports them as used, and the price sheet charges code_gen 2 µ each.
  code_generation: () => [task('code_gen', 'code_gen', [], { prompt: 'a REST endpoint', tokens: '800' })],
};
const CUSTOMERS = ['acme', 'globex', 'initech', 'umbrella', 'hooli'];

async function main() {
  const opsToken = await signToken({ role: 'ops', sub: 'demo' }, { secret: process.env.AUTH_JWT_SECRET ?? DEVELOPMENT_JWT_SECRET });
  const kafka = new Kafka({ clientId: 'flotilla-demo', brokers: process.env.KAFKA_BROKERS!.split(','), logLevel: logLevel.NOTHING });
  const registry = new SchemaRegistry({ host: process.env.SCHEMA_REGISTRY_URL! });
  const { id } = await registry.register(
    { type: SchemaType.AVRO, schema: JSON.stringify(EVENT_SCHEMAS['flotilla.execution.ExecutionRequested']) },
    { subject: 'flotilla.execution.ExecutionRequested' },
  );
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();

  // Budgets before the work, so that their spend counts it: each customer a monthly budget, the
  // code_gen pool a daily one; acme's is small, to show its thresholds and alerts.
  const optimizer = (path: string, init: RequestInit = {}) =>
    fetch(`http://127.0.0.1:3003${path}`, { ...init, headers: { 'content-type': 'application/json', authorization: `Bearer ${opsToken}`, ...(init.headers ?? {}) } });
  for (const [budgetId, amountMicros, period] of [...CUSTOMERS.map((c) => [`customer:${c}`, c === 'acme' ? 2_000 : 5_000_000, 'monthly'] as const), ['pool:code_gen', 1_000_000, 'daily'] as const]) {
    const response = await optimizer(`/v1/budgets/${budgetId}`, { method: 'PUT', body: JSON.stringify({ period, amountMicros }) });
    if (!response.ok) throw new Error(`setting budget ${budgetId} answered ${response.status}: ${await response.text()}`);
  }
  console.log(`budgets set: ${CUSTOMERS.map((c) => `customer:${c}`).join(', ')}, pool:code_gen (GET http://127.0.0.1:3003/v1/budgets)`);
  await subscribeReceiver(opsToken);

  const requests: ExecutionRequested[] = [];
  for (let i = 0; i < 24; i++) {
    const kind = Object.keys(KINDS)[i % 3];
    const tasks = KINDS[kind]();
    // Every eighth execution has a task that always fails (retried, then the execution fails and what
    // depends on it is skipped); every fifth has one that fails once and succeeds on its retry.
    const steer = i % 8 === 7 ? { fail: 'always' } : i % 5 === 1 ? { fail_until_attempt: '1' } : null;
    const failing = steer ? tasks.map((t, j) => (j === Math.floor(tasks.length / 2) ? { ...t, input: { ...t.input, ...steer } } : t)) : tasks;
    requests.push({
      executionId: randomUUID(),
      customerId: CUSTOMERS[i % CUSTOMERS.length],
      kind,
      tasks: failing,
      contractValue: 50_000 + i * 10_000,
      deadlineAt: Date.now() + (5 + i) * 86_400_000,
      tier: i % 4 === 0 ? 'premium' : 'standard',
      requestedAt: Date.now(),
    });
  }
  requests.push({ ...requests[0], executionId: randomUUID(), tasks: [task('x', 'astrology')] });

  await producer.send({ topic: 'flotilla.execution-requests', acks: -1, messages: await Promise.all(requests.map(async (r) => ({ key: r.executionId, value: await registry.encode(id, r) }))) });
  await producer.disconnect();
  console.log(`submitted ${requests.length} executions for ${CUSTOMERS.length} customers (review, app_generation, code_generation; one invalid)`);
  console.log('  (app_generation runs its testing task as a real child process; some tasks fail once and are retried)');

  console.log('  (admission runs 5 at a time, at most 3 per customer, premium / valuable / urgent first: the rest wait in the queue)');

  const outcomes = new Map<string, string>();
  const deadline = Date.now() + 240_000;
  let lastProgress = '';
  while (outcomes.size < requests.length && Date.now() < deadline) {
    const statuses: Record<string, number> = {};
    for (const r of requests) {
      if (outcomes.has(r.executionId)) continue;
      const response = await fetch(`http://127.0.0.1:3000/v1/executions/${r.executionId}`, { headers: { authorization: `Bearer ${opsToken}` } });
      if (!response.ok) continue;
      const view = (await response.json()) as { status: string; reasons: string[] };
      statuses[view.status] = (statuses[view.status] ?? 0) + 1;
      if (['completed', 'failed', 'rejected'].includes(view.status)) {
        outcomes.set(r.executionId, view.status);
        console.log(`  ${view.status.padEnd(9)} ${r.customerId!.padEnd(9)} ${String(r.kind).padEnd(16)} ${r.executionId}${view.reasons.length ? `  (${view.reasons.join('; ')})` : ''}`);
      }
    }
    const progress = `queued ${statuses.queued ?? 0}, running ${statuses.running ?? 0}, finished ${outcomes.size}/${requests.length}`;
    if (progress !== lastProgress) console.log(`  … ${progress}`);
    lastProgress = progress;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  const counts = [...outcomes.values()].reduce<Record<string, number>>((acc, s) => ({ ...acc, [s]: (acc[s] ?? 0) + 1 }), {});
  console.log(`outcomes: ${JSON.stringify(counts)}${outcomes.size < requests.length ? `, ${requests.length - outcomes.size} still running` : ''}`);

  // What it cost (micro-units: 1 USD = 1,000,000), as the optimizer's ledger has it by now.
  const usd = (micros: number) => `$${(micros / 1_000_000).toFixed(6)}`;
  const pools = (await (await optimizer('/v1/costs/pools')).json()) as { pools: { agentType: string; totalMicros: number; attempts: number }[] };
  console.log(`costs per pool: ${pools.pools.map((p) => `${p.agentType} ${usd(p.totalMicros)} (${p.attempts} attempts)`).join(', ')}`);
  const budgets = (await (await optimizer('/v1/budgets')).json()) as { items: { budgetId: string; spentMicros: number; amountMicros: number; percentUsed: number; crossed: number[] }[] };
  for (const b of budgets.items) console.log(`  budget ${b.budgetId.padEnd(18)} ${usd(b.spentMicros)} of ${usd(b.amountMicros)} (${b.percentUsed} %)${b.crossed.length ? `, crossed ${b.crossed.join('/')} %` : ''}`);

  await scalingStory(opsToken, kafka, registry, id);
  await pullRequestStory();
}

const RECEIVER = 'http://127.0.0.1:3099';

/**
 * Webhooks out: acme subscribes (with its own token) to its review executions, ops to warnings,
 * critical alerts and scale sagas; each secret goes to the demo's receiver, which verifies every
 * delivery with it.
 */
async function subscribeReceiver(opsToken: string) {
  const acmeToken = await signToken({ role: 'customer', customerId: 'acme', sub: 'acme-demo' }, { secret: process.env.AUTH_JWT_SECRET ?? DEVELOPMENT_JWT_SECRET });
  const subscriptions: [string, string, Record<string, unknown>][] = [
    [acmeToken, '/acme-reviews', { description: "acme's review executions", filter: { eventTypes: ['flotilla.execution.*'], executionKinds: ['review'] } }],
    [opsToken, '/ops', { description: 'warnings, critical alerts and scale actions of every customer', customerId: null, filter: { eventTypes: ['flotilla.alert.AlertRaised', 'flotilla.scaling.ScaleSagaCompleted', 'flotilla.scaling.ScaleActionDenied'], severities: ['warning', 'critical'] } }],
  ];
  for (const [token, path, body] of subscriptions) {
    const created = await fetch('http://127.0.0.1:3005/v1/subscriptions', { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ url: `${RECEIVER}${path}`, ...body }) });
    if (!created.ok) throw new Error(`subscribing ${path} answered ${created.status}: ${await created.text()}`);
    const { secret } = (await created.json()) as { secret: string };
    await fetch(`${RECEIVER}/_secrets`, { method: 'POST', body: JSON.stringify({ path, secret }) });
  }
  console.log(`webhooks: ${RECEIVER}/acme-reviews (acme's reviews) and ${RECEIVER}/ops (alerts, scale sagas) subscribed; deliveries listed at ${RECEIVER}/`);
}

/** Webhooks in: GitHub says a pull request of acme/storefront was opened; a review execution runs, and acme's endpoint hears of it. */
async function pullRequestStory() {
  const head = randomUUID().replace(/-/g, '').padEnd(40, '0');
  const body = JSON.stringify({
    action: 'opened',
    number: 12,
    repository: { id: 424242, full_name: 'acme/storefront' },
    pull_request: { number: 12, title: 'Add the wish list', html_url: 'https://github.com/acme/storefront/pull/12', head: { sha: head } },
    sender: { login: 'octocat' },
  });
  const signature = `sha256=${createHmac('sha256', 'flotilla-demo-github-secret').update(body).digest('hex')}`;
  const response = await fetch('http://127.0.0.1:3005/v1/inbound/github', { method: 'POST', headers: { 'content-type': 'application/json', 'x-github-event': 'pull_request', 'x-github-delivery': randomUUID(), 'x-hub-signature-256': signature }, body });
  console.log(`github: pull request acme/storefront#12 opened → ${response.status} ${await response.text()}`);
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const { deliveries } = (await (await fetch(`${RECEIVER}/`)).json()) as { deliveries: { path: string; type: string; summary: string; verified: boolean }[] };
    const executionId = /executionId=(\S+)/.exec(deliveries.find((d) => d.path === '/acme-reviews' && d.summary.includes(`head=${head}`))?.summary ?? '')?.[1];
    const done = executionId && deliveries.find((d) => d.type === 'flotilla.execution.ExecutionCompleted' && d.summary.includes(`executionId=${executionId}`));
    if (done) {
      console.log(`  its review ran; acme's endpoint got ${deliveries.filter((d) => d.path === '/acme-reviews').length} verified deliveries (GET ${RECEIVER}/)`);
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
  console.log(`  no completed review reached ${RECEIVER}/acme-reviews within a minute: see the notification service's log`);
}

/**
 * The scaling story: the code_gen pool (real worker processes) gets a policy, then a burst. The
 * scaler sees the backlog, decides, and a saga reserves budget at the optimizer, provisions workers
 * at the agent pool and commits; the backlog drains; after its window the pool scales back down.
 */
async function scalingStory(opsToken: string, kafka: Kafka, registry: SchemaRegistry, schemaId: number) {
  const scaler = (path: string, init: RequestInit = {}) =>
    fetch(`http://127.0.0.1:3004${path}`, { ...init, headers: { 'content-type': 'application/json', authorization: `Bearer ${opsToken}`, ...(init.headers ?? {}) } });
  type Pool = { replicas: { replicas: number; readyReplicas: number } | null; runningSaga: { sagaId: string; status: string } | null };
  const pool = async () => (await (await scaler('/v1/pools/code_gen')).json()) as Pool;
  // Two waiting tasks per worker (each has two slots); down after 30 s of lower recommendations, so the demo shows it.
  const policy = { minReplicas: 1, maxReplicas: 4, metrics: [{ metric: 'backlog_per_worker', target: 2 }, { metric: 'utilization', target: 0.8 }], behavior: { scaleDown: { stabilizationWindowSeconds: 30 } } };
  const set = await scaler('/v1/pools/code_gen/policy', { method: 'PUT', body: JSON.stringify(policy) });
  if (!set.ok) throw new Error(`setting the code_gen policy answered ${set.status}: ${await set.text()}`);
  console.log('scaling: code_gen runs as worker processes (1 to begin with, 2 slots each) under a policy: 2 waiting tasks per worker, 80 % busy');

  const burst: ExecutionRequested[] = Array.from({ length: 40 }, (_, i) => ({
    executionId: randomUUID(),
    customerId: CUSTOMERS[i % CUSTOMERS.length],
    kind: 'code_generation',
    tasks: [task('code_gen', 'code_gen', [], { prompt: 'a burst', tokens: '100', duration_ms: '1500' })],
    contractValue: 10_000,
    deadlineAt: null,
    tier: 'standard',
    requestedAt: Date.now(),
  }));
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  await producer.send({ topic: 'flotilla.execution-requests', acks: -1, messages: await Promise.all(burst.map(async (r) => ({ key: r.executionId, value: await registry.encode(schemaId, r) }))) });
  await producer.disconnect();
  console.log(`  a burst of ${burst.length} code_generation executions (1.5 s each)`);

  let peak = 1;
  let last = '';
  const deadline = Date.now() + 180_000;
  while (Date.now() < deadline) {
    const p = await pool();
    const replicas = p.replicas?.replicas ?? 0;
    peak = Math.max(peak, replicas);
    const line = `  code_gen: ${replicas} worker(s), ${p.replicas?.readyReplicas ?? 0} ready${p.runningSaga ? `; saga ${p.runningSaga.sagaId.slice(0, 8)} ${p.runningSaga.status}` : ''}`;
    if (line !== last) console.log(line);
    last = line;
    if (peak > 1 && replicas === 1 && !p.runningSaga) break;
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
  console.log(peak > 1 ? `  scaled up to ${peak} and back down to 1 (each step a saga: GET http://127.0.0.1:3000/v1/scaling/sagas)` : '  the pool did not scale up within 3 minutes: see the scaler\'s log');
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
