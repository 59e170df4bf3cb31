import { EVENT_SCHEMAS, type ExecutionRequested } from '@flotilla/contracts';
import { AvroSerde, EventPublisher } from '@flotilla/messaging';
import { stack, startFlotilla, testKafka, uniqueNamespace, waitFor, type Flotilla } from '@flotilla/testing';
import type { Consumer } from 'kafkajs';
import { execFile, execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { token } from './support/tokens';

/**
 * The services outlive their dependencies restarting. While executions stream in (through HTTP and
 * through Kafka), PostgreSQL is SIGKILLed and started again, then the Kafka broker is. No service is
 * restarted by the test: each keeps its pid, reports not ready (naming the dependency) while it is
 * away, becomes ready again by itself, and every execution completes exactly once, with nothing
 * dead-lettered.
 *
 * It restarts the shared native stack (deploy/native/stack): it disturbs whatever else runs on it at
 * the same time, which is why the e2e tier runs its files one at a time; two runs of this file on one
 * machine take turns (a lock beside the stack's pid files). With a stack it cannot restart
 * (containers, or one given through the environment) it is skipped.
 */
const STACK = path.resolve(__dirname, '../../deploy/native/stack');
const onNativeStack = (() => {
  try {
    return execFileSync(STACK, ['env'], { encoding: 'utf8' }).includes(`DATABASE_URL=${process.env.DATABASE_URL}\n`);
  } catch {
    return false;
  }
})();

type Service = 'orchestrator' | 'agent-pool' | 'projection';
const SERVICES: readonly Service[] = ['orchestrator', 'agent-pool', 'projection'];

(onNativeStack ? describe : describe.skip)('dependency restarts: PostgreSQL and Kafka restart under the running services', () => {
  let flotilla: Flotilla<Service>;
  let ops = '';
  const kafka = testKafka('dependency-restart');
  const serde = AvroSerde.create(stack.registryUrl, EVENT_SCHEMAS);
  const publisher = new EventPublisher(kafka, serde);
  let tail: Consumer | null = null;

  let unlock: () => void = () => undefined;

  beforeAll(async () => {
    unlock = await exclusively(path.join(process.env.FLOTILLA_HOME ?? path.join(os.homedir(), '.flotilla'), 'run', 'dependency-restart.lock'));
    ops = await token({ role: 'ops', sub: 'dependency-restart' });
    flotilla = await startFlotilla({
      namespacePrefix: 'dep',
      services: [...SERVICES],
      settings: { all: { SYNTHETIC_MIN_DURATION_MS: '20', SYNTHETIC_MAX_DURATION_MS: '80', ADMISSION_CAPACITY: '50', ADMISSION_PER_CUSTOMER_LIMIT: '50', RATE_LIMIT_PER_SECOND: '10000' } },
    });
    await publisher.connect();
  });
  afterAll(async () => {
    // Whatever happened above, the stack is left running for the next file.
    if (disturbed) await stackCommand('up').catch((error) => process.stderr.write(`stack up after the dependency restarts failed: ${(error as Error).message}\n`));
    await tail?.disconnect().catch(() => undefined);
    await publisher.disconnect().catch(() => undefined);
    await flotilla?.stop();
    unlock();
  });

  let disturbed = false;
  const stackCommand = async (...args: string[]): Promise<void> => {
    disturbed = true;
    await promisify(execFile)(STACK, args, { timeout: 180_000 });
  };

  const readiness = async (service: Service): Promise<{ status: number; checks: Record<string, string> }> => {
    const response = await fetch(`${flotilla.url(service)}/ready`, { signal: AbortSignal.timeout(5_000) });
    return { status: response.status, checks: ((await response.json()) as { checks: Record<string, string> }).checks };
  };
  const allReady = async () => (await Promise.all(SERVICES.map(readiness))).every((r) => r.status === 200);
  /** Every service reports `dependency` ok (the others may still be coming back). */
  const allSee = (dependency: string) => async () => (await Promise.all(SERVICES.map(readiness))).every((r) => r.checks[dependency] === 'ok');
  /** Every service answers /ready with 503, naming `dependency` unreachable. */
  const allReport = (dependency: string) => async () => (await Promise.all(SERVICES.map(readiness))).every((r) => r.status === 503 && r.checks[dependency]?.startsWith('unreachable'));

  it('keeps every service running, reports the outage in /ready, and completes every execution exactly once', async () => {
    const pids = Object.fromEntries(SERVICES.map((s) => [s, listenerPid(flotilla.process(s).port)]));
    expect(Object.values(pids).every((pid) => pid !== null)).toBe(true);

    // Every ExecutionCompleted on the executions topic, by execution: event ids and message count.
    const completed = new Map<string, { eventIds: Set<string>; messages: number }>();
    tail = kafka.consumer({ groupId: `tail-${uniqueNamespace()}`, maxWaitTimeInMs: 100 });
    await tail.connect();
    await tail.subscribe({ topic: flotilla.topic('flotilla.executions'), fromBeginning: true });
    await tail.run({
      eachMessage: async ({ message }) => {
        if (message.headers?.['flotilla-event-type']?.toString() !== 'flotilla.execution.ExecutionCompleted') return;
        const id = message.key!.toString();
        const seen = completed.get(id) ?? { eventIds: new Set<string>(), messages: 0 };
        seen.eventIds.add(message.headers['flotilla-event-id']!.toString());
        seen.messages++;
        completed.set(id, seen);
      },
    });

    // Two producers that never give up, as real ones would: HTTP (retried until accepted; the request
    // is idempotent by execution id) and Kafka (the request topic).
    const ids: string[] = [];
    let submitting = true;
    const request = (executionId: string, i: number) => ({
      executionId,
      customerId: `customer-${i % 5}`,
      kind: 'custom',
      tasks: [
        { taskId: 'a', agentType: 'code_gen', dependsOn: [] },
        { taskId: 'b', agentType: 'review', dependsOn: ['a'] },
      ],
    });
    const overHttp = (async () => {
      for (let i = 0; submitting; i++) {
        const executionId = `dep-http-${i}-${randomUUID().slice(0, 8)}`;
        ids.push(executionId);
        for (;;) {
          const status = await fetch(`${flotilla.url('orchestrator')}/v1/executions`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${ops}` },
            body: JSON.stringify(request(executionId, i)),
            signal: AbortSignal.timeout(10_000),
          }).then((r) => r.status, () => 0);
          if (status === 202) break;
          expect(status === 0 || status >= 500).toBe(true); // refused only while a dependency is away, never as a bad request
          await sleep(250);
        }
        await sleep(200);
      }
    })();
    const overKafka = (async () => {
      for (let i = 0; submitting; i++) {
        const executionId = `dep-kafka-${i}-${randomUUID().slice(0, 8)}`;
        ids.push(executionId);
        const { tasks, ...rest } = request(executionId, i);
        const payload: ExecutionRequested = { ...rest, tasks: tasks.map((t) => ({ ...t, input: {} })), contractValue: null, deadlineAt: null, tier: null, requestedAt: Date.now() };
        const envelope = { eventId: randomUUID(), eventType: 'flotilla.execution.ExecutionRequested', aggregateId: executionId, aggregateVersion: 1, occurredAt: Date.now(), correlationId: executionId, causationId: null, traceparent: null, tracestate: null, payload };
        for (;;) {
          const sent = await publisher.publish([{ topic: flotilla.topic('flotilla.execution-requests'), key: executionId, envelope }]).then(() => true, () => false);
          if (sent) break;
          await sleep(250);
        }
        await sleep(200);
      }
    })();

    const timings: Record<string, number> = {};
    // Each phase runs under load: it waits until more executions have gone in, not for a fixed time.
    const underLoad = (count: number) => {
      const from = ids.length;
      return waitFor(`${count} more executions submitted`, () => ids.length >= from + count, { timeoutMs: 60_000, intervalMs: 50 });
    };
    await underLoad(10);

    // PostgreSQL: SIGKILL of the postmaster, as in a crash; every service says so, then it comes back.
    await stackCommand('kill', 'postgres');
    await waitFor('every service to report PostgreSQL unreachable', allReport('postgres'), { timeoutMs: 15_000, intervalMs: 100 });
    await stackCommand('restart', 'postgres');
    let back = Date.now();
    await waitFor('every service to reach PostgreSQL again', allSee('postgres'), { timeoutMs: 60_000, intervalMs: 100 });
    timings.postgresOkAfterMs = Date.now() - back;
    await waitFor('every service to be ready again after PostgreSQL returned', allReady, { timeoutMs: 60_000, intervalMs: 100 });
    timings.readyAfterPostgresMs = Date.now() - back;
    await underLoad(10);

    // The Kafka broker: the same.
    await stackCommand('kill', 'kafka');
    await waitFor('every service to report Kafka unreachable', allReport('kafka'), { timeoutMs: 15_000, intervalMs: 100 });
    await stackCommand('restart', 'kafka');
    back = Date.now();
    await waitFor('every service to reach Kafka again', allSee('kafka'), { timeoutMs: 60_000, intervalMs: 100 });
    timings.kafkaOkAfterMs = Date.now() - back;
    await waitFor('every service to be ready again after Kafka returned', allReady, { timeoutMs: 120_000, intervalMs: 100 });
    timings.readyAfterKafkaMs = Date.now() - back;
    await underLoad(10);

    submitting = false;
    await Promise.all([overHttp, overKafka]);
    process.stdout.write(`dependency restarts: ${ids.length} executions; ${JSON.stringify(timings)}\n`);

    await waitFor(`all ${ids.length} executions to complete`, () => ids.every((id) => completed.has(id)), { timeoutMs: 240_000, intervalMs: 500 });
    // Exactly once: one ExecutionCompleted event per execution (a relay interrupted between publishing
    // and deleting publishes the same event again, which its consumers drop by event id).
    for (const id of ids) expect({ id, completions: completed.get(id)!.eventIds.size }).toEqual({ id, completions: 1 });
    const republished = [...completed.values()].reduce((n, c) => n + c.messages - c.eventIds.size, 0);
    if (republished > 0) process.stdout.write(`dependency restarts: ${republished} ExecutionCompleted message(s) republished by a relay (same event id)\n`);

    // The read model shows every one completed, both tasks included.
    await waitFor('the projection to show every execution completed', async () => {
      const views = await listExecutions(flotilla.url('projection'), ops);
      return ids.every((id) => views.get(id)?.status === 'completed' && views.get(id)!.tasks.every((t) => t.status === 'completed'));
    }, { timeoutMs: 120_000, intervalMs: 1_000 });

    // Nothing was dead-lettered for the outages.
    expect(await deadLettered(flotilla)).toEqual({});

    // The same processes all along.
    for (const service of SERVICES) {
      expect({ service, pid: listenerPid(flotilla.process(service).port) }).toEqual({ service, pid: pids[service] });
      expect({ service, health: (await fetch(`${flotilla.url(service)}/health`)).status }).toEqual({ service, health: 200 });
    }
  });
});

/**
 * Waits until this process holds the lock (a directory, created atomically, with the holder's pid in
 * it; a holder that died leaves it stale and it is taken over), then returns what releases it.
 */
async function exclusively(lock: string, timeoutMs = 600_000): Promise<() => void> {
  const owner = path.join(lock, 'pid');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      fs.mkdirSync(lock);
      fs.writeFileSync(owner, String(process.pid));
      return () => fs.rmSync(lock, { recursive: true, force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = Number(fs.existsSync(owner) ? fs.readFileSync(owner, 'utf8') : NaN);
    let alive = true;
    try {
      process.kill(holder, 0);
    } catch {
      alive = false;
    }
    // No pid yet: the holder is between mkdir and writing it; give it a moment before calling it stale.
    const age = (() => {
      try {
        return Date.now() - fs.statSync(lock).mtimeMs;
      } catch {
        return 0; // released meanwhile
      }
    })();
    if (!alive && (Number.isFinite(holder) || age > 5_000)) fs.rmSync(lock, { recursive: true, force: true });
    if (Date.now() > deadline) throw new Error(`another run of this spec still holds ${lock}`);
    await sleep(1_000);
  }
}

type View = { executionId: string; status: string; tasks: { taskId: string; status: string }[] };

async function listExecutions(projection: string, token: string): Promise<Map<string, View>> {
  const views = new Map<string, View>();
  let cursor: string | null = null;
  do {
    const response = await fetch(`${projection}/v1/executions?limit=200${cursor ? `&cursor=${cursor}` : ''}`, { headers: { authorization: `Bearer ${token}` } });
    const page = (await response.json()) as { items: View[]; nextCursor: string | null };
    for (const view of page.items) views.set(view.executionId, view);
    cursor = page.nextCursor;
  } while (cursor);
  return views;
}

/** Messages on the namespace's dead-letter topics, by topic (empty when none). */
async function deadLettered(flotilla: Flotilla<Service>): Promise<Record<string, number>> {
  const admin = testKafka('dependency-restart-dlq').admin();
  await admin.connect();
  try {
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(`${flotilla.namespace}.`) && t.endsWith('.dlq'));
    const counts: Record<string, number> = {};
    for (const topic of topics) {
      const n = (await admin.fetchTopicOffsets(topic)).reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
      if (n > 0) counts[topic] = n;
    }
    return counts;
  } finally {
    await admin.disconnect();
  }
}

/** The pid of the process listening on a local TCP port (from /proc: the socket's inode, then whose fd it is). */
function listenerPid(port: number): number | null {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    if (!fs.existsSync(table)) continue;
    for (const line of fs.readFileSync(table, 'utf8').split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      // local_address is hex ip:port; state 0A is LISTEN; the inode is the tenth field.
      if (fields.length > 9 && fields[3] === '0A' && parseInt(fields[1].split(':')[1], 16) === port) inodes.add(fields[9]);
    }
  }
  for (const pid of fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    let fds: string[];
    try {
      fds = fs.readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const target = fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
        const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
        if (inode && inodes.has(inode)) return Number(pid);
      } catch {
        // closed meanwhile
      }
    }
  }
  return null;
}
