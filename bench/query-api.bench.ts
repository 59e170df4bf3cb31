// Query API under load: req/s and p50/p99 of get-execution and the system overview, with the Redis
// cache on and off, next to a bare Fastify hello-world on this machine in the same run (the ceiling
// of any Fastify service here); then projection lag (event time -> visible in the API) under a
// sustained execution load. Figures depend on the machine; compare ratios.
import { ServiceProcess, uniqueNamespace } from '@flotilla/testing';
import autocannon from 'autocannon';
import Fastify from 'fastify';
import { randomUUID } from 'node:crypto';
import { token } from '../test/e2e/support/tokens';
import { ensureStack, fmt, percentile } from './support';

const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 8);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);

interface Result {
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly non2xx: number;
}

async function load(url: string, headers: Record<string, string> = {}): Promise<Result> {
  const result = await autocannon({ url, connections: CONNECTIONS, duration: DURATION_S, headers });
  return { rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, non2xx: result.non2xx };
}

function line(name: string, r: Result, baseline?: Result): string {
  const ratio = baseline ? `   (${fmt(r.rps / baseline.rps, 3)}x hello-world req/s)` : '';
  return `  ${name.padEnd(34)} ${fmt(r.rps, 0).padStart(8)} req/s   p50 ${fmt(r.p50, 1).padStart(6)} ms   p99 ${fmt(r.p99, 1).padStart(6)} ms${r.non2xx ? `   ${r.non2xx} non-2xx!` : ''}${ratio}`;
}

async function main() {
  await ensureStack();
  const hello = Fastify();
  hello.get('/', async () => ({ hello: 'world' }));
  await hello.listen({ port: 0, host: '127.0.0.1' });
  const helloUrl = `http://127.0.0.1:${(hello.server.address() as { port: number }).port}/`;

  const namespace = uniqueNamespace('bq');
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const env = { FLOTILLA_NAMESPACE: namespace, LOG_LEVEL: 'error', RATE_LIMIT_PER_SECOND: '1000000', SYNTHETIC_MIN_DURATION_MS: '10', SYNTHETIC_MAX_DURATION_MS: '50', ADMISSION_CAPACITY: '50', ADMISSION_PER_CUSTOMER_LIMIT: '50' };
  const orchestrator = new ServiceProcess('orchestrator', port, env);
  const agentPool = new ServiceProcess('agent-pool', port + 1, env);
  const cached = new ServiceProcess('projection', port + 2, env);
  await orchestrator.start();
  await Promise.all([agentPool.start(), cached.start()]);
  const auth = { authorization: `Bearer ${await token({ role: 'ops', sub: 'bench' })}` };

  // Something to read: 40 executions of 8 customers.
  const ids: string[] = [];
  for (let i = 0; i < 40; i++) ids.push(await submit(orchestrator.url, `c-${i % 8}`));
  await waitVisible(cached.url, auth, ids[ids.length - 1]);

  console.log(`\nquery API benchmark: ${CONNECTIONS} connections, ${DURATION_S} s per case`);
  const baseline = await load(helloUrl);
  console.log(line('bare Fastify hello-world', baseline));
  console.log(line('get-execution', await load(`${cached.url}/v1/executions/${ids[0]}`, auth), baseline));
  console.log(line('overview, cached', await load(`${cached.url}/v1/overview`, auth), baseline));
  await cached.stop();
  const uncached = new ServiceProcess('projection', port + 3, { ...env, READ_CACHE_TTL_MS: '0' });
  await uncached.start();
  console.log(line('overview, uncached', await load(`${uncached.url}/v1/overview`, auth), baseline));
  console.log(line('get-execution, cache off', await load(`${uncached.url}/v1/executions/${ids[0]}`, auth), baseline));

  // Projection lag: 10 executions a second for 15 s; each is polled every 20 ms until the API shows
  // it finished; lag = first seen - the event's own time (finishedAt). The poll adds up to 20 ms.
  const lags: number[] = [];
  const pollers: Promise<void>[] = [];
  const until = Date.now() + 15_000;
  while (Date.now() < until) {
    const id = await submit(orchestrator.url, `lag-${lags.length % 8}`);
    pollers.push(
      (async () => {
        for (;;) {
          const response = await fetch(`${uncached.url}/v1/executions/${id}`, { headers: auth });
          if (response.ok) {
            const view = (await response.json()) as { finishedAt: string | null };
            if (view.finishedAt) return void lags.push(Date.now() - Date.parse(view.finishedAt));
          }
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      })(),
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await Promise.all(pollers);
  lags.sort((a, b) => a - b);
  console.log(`  projection lag (${lags.length} executions at 10/s)   p50 ${fmt(percentile(lags, 50))} ms   p99 ${fmt(percentile(lags, 99))} ms`);

  await Promise.all([orchestrator.stop(), agentPool.stop(), uncached.stop()]);
  await hello.close();
}

/** Submissions go through the orchestrator's authenticated API, as an ops producer. */
const submitter = token({ role: 'ops', sub: 'bench-submitter' });

async function submit(orchestratorUrl: string, customerId: string): Promise<string> {
  const executionId = `${customerId}-${randomUUID().slice(0, 8)}`;
  const response = await fetch(`${orchestratorUrl}/v1/executions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${await submitter}` },
    body: JSON.stringify({ executionId, customerId, kind: 'custom', tasks: [{ taskId: 'work', agentType: 'code_gen' }] }),
  });
  if (response.status !== 202) throw new Error(`submit answered ${response.status}`);
  return executionId;
}

async function waitVisible(url: string, headers: Record<string, string>, id: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const response = await fetch(`${url}/v1/executions/${id}`, { headers });
    if (response.ok && ((await response.json()) as { finishedAt: string | null }).finishedAt) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`execution ${id} never became visible`);
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
