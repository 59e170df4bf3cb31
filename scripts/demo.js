#!/usr/bin/env node
// `npm run demo`: on a fresh machine, installs what is missing, starts the native stack and the
// services, runs a small demo workload, and prints where to look. `npm run demo:down` stops it all.
const { spawn, spawnSync, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { SERVICE_NODE_ARGS } = require('./service-node-args');

const root = path.resolve(__dirname, '..');
const home = process.env.FLOTILLA_HOME || path.join(os.homedir(), '.flotilla');
const demoDir = path.join(home, 'demo');
const launcher = path.join(root, 'deploy/native/stack');
const SERVICES = [
  { name: 'projection', port: 3000 },
  { name: 'orchestrator', port: 3001 },
  // code_gen is a provisioned pool: its workers are real processes, started and drained by the scaler's sagas.
  {
    name: 'agent-pool',
    port: 3002,
    env: { SYNTHETIC_MIN_DURATION_MS: '200', SYNTHETIC_MAX_DURATION_MS: '1500', SYNTHETIC_FAILURE_RATE: '0.05', POOL_CONCURRENCY: '4', PROVISIONED_AGENT_TYPES: 'code_gen', POOL_SLOTS_PER_WORKER: '2', POOL_INITIAL_REPLICAS: '1', POOL_MAX_REPLICAS: '4', POOL_METRICS_INTERVAL_MS: '2000' },
  },
  { name: 'optimizer', port: 3003 },
  { name: 'scaler', port: 3004, env: { SCALED_AGENT_TYPES: 'code_gen', SCALER_INTERVAL_MS: '5000' } },
  // Webhooks to the demo's receiver on this host (plain http to loopback: allowed for the demo only), and
  // GitHub pull-request webhooks of acme/storefront signed with the demo's secret.
  {
    name: 'notification',
    port: 3005,
    env: { WEBHOOK_ALLOW_HTTP: 'true', WEBHOOK_ALLOW_PRIVATE: 'true', GITHUB_WEBHOOK_SECRET: 'flotilla-demo-github-secret', GITHUB_REPOSITORIES: JSON.stringify({ 'acme/storefront': 'acme' }) },
  },
  // A customer's webhook endpoint: verifies and lists what it receives (GET /).
  { name: 'receiver', port: 3099, entry: 'scripts/demo-receiver.ts' },
];
// The orchestrator first: it applies the topic catalogue and registers the schemas the others share.
const START_ORDER = ['orchestrator', 'projection', 'agent-pool', 'optimizer', 'scaler', 'notification', 'receiver'];

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', ...options });
  if (result.status !== 0) {
    console.error(`demo: ${command} ${args.join(' ')} failed`);
    process.exit(result.status ?? 1);
  }
}

function stackEnv() {
  const env = {};
  for (const line of execFileSync(launcher, ['env'], { encoding: 'utf8' }).split('\n')) {
    const match = /^export ([A-Z_]+)=(.*)$/.exec(line.trim());
    if (match) env[match[1]] = match[2];
  }
  return env;
}

const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const pidFile = (name) => path.join(demoDir, `${name}.pid`);

function down() {
  for (const { name } of SERVICES) {
    const file = pidFile(name);
    if (!fs.existsSync(file)) continue;
    const pid = Number(fs.readFileSync(file, 'utf8'));
    if (alive(pid)) process.kill(pid, 'SIGTERM');
    fs.rmSync(file);
    console.log(`stopped ${name}`);
  }
  if (process.argv.includes('--stack')) run(launcher, ['down']);
}

