import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

/** One request the receiver got, and whether an independent Standard Webhooks implementation verified it. */
export interface ReceivedWebhook {
  readonly path: string;
  readonly webhookId: string;
  readonly timestamp: string;
  readonly signature: string;
  readonly body: string;
  /** The body as the `standardwebhooks` package (the specification's reference library) verified and parsed it; null if it did not verify. */
  readonly verified: { readonly type: string; readonly timestamp: string; readonly data: Record<string, unknown> } | null;
  readonly verifyError: string | null;
  readonly receivedAt: number;
}

/** What an endpoint answers: a status, after an optional delay; `hang` never answers (the sender's timeout ends it). */
export type EndpointBehaviour = (request: { readonly attempt: number; readonly webhookId: string }) => { readonly status: number; readonly delayMs?: number } | 'hang';

/**
 * A local webhook receiver for the e2e specs: each path is an endpoint with its own secret and
 * behaviour, and every request is verified with the `standardwebhooks` package from npm, which
 * shares no code with the service's signer.
 */
export class WebhookReceiver {
  readonly received: ReceivedWebhook[] = [];
  private readonly endpoints = new Map<string, { secrets: string[]; behaviour: EndpointBehaviour }>();
  private readonly attempts = new Map<string, number>();
  private readonly hanging = new Set<ServerResponse>();
  private server: Server | null = null;

  async start(): Promise<void> {
    this.server = createServer((request, response) => void this.handle(request, response));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
  }

  url(path: string): string {
    return `http://127.0.0.1:${(this.server!.address() as AddressInfo).port}${path}`;
  }

  /** Registers (or changes) an endpoint: the secrets it verifies with (several during a rotation), and how it answers. */
  endpoint(path: string, secrets: readonly string[], behaviour: EndpointBehaviour = () => ({ status: 204 })): void {
    this.endpoints.set(path, { secrets: [...secrets], behaviour });
  }

  at(path: string): ReceivedWebhook[] {
    return this.received.filter((r) => r.path === path);
  }

  async stop(): Promise<void> {
    for (const response of this.hanging) response.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const path = request.url ?? '/';
    const header = (name: string) => String(request.headers[name] ?? '');
    const endpoint = this.endpoints.get(path);
    let verified: ReceivedWebhook['verified'] = null;
    let verifyError: string | null = null;
    for (const secret of endpoint?.secrets ?? []) {
      try {
        verified = new Webhook(secret).verify(body, { 'webhook-id': header('webhook-id'), 'webhook-timestamp': header('webhook-timestamp'), 'webhook-signature': header('webhook-signature') }) as ReceivedWebhook['verified'];
        verifyError = null;
        break;
      } catch (error) {
        verifyError = (error as Error).message;
      }
    }
    const webhookId = header('webhook-id');
    this.received.push({ path, webhookId, timestamp: header('webhook-timestamp'), signature: header('webhook-signature'), body, verified, verifyError, receivedAt: Date.now() });
    const attempt = (this.attempts.get(`${path} ${webhookId}`) ?? 0) + 1;
    this.attempts.set(`${path} ${webhookId}`, attempt);
    const answer = endpoint ? endpoint.behaviour({ attempt, webhookId }) : { status: 404 };
    if (answer === 'hang') {
      this.hanging.add(response);
      response.on('close', () => this.hanging.delete(response));
      return;
    }
    if (answer.delayMs) await new Promise((resolve) => setTimeout(resolve, answer.delayMs));
    response.writeHead(answer.status, { 'content-type': 'text/plain' }).end(answer.status < 300 ? 'ok' : 'no');
  }
}
