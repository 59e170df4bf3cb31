// The notification service under bench:notification: one process on the stack in a namespace of its
// own (as startFlotilla starts it, with extra node arguments when profiling), subscriptions made over
// its API, events published to flotilla.executions as the orchestrator's outbox would, and the
// database asked whether every delivery was recorded.
import { signToken } from '@flotilla/service-kit';
import { allocatePort, ServiceProcess, stack, testKafka, uniqueNamespace, waitFor } from '@flotilla/testing';
import { existsSync, mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { Pool } from 'pg';
import { EventDriver } from '../../test/e2e/support/event-driver';
import { processCpuMs } from './machine';
import { monotonicMs, taggedId } from './protocol';

export interface ServiceOptions {
  /** DELIVERY_CONCURRENCY; the service's default when absent. */
  readonly concurrency?: number;
  /** DELIVERY_CONCURRENCY_PER_SUBSCRIPTION; the service's default when absent. */
  readonly perSubscription?: number;
  /** The service's database; the stack's by default. */
  readonly databaseUrl?: string;
  /** Set: the service writes a V8 CPU profile here when it stops, and statement timings (sql-timing.ts). */
  readonly profileDir?: string;
}

export interface Subscribed {
  readonly subscriptionId: string;
  readonly secret: string;
}

const PUBLISH_CHUNK = 1_000;

export class NotificationService {
  readonly namespace = uniqueNamespace('bntf');
  readonly schema = `${this.namespace}_notification`.replace(/[^a-zA-Z0-9_]/g, '_').toLowerCase();
  /** The service's connections are named so, so that pg_stat_activity tells them from everyone else's. */
  readonly applicationName = `bench-${this.namespace}`.slice(0, 63);
  private process: ServiceProcess | null = null;
  private driver: EventDriver | null = null;
  private ops = '';
  private sqlSnapshots = 0;
  private stopped: Promise<void> | null = null;
  /** The service's database, for the bench's own questions (and the profile's). */
  readonly db: Pool;

  constructor(private readonly options: ServiceOptions) {
    this.db = new Pool({ connectionString: options.databaseUrl ?? stack.databaseUrl, max: 2 });
  }

  get pid(): number | undefined {
    return this.process?.pid;
  }

  get log(): string {
    return this.process?.log ?? '';
  }

  async start(): Promise<void> {
    const url = new URL(this.options.databaseUrl ?? stack.databaseUrl);
    url.searchParams.set('application_name', this.applicationName);
    const env: Record<string, string> = {
      FLOTILLA_NAMESPACE: this.namespace,
      DATABASE_URL: url.toString(),
      LOG_LEVEL: 'warn',
      WEBHOOK_ALLOW_HTTP: 'true',
      WEBHOOK_ALLOW_PRIVATE: 'true',
      ...(this.options.concurrency === undefined ? {} : { DELIVERY_CONCURRENCY: String(this.options.concurrency) }),
      ...(this.options.perSubscription === undefined ? {} : { DELIVERY_CONCURRENCY_PER_SUBSCRIPTION: String(this.options.perSubscription) }),
    };
    let nodeArgs: string[] = [];
    const { profileDir } = this.options;
    if (profileDir) {
      mkdirSync(profileDir, { recursive: true });
      // swc first, so that the preload (TypeScript) compiles; the service's own `-r @swc-node/register` then finds it loaded.
      nodeArgs = ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, '-r', '@swc-node/register', '-r', path.join(__dirname, 'sql-timing.ts')];
      env.BENCH_SQL_TIMING_FILE = path.join(profileDir, 'sql');
      env.BENCH_SQL_SCHEMA = this.schema;
    }
    this.process = new ServiceProcess('notification', await allocatePort(), env, { logName: `${this.namespace}-notification`, nodeArgs });
    await this.process.start();
    this.driver = new EventDriver(this.namespace);
    await this.driver.connect();
    this.ops = await signToken({ role: 'ops', sub: 'bench-notification' });
  }

  /** An ops subscription for `customerId`'s events, to `url`. */
  async subscribe(customerId: string, url: string): Promise<Subscribed> {
    const response = await fetch(`${this.process!.url}/v1/subscriptions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${this.ops}`, 'content-type': 'application/json' },
      body: JSON.stringify({ url, customerId, description: `bench ${customerId}`, filter: { eventTypes: ['flotilla.execution.ExecutionCompleted'] } }),
    });
    const body = (await response.json()) as { secret?: string; subscription?: { subscriptionId?: string } };
    if (response.status !== 201 || !body.secret || !body.subscription?.subscriptionId) throw new Error(`subscribing answered ${response.status}: ${JSON.stringify(body)}`);
    return { subscriptionId: body.subscription.subscriptionId, secret: body.secret };
  }

  /**
   * `events` ExecutionCompleted of `customerId`, each keyed by its own execution (as the orchestrator
   * publishes them: spread over the partitions), numbered from `firstSeq`, published at once in
   * chunks; each carries its publish time (monotonic, taken just before its chunk is encoded and
   * sent) in its execution id.
   */
  async publish(tag: string, customerId: string, events: number, firstSeq = 0): Promise<void> {
    for (let from = 0; from < events; from += PUBLISH_CHUNK) {
      const publishedAt = monotonicMs();
      const wallMs = Date.now();
      await this.driver!.publish(
        Array.from({ length: Math.min(PUBLISH_CHUNK, events - from) }, (_, i) => {
          const executionId = taggedId(tag, firstSeq + from + i, publishedAt);
          return { topic: 'flotilla.executions', key: executionId, type: 'flotilla.execution.ExecutionCompleted', payload: { executionId, customerId, completedAt: wallMs, durationMs: 1_000, startedAttempts: [] } };
        }),
      );
    }
  }

  /** `events` published at a steady `perSecond`, in small groups every 20 ms, not at once. */
  async publishPaced(tag: string, customerId: string, events: number, perSecond: number): Promise<void> {
    const started = monotonicMs();
    for (let sent = 0; sent < events; ) {
      const due = Math.min(events, Math.floor(((monotonicMs() - started) / 1000) * perSecond) + 1);
      if (due > sent) {
        await this.publish(tag, customerId, due - sent, sent);
        sent = due;
      }
      await new Promise((resolve) => setTimeout(resolve, 20)); // pacing: the publishing schedule itself
    }
  }

  /** Deliveries not yet finished and events not yet relayed, in the service's tables. */
  async unfinished(): Promise<{ readonly pending: number; readonly outbox: number }> {
    const { rows } = await this.db.query(
      `SELECT (SELECT count(*) FROM ${this.schema}.deliveries WHERE status = 'pending')::int AS pending, (SELECT count(*) FROM ${this.schema}.outbox)::int AS outbox`,
    );
    return rows[0];
  }

  /** Until every delivery is recorded and every event it produced relayed: the next run starts on a quiet service. */
  async settled(timeoutMs = 120_000): Promise<void> {
    await waitFor(`every delivery recorded and relayed in ${this.schema}`, async () => {
      const { pending, outbox } = await this.unfinished();
      if (pending + outbox > 0) throw new Error(`${pending} pending, ${outbox} in the outbox`);
      return true;
    }, { timeoutMs, intervalMs: 50 });
  }

  /** Over every delivery so far: how many took more than one attempt, and how many did not succeed. */
  async outcomes(): Promise<{ readonly deliveries: number; readonly retried: number; readonly notSucceeded: number }> {
    const { rows } = await this.db.query(
      `SELECT count(*)::int AS deliveries, count(*) FILTER (WHERE attempts > 1)::int AS retried, count(*) FILTER (WHERE status <> 'succeeded')::int AS "notSucceeded" FROM ${this.schema}.deliveries`,
    );
    return rows[0];
  }

  cpuMs(): number {
    return this.pid === undefined ? NaN : processCpuMs(this.pid);
  }

  /** Asks the statement timer (profile only) for a snapshot; its file's path once written. */
  async sqlSnapshot(): Promise<string> {
    const file = `${path.join(this.options.profileDir!, 'sql')}.${this.sqlSnapshots++}.json`;
    // SIGWINCH: ignored by default, and not one of the signals Nest's shutdown hooks take (SIGUSR2 is).
    process.kill(this.pid!, 'SIGWINCH');
    await waitFor(`the statement timings in ${file}`, () => existsSync(file), { timeoutMs: 10_000, intervalMs: 20 });
    return file;
  }

  /** Stops the service (SIGTERM: a profile is written then), and drops its topics and schema. */
  stop(): Promise<void> {
    this.stopped ??= this.stopOnce();
    return this.stopped;
  }

  private async stopOnce(): Promise<void> {
    await this.driver?.disconnect().catch(() => undefined);
    await this.process?.stop();
    try {
      const admin = testKafka(`bench-${this.namespace}`).admin();
      await admin.connect();
      const topics = (await admin.listTopics()).filter((t) => t.startsWith(`${this.namespace}.`));
      if (topics.length > 0) await admin.deleteTopics({ topics, timeout: 30_000 });
      await admin.disconnect();
      await this.db.query(`DROP SCHEMA IF EXISTS ${this.schema} CASCADE`);
    } catch {
      // Best effort: the test runs' prune takes what is left.
    }
    await this.db.end();
  }
}