async function waitReady(name, port) {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/ready`)).ok) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`${name} did not become ready; see ${path.join(demoDir, `${name}.log`)}`);
}

async function up() {
  if (!fs.existsSync(path.join(root, 'node_modules/.bin/jest'))) {
    console.log('== installing node modules');
    run('npm', ['ci', '--no-audit', '--no-fund']);
  }
  // Node modules installed before a patch was added (patches/) lack it: apply what is missing (idempotent).
  run(path.join(root, 'node_modules/.bin/patch-package'), [], { stdio: 'ignore' });
  console.log('== starting the stack (Kafka, schema registry, PostgreSQL, Redis, Jaeger)');
  run(launcher, ['up']);
  const env = { ...process.env, ...stackEnv() };
  fs.mkdirSync(demoDir, { recursive: true });

  console.log('== starting the services');
  for (const service of START_ORDER.map((name) => SERVICES.find((s) => s.name === name))) {
    const file = pidFile(service.name);
    if (fs.existsSync(file) && alive(Number(fs.readFileSync(file, 'utf8')))) {
      console.log(`${service.name} already running`);
      continue;
    }
    const log = fs.openSync(path.join(demoDir, `${service.name}.log`), 'a');
    const child = spawn(process.execPath, [...SERVICE_NODE_ARGS, '-r', '@swc-node/register', service.entry ?? `services/${service.name}/src/main.ts`], {
      cwd: root,
      env: { ...env, HTTP_PORT: String(service.port), RECEIVER_PORT: String(service.port), ...(service.env ?? {}) },
      stdio: ['ignore', log, log],
      detached: true,
    });
    child.unref();
    fs.writeFileSync(file, String(child.pid));
    await waitReady(service.name, service.port);
    console.log(`${service.name} ready on http://127.0.0.1:${service.port}`);
  }

  console.log('== demo workload');
  run(process.execPath, ['-r', '@swc-node/register', 'scripts/demo-workload.ts'], { env });

  // A working ops token (development secret, 12 hours), so the dashboard link opens as it is.
  const opsToken = spawnSync(process.execPath, ['-r', '@swc-node/register', 'scripts/token.ts', 'ops'], { cwd: root, encoding: 'utf8' }).stdout.trim();
  console.log(`
Where to look
  Dashboard       http://127.0.0.1:3000/dashboard#token=${opsToken}
                  (overview, executions with filters and search, each execution's tasks, cost and trace, customers, alerts,
                  costs: spend per pool over time, budget bars with thresholds, top recommendations: #/costs)
  API docs        http://127.0.0.1:300{0,1,2,3,4,5}/docs   (Swagger UI; /openapi.json)
  Query API       TOKEN=$(npm run -s token -- ops)   (or: npm run -s token -- customer acme)
                  curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:3000/v1/overview
                  .../v1/customers  .../v1/executions?status=failed  .../v1/executions/<id>  .../v1/alerts  .../v1/sla-violations
  Orchestrator    http://127.0.0.1:3001/v1/executions (POST, ops or the customer's token)   PUT /v1/admission/capacity (ops)
  Agent pools     http://127.0.0.1:3002/v1/pools (ops)
  Costs           http://127.0.0.1:3000/v1/costs?groupBy=hour,pool  .../v1/costs/executions  .../v1/budgets  .../v1/recommendations (read models)
                  http://127.0.0.1:3003/v1/costs/pools (ops, with idle cost)  .../v1/costs/customers/<id>  .../v1/costs/executions/<id>
  Budgets         http://127.0.0.1:3003/v1/budgets  .../v1/budgets/customer:acme   Recommendations .../v1/recommendations (ops)
                  (integer micro-units: 1 USD = 1,000,000; price sheet services/optimizer/config/price-sheet.json)
  Scaling         http://127.0.0.1:3004/v1/pools (ops: policy, override, pause, replicas, the saga in flight)  .../v1/policy-templates
                  http://127.0.0.1:3000/v1/scaling/pools  .../v1/scaling/decisions  .../v1/scaling/sagas   (read models)
                  dashboard #/scaling: replicas against backlog and arrival rate, sagas in flight, decisions and why
                  the code_gen pool's workers are node processes of their own (pstree -p $(cat ${demoDir}/agent-pool.pid))
  Webhooks        http://127.0.0.1:3099/   (the demo's receiver: each delivery, verified with the standardwebhooks package)
                  http://127.0.0.1:3005/v1/subscriptions (POST/GET/PATCH/DELETE; rotate-secret)   .../v1/deliveries/<id>/replay
                  http://127.0.0.1:3000/v1/notifications/deliveries  .../v1/notifications/subscriptions   dashboard #/notifications
                  GitHub webhooks in: POST http://127.0.0.1:3005/v1/inbound/github (X-Hub-Signature-256, secret flotilla-demo-github-secret,
                  repository acme/storefront → customer acme); signed senders: POST .../v1/inbound/webhooks/<sender> (INBOUND_SENDERS)
  Jaeger API      ${env.JAEGER_QUERY_URL}/api/traces?service=orchestrator&limit=5
                  ${env.JAEGER_QUERY_URL}/api/traces/<trace id>   (this Jaeger build has the query API, not the web UI)
  Metrics         http://127.0.0.1:3001/metrics  (orchestrator; 3002 agent-pool, 3000 projection, 3003 optimizer, 3004 scaler, 3005 notification)
  Health          http://127.0.0.1:300{0,1,2,3,4,5}/health and /ready
  Logs            ${demoDir}/<service>.log (JSON, with trace ids)
  Stack           npm run stack:status
  Stop            npm run demo:down   (add -- --stack to stop Kafka, PostgreSQL, ... too)
`);
}

if (process.argv.includes('down')) down();
else
  up().catch((error) => {
    console.error(`demo: ${error.message}`);
    process.exit(1);
  });
