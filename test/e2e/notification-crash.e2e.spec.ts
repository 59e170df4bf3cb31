import { startFlotilla, testPool, waitFor, type Flotilla } from '@flotilla/testing';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { EventDriver } from './support/event-driver';
import { token } from './support/tokens';
import { WebhookReceiver } from './support/webhook-receiver';

/**
 * SIGKILL of the notification service while it sends: no event is lost for any subscription, our
 * records hold exactly one delivery per (event, subscription), and the duplicate sends on the wire
 * (a request sent but not recorded before the kill goes out again, with the same webhook-id) are
 * counted and written to test-results/notification-crash.json.
 */
describe('notification: SIGKILL mid-delivery', () => {
  let flotilla: Flotilla<'notification'>;
  let driver: EventDriver;
  const receiver = new WebhookReceiver();
  const pool = testPool(1);

  beforeAll(async () => {
    await receiver.start();
    flotilla = await startFlotilla({
      namespacePrefix: 'ntfk',
      services: ['notification'],
      settings: {
        notification: {
          WEBHOOK_ALLOW_HTTP: 'true',
          WEBHOOK_ALLOW_PRIVATE: 'true',
          WEBHOOK_RETRY_SCHEDULE: '0,200ms,400ms,800ms,1s,1s',
          // A short timeout keeps the lease short: a killed worker's deliveries are taken over within seconds.
          WEBHOOK_TIMEOUT_MS: '1000',
          DELIVERY_POLL_MS: '50',
          DELIVERY_CONCURRENCY: '8',
        },
      },
    });
    driver = new EventDriver(flotilla.namespace);
    await driver.connect();
  });
  afterAll(async () => {
    await driver?.disconnect();
    await flotilla?.stop();
    await receiver.stop();
    await pool.end();
  });

  it('loses no event, records one delivery per (event, subscription), and counts the duplicate sends', async () => {
    const ops = await token({ role: 'ops', sub: 'ops-1' });
    const paths = ['/first', '/second'];
    for (const p of paths) {
      const created = await fetch(`${flotilla.url('notification')}/v1/subscriptions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ops}`, 'content-type': 'application/json' },
        body: JSON.stringify({ url: receiver.url(p), customerId: 'acme', filter: { eventTypes: ['flotilla.alert.AlertRaised'] } }),
      });
      const body = (await created.json()) as { secret: string };
      // Answers take 50–150 ms, so that a kill finds requests in flight.
      receiver.endpoint(p, [body.secret], () => ({ status: 204, delayMs: 50 + Math.floor(Math.random() * 100) }));
    }
    const events = 150;
    const alertIds = Array.from({ length: events }, () => `a-${randomUUID()}`);
    await driver.publish(
      alertIds.map((alertId) => ({
        topic: 'flotilla.alerts',
        key: alertId,
        type: 'flotilla.alert.AlertRaised',
        payload: { alertId, severity: 'warning', kind: 'sla_violated', source: 'test', customerId: 'acme', executionId: null, message: 'late', raisedAt: Date.now() },
      })),
    );
    const expected = events * paths.length;
    const unique = () => new Set(receiver.received.map((r) => `${r.path} ${r.webhookId}`)).size;

    // Three kills, each at a random point of what is left to send.
    const kills: { atUnique: number; atTotal: number }[] = [];
    for (let k = 0; k < 3; k++) {
      const target = Math.min(expected - 1, unique() + Math.ceil(Math.random() * (expected - unique()) * 0.3));
      await waitFor(`${target} deliveries before kill ${k + 1}`, () => unique() >= target, { timeoutMs: 60_000 });
      kills.push({ atUnique: unique(), atTotal: receiver.received.length });
      await flotilla.process('notification').kill('SIGKILL');
      await flotilla.process('notification').start();
    }
    await waitFor('every event at both endpoints', () => unique() === expected, { timeoutMs: 120_000 });
    await flotilla.settled({ services: ['notification'] });

    // Nothing lost: each alert reached each endpoint, and every request verified.
    for (const p of paths) {
      const alerts = new Set(receiver.at(p).map((r) => String(r.verified?.data.alertId)));
      expect(alerts).toEqual(new Set(alertIds));
    }
    expect(receiver.received.filter((r) => r.verifyError !== null)).toEqual([]);
    // Our records: exactly one delivery per (event, subscription), each delivered.
    const { rows } = await pool.query(`SELECT count(*)::int AS n, count(DISTINCT (event_id, subscription_id))::int AS pairs, count(*) FILTER (WHERE status = 'succeeded')::int AS succeeded FROM ${flotilla.schema('notification')}.deliveries`);
    expect(rows[0]).toEqual({ n: expected, pairs: expected, succeeded: expected });

    const duplicates = receiver.received.length - expected;
    const report = { events, subscriptions: paths.length, deliveries: expected, sent: receiver.received.length, duplicateSends: duplicates, kills };
    fs.mkdirSync(path.join(__dirname, '../../test-results'), { recursive: true });
    fs.writeFileSync(path.join(__dirname, '../../test-results/notification-crash.json'), `${JSON.stringify(report, null, 2)}\n`);
    process.stdout.write(`notification SIGKILL: ${duplicates} duplicate sends over ${expected} deliveries and ${kills.length} kills (at most the requests in flight at each kill: DELIVERY_CONCURRENCY 8)\n`);
    // At most what was in flight at each kill is sent twice.
    expect(duplicates).toBeLessThanOrEqual(8 * kills.length);
  });
});
