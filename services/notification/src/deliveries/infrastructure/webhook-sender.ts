import { Agent, request } from 'undici';
import type { AddressSettings } from '../../endpoints/domain/address-policy';
import { guardedLookup, type Resolver } from '../../endpoints/infrastructure/guarded-lookup';
import type { AttemptResult } from '../domain/delivery';
import type { WebhookRequest, WebhookTransport } from '../ports';

export interface WebhookSenderOptions {
  readonly timeoutMs: number;
  /** At most this much of an answer's body is read; the rest is not waited for. */
  readonly maxResponseBytes: number;
  readonly addresses: AddressSettings;
  /** For specs that play a DNS server; the system's resolver otherwise. */
  readonly resolver?: Resolver;
  /** Connections kept per origin (undici's pool), so that a burst to one endpoint reuses them. */
  readonly connectionsPerOrigin?: number;
}

/**
 * Sends one webhook with undici: the connection's own DNS lookup judges every address it would
 * connect to (guarded lookup, against rebinding), redirects are not followed (a 3xx is an answer,
 * and not a 2xx), the whole exchange is bounded by the timeout, and only the first bytes of the
 * answer are read. It never throws for the endpoint's sake: every way a request can go wrong is an
 * AttemptResult for the delivery's record.
 */
export class WebhookSender implements WebhookTransport {
  private readonly agent: Agent;

  constructor(private readonly options: WebhookSenderOptions) {
    this.agent = new Agent({
      connect: { lookup: guardedLookup(options.addresses, options.resolver), timeout: options.timeoutMs },
      connections: options.connectionsPerOrigin ?? 16,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
    });
  }

  async send(webhook: WebhookRequest): Promise<AttemptResult & { readonly responseExcerpt: string | null }> {
    const started = performance.now();
    const latencyMs = () => Math.round(performance.now() - started);
    try {
      const response = await request(webhook.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'Flotilla-Webhooks/1', ...webhook.headers },
        body: webhook.body,
        dispatcher: this.agent,
        signal: AbortSignal.timeout(this.options.timeoutMs),
        maxRedirections: 0,
      });
      const excerpt = await this.readSome(response.body);
      return { kind: 'answered', statusCode: response.statusCode, latencyMs: latencyMs(), responseExcerpt: excerpt };
    } catch (error) {
      return { kind: 'no_answer', error: describe(error, this.options.timeoutMs), latencyMs: latencyMs(), responseExcerpt: null };
    }
  }

  close(): Promise<void> {
    return this.agent.close();
  }

  /** Up to maxResponseBytes of the body, then the connection is let go: a receiver cannot make us read a gigabyte. */
  private async readSome(body: AsyncIterable<Buffer> & { destroy(): void }): Promise<string | null> {
    const chunks: Buffer[] = [];
    let read = 0;
    try {
      for await (const chunk of body) {
        const room = this.options.maxResponseBytes - read;
        if (room > 0) chunks.push(chunk.subarray(0, room));
        read += chunk.length;
        if (read >= this.options.maxResponseBytes) break;
      }
    } catch {
      // An answer whose body breaks off still answered: its status stands.
    } finally {
      body.destroy();
    }
    return read === 0 ? null : Buffer.concat(chunks).toString('utf8');
  }
}

function describe(error: unknown, timeoutMs: number): string {
  const e = error as { name?: string; code?: string; message?: string; cause?: { code?: string; message?: string } };
  const cause = e.cause ?? e;
  if (e.name === 'TimeoutError' || e.name === 'AbortError' || cause.code === 'UND_ERR_HEADERS_TIMEOUT' || cause.code === 'UND_ERR_CONNECT_TIMEOUT') return `no answer within ${timeoutMs} ms`;
  if (cause.code === 'ESSRF' || e.code === 'ESSRF') return `address refused: ${cause.message ?? e.message}`;
  return `${cause.code ?? e.code ?? 'error'}: ${cause.message ?? e.message ?? String(error)}`.slice(0, 500);
}
