// The webhook receiver of bench:notification, run as a child process (receiver.ts forks it) so that
// it shares no event loop with the bench: one plain node:http server per endpoint, each on its own
// port of 127.0.0.1 (an origin of its own, as distinct subscribers' endpoints are), answering 204 as
// soon as a request's body has arrived. It verifies nothing: it notes, per run tag, when each request
// arrived and the publish time its body carries, and answers the bench's questions over IPC.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { monotonicMs, parseTag, type ReceiverAnswer, type ReceiverQuestion, type RunReceipts } from './protocol';

interface Run {
  readonly latencies: number[];
  readonly receivedAt: number[];
  readonly ids: Set<string>;
  duplicates: number;
  firstPublishedAt: number;
  lastReceivedAt: number;
  bytes: number;
  readonly perEndpoint: Map<number, number>;
  sample: RunReceipts['sample'];
}

const runs = new Map<string, Run>();
let untagged = 0;

function runOf(tag: string): Run {
  let run = runs.get(tag);
  if (!run) {
    run = { latencies: [], receivedAt: [], ids: new Set(), duplicates: 0, firstPublishedAt: Infinity, lastReceivedAt: 0, bytes: 0, perEndpoint: new Map(), sample: null };
    runs.set(tag, run);
  }
  return run;
}

function handle(endpoint: number, request: IncomingMessage, response: ServerResponse): void {
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    const receivedAt = monotonicMs();
    response.writeHead(204).end();
    const body = Buffer.concat(chunks).toString('utf8');
    const tagged = parseTag(body);
    if (!tagged) {
      untagged++;
      return;
    }
    const run = runOf(tagged.tag);
    const id = String(request.headers['webhook-id'] ?? '');
    if (run.ids.has(id)) {
      run.duplicates++;
      return;
    }
    run.ids.add(id);
    run.latencies.push(receivedAt - tagged.publishedAt);
    run.receivedAt.push(receivedAt);
    run.firstPublishedAt = Math.min(run.firstPublishedAt, tagged.publishedAt);
    run.lastReceivedAt = Math.max(run.lastReceivedAt, receivedAt);
    run.bytes += body.length;
    run.perEndpoint.set(endpoint, (run.perEndpoint.get(endpoint) ?? 0) + 1);
    run.sample ??= { headers: { 'webhook-id': id, 'webhook-timestamp': String(request.headers['webhook-timestamp'] ?? ''), 'webhook-signature': String(request.headers['webhook-signature'] ?? '') }, body, endpoint };
  });
}

function answer(question: ReceiverQuestion): ReceiverAnswer {
  switch (question.kind) {
    case 'count':
      return { kind: 'count', id: question.id, count: runs.get(question.tag)?.ids.size ?? 0 };
    case 'receipts': {
      const run = runs.get(question.tag);
      return {
        kind: 'receipts',
        id: question.id,
        receipts: run
          ? { count: run.ids.size, duplicates: run.duplicates, latencies: run.latencies, receivedAt: run.receivedAt, firstPublishedAt: run.firstPublishedAt, lastReceivedAt: run.lastReceivedAt, bytes: run.bytes, perEndpoint: [...run.perEndpoint], sample: run.sample, untagged }
          : { count: 0, duplicates: 0, latencies: [], receivedAt: [], firstPublishedAt: NaN, lastReceivedAt: NaN, bytes: 0, perEndpoint: [], sample: null, untagged },
      };
    }
    case 'forget':
      runs.delete(question.tag);
      return { kind: 'forgotten', id: question.id };
    default: {
      const never: never = question;
      throw new Error(`unknown question ${JSON.stringify(never)}`);
    }
  }
}

async function main(): Promise<void> {
  const endpoints = Number(process.argv[2] ?? 1);
  const servers: Server[] = [];
  for (let i = 0; i < endpoints; i++) {
    const server = createServer((request, response) => handle(i, request, response));
    // Every client connection is kept alive for the whole run: the service's undici agent and the baseline's alike.
    server.keepAliveTimeout = 60_000;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    servers.push(server);
  }
  process.on('message', (question: ReceiverQuestion) => process.send?.(answer(question)));
  process.on('disconnect', () => process.exit(0));
  process.send?.({ kind: 'listening', ports: servers.map((s) => (s.address() as AddressInfo).port) } satisfies ReceiverAnswer);
}

void main();
