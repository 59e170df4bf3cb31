// The demo's webhook receiver: an endpoint like a customer's, on this host. Each delivery is verified
// with the `standardwebhooks` package (the specification's reference library), logged, and listed at
// GET / (newest first). The demo workload hands it each subscription's secret (POST /_secrets, from
// this host only) right after subscribing, as a customer would paste it into its own configuration.
import { createServer } from 'node:http';
import { Webhook } from 'standardwebhooks';

const port = Number(process.env.RECEIVER_PORT ?? 3099);
const secrets = new Map<string, string>();
const received: { at: string; path: string; webhookId: string; type: string; verified: boolean; summary: string }[] = [];

function summary(data: Record<string, unknown>): string {
  const tasks = Array.isArray(data.tasks) ? (data.tasks as { input?: Record<string, string> }[]) : [];
  const head = tasks[0]?.input?.head_commit;
  return [...(head ? [`head=${head}`] : []), ...['customerId', 'executionId', 'kind', 'severity', 'message', 'agentType', 'sagaId', 'budgetId']
    .filter((k) => data[k] !== undefined && data[k] !== null)
    .map((k) => `${k}=${String(data[k]).slice(0, 60)}`)].join(' ');
}

createServer((request, response) => {
  const chunks: Buffer[] = [];
  request.on('data', (c: Buffer) => chunks.push(c));
  request.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8');
    const path = request.url ?? '/';
    if (request.method === 'GET') {
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ count: received.length, deliveries: received.slice(-100).reverse() }, null, 2));
      return;
    }
    if (path === '/_secrets') {
      const { path: endpoint, secret } = JSON.parse(body) as { path: string; secret: string };
      secrets.set(endpoint, secret);
      response.writeHead(204).end();
      return;
    }
    let verified = false;
    let type = '?';
    let data: Record<string, unknown> = {};
    try {
      const message = new Webhook(secrets.get(path) ?? 'whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA').verify(body, {
        'webhook-id': String(request.headers['webhook-id'] ?? ''),
        'webhook-timestamp': String(request.headers['webhook-timestamp'] ?? ''),
        'webhook-signature': String(request.headers['webhook-signature'] ?? ''),
      }) as { type: string; data: Record<string, unknown> };
      verified = true;
      type = message.type;
      data = message.data;
    } catch {
      /* recorded as not verified */
    }
    const entry = { at: new Date().toISOString(), path, webhookId: String(request.headers['webhook-id'] ?? ''), type, verified, summary: summary(data) };
    received.push(entry);
    if (received.length > 1000) received.shift();
    process.stdout.write(`${JSON.stringify(entry)}\n`);
    response.writeHead(verified ? 204 : 401).end();
  });
}).listen(port, '127.0.0.1', () => process.stdout.write(`demo receiver on http://127.0.0.1:${port}\n`));
