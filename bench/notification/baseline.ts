// The baseline of bench:notification: a bare loop of HTTP POSTs from the bench to the same receiver,
// with what a webhook costs the sender and nothing of the platform. undici's request() through a
// keep-alive Agent (as the service's WebhookSender), `concurrency` requests in flight, bodies exactly
// as long as the service's (its first delivery's body with another run tag of the same width), and
// each request signed per Standard Webhooks (HMAC-SHA256 of id.timestamp.body under a whsec_ key,
// the same three headers): no Kafka, no PostgreSQL, no lease, no record of the attempt.
import { createHmac, randomBytes } from 'node:crypto';
import { Agent, request } from 'undici';
import { monotonicMs, parseTag, taggedId } from './protocol';

export interface BaselineOptions {
  readonly tag: string;
  readonly urls: readonly string[];
  readonly requests: number;
  readonly concurrency: number;
  /** A body the service sent (tagged): the baseline sends bodies of exactly its length. */
  readonly sampleBody: string;
}

export async function postLoop({ tag, urls, requests, concurrency, sampleBody }: BaselineOptions): Promise<void> {
  const sampled = parseTag(sampleBody);
  if (!sampled) throw new Error('the sample body carries no run tag');
  const sampleId = /"executionId":"([^"]+)"/.exec(sampleBody)![1];
  const key = randomBytes(32);
  // Enough connections per origin that no request waits for one: only `concurrency` limits.
  const agent = new Agent({ connections: concurrency, keepAliveTimeout: 60_000 });
  let next = 0;
  const worker = async () => {
    while (next < requests) {
      const seq = next++;
      const sentAt = monotonicMs();
      const body = sampleBody.replace(sampleId, taggedId(tag, seq, sentAt));
      if (body.length !== sampleBody.length) throw new Error(`baseline body of ${body.length} bytes, the service's of ${sampleBody.length}`);
      const id = `msg_${seq.toString(16).padStart(32, '0')}`;
      const timestamp = Math.floor(Date.now() / 1000);
      const signature = `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest('base64')}`;
      const response = await request(urls[seq % urls.length], {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'Flotilla-Webhooks/1', 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': signature },
        body,
        dispatcher: agent,
      });
      await response.body.dump();
      if (response.statusCode !== 204) throw new Error(`the receiver answered ${response.statusCode}`);
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrency }, worker));
  } finally {
    await agent.close();
  }
}
