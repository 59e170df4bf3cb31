import { startFlotilla, testPool, waitFor, type Flotilla } from '@flotilla/testing';
import { Partitioners } from 'kafkajs';
import { randomUUID } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import { EventDriver, type TopicTail } from './support/event-driver';
import { token } from './support/tokens';

/**
 * The orchestrator applies the commands it consumes together in one transaction. When another writer
 * (an instance that owned the partition before a rebalance, say) appended to one of those streams in
 * the meantime, that transaction must still commit the other streams' changes, and the stream in
 * conflict must be decided again on top of what the other writer stored: nothing lost, nothing
 * applied twice, nothing of the abandoned try published.
 *
 * Here the test is the other writer: it holds an uncommitted SlaViolated at execution X's next
 * version while the task reports of X, Y and Z arrive in one fetch, waits until PostgreSQL shows the
 * orchestrator's transaction blocked on that row, then commits. The test also plays the agent pool
 * (no pool runs), so that the three reports arrive exactly when it chooses.
 */
describe('a command batch with a version conflict', () => {
  let flotilla: Flotilla<'orchestrator'>;
  let driver: EventDriver;
  let executions: TopicTail<Record<string, unknown>>;
  let pool: Pool;
  let opsToken = '';

  beforeAll(async () => {
    opsToken = await token({ role: 'ops' });
    flotilla = await startFlotilla({
      namespacePrefix: 'conflict',
      services: ['orchestrator'],
      executionSettings: {
        workflows: {},
        defaultRetryPolicy: { initialIntervalMs: 1_000, backoffCoefficient: 2, maximumIntervalMs: 10_000, maximumAttempts: 3, nonRetryableErrorKinds: [] },
        // Nothing but the reports the test sends may write to these executions: no timer fires.
        defaultTimeouts: { scheduleToStartMs: 600_000, startToCloseMs: 600_000, heartbeatMs: 600_000 },
        admission: { capacity: 50, perCustomerLimit: 50 },
      },
    });
    driver = new EventDriver(flotilla.namespace);
    await driver.connect();
    executions = await driver.tail('flotilla.executions');
    pool = testPool(3);
  });
  afterAll(async () => {
    await executions?.stop();
    await driver?.disconnect();
    await pool?.end();
    await flotilla?.stop();
  });

  const schema = () => flotilla.schema('orchestrator');
  const streamOf = (executionId: string) => `Execution-${executionId}`;
  const streamEvents = async (executionId: string) =>
    (await pool.query(`SELECT stream_version, event_type, xmin::text AS xid FROM ${schema()}.events WHERE stream_id = $1 ORDER BY stream_version`, [streamOf(executionId)])).rows as {
      stream_version: number;
      event_type: string;
      xid: string;
    }[];

  /** Execution ids whose task reports land on the same partition of the task-events topic, so one fetch holds them all. */
  async function samePartitionIds(count: number): Promise<string[]> {
    const topic = flotilla.topic('flotilla.task-events');
    const admin = driver.kafka.admin();
    await admin.connect();
    const [{ partitions }] = (await admin.fetchTopicMetadata({ topics: [topic] }).finally(() => admin.disconnect())).topics;
    const partitionOf = Partitioners.DefaultPartitioner();
    const byPartition = new Map<number, string[]>();
    for (;;) {
      const id = randomUUID();
      const partition = partitionOf({ topic, partitionMetadata: partitions, message: { key: id, value: null } });
      const ids = [...(byPartition.get(partition) ?? []), id];
      if (ids.length === count) return ids;
      byPartition.set(partition, ids);
    }
  }

  async function submit(executionId: string): Promise<void> {
    const response = await fetch(`${flotilla.url('orchestrator')}/v1/executions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${opsToken}` },
      body: JSON.stringify({ executionId, customerId: 'acme', kind: 'custom', tasks: [{ taskId: 'work', agentType: 'code_gen' }] }),
    });
    expect(response.status).toBe(202);
  }

  const taskCompleted = (executionId: string) => ({
    topic: 'flotilla.task-events',
    key: executionId,
    type: 'flotilla.task.TaskCompleted',
    eventId: randomUUID(),
    payload: { executionId, customerId: 'acme', taskId: 'work', attempt: 1, agentType: 'code_gen', workerId: 'conflict-test', output: {}, usage: { cpuTimeMs: 1, peakRssBytes: 1, wallTimeMs: 1 }, completedAt: Date.now() },
  });

  it('commits the rest of the batch and decides the conflicting stream again on the other writer’s event', async () => {
    const [x, y, z] = await samePartitionIds(3);
    for (const id of [x, y, z]) await submit(id);
    await waitFor('the three tasks to be dispatched', async () => {
      for (const id of [x, y, z]) if (!(await streamEvents(id)).some((e) => e.event_type === 'flotilla.task.TaskDispatched')) return false;
      return true;
    });

    // The other writer: X's next version, not committed yet.
    const versionBefore = (await streamEvents(x)).length;
    const otherWriter: PoolClient = await pool.connect();
    let committed = false;
    try {
      const otherPid = (await otherWriter.query('SELECT pg_backend_pid() AS pid')).rows[0].pid as number;
      await otherWriter.query('BEGIN');
      await otherWriter.query(
        `INSERT INTO ${schema()}.events (stream_id, stream_version, event_id, event_type, data, metadata) VALUES ($1, $2, $3, 'flotilla.execution.SlaViolated', $4, $5)`,
        [
          streamOf(x),
          versionBefore + 1,
          randomUUID(),
          { executionId: x, customerId: 'acme', sla: 'queue_time', limitMs: 1, actualMs: 2, violatedAt: Date.now() },
          { occurredAt: Date.now(), correlationId: x, causationId: null, traceparent: null, tracestate: null },
        ],
      );

      const reports = [x, y, z].map(taskCompleted);
      await driver.publish(reports);

      // The orchestrator's batch reached X's next version and waits on the other writer's row.
      const blocked = await waitFor('the orchestrator to wait on the other writer', async () => {
        const { rows } = await pool.query(`SELECT backend_xid::text AS xid FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid)) AND backend_xid IS NOT NULL`, [otherPid]);
        return rows[0]?.xid as string | undefined;
      });
      await otherWriter.query('COMMIT');
      committed = true;

      await waitFor('the three executions to complete', async () => {
        for (const id of [x, y, z]) if (!(await streamEvents(id)).some((e) => e.event_type === 'flotilla.execution.ExecutionCompleted')) return false;
        return true;
      });

      // The blocked transaction committed Y and Z, and nothing of X.
      for (const id of [y, z]) {
        const ending = (await streamEvents(id)).filter((e) => e.xid === blocked).map((e) => e.event_type);
        expect(ending).toEqual(expect.arrayContaining(['flotilla.execution.TaskOutcomeRecorded', 'flotilla.execution.ExecutionCompleted']));
      }
      const xEvents = await streamEvents(x);
      expect(xEvents.filter((e) => e.xid === blocked)).toEqual([]);

      // X was decided again on top of the other writer's event, in a later transaction: its versions
      // have no gap, the SlaViolated sits where the other writer put it, and X completed once.
      expect(xEvents.map((e) => e.stream_version)).toEqual(xEvents.map((_, i) => i + 1));
      expect(xEvents[versionBefore].event_type).toBe('flotilla.execution.SlaViolated');
      expect(xEvents.slice(versionBefore + 1).map((e) => e.event_type)).toEqual(['flotilla.execution.TaskOutcomeRecorded', 'flotilla.execution.ExecutionCompleted']);

      // Each report was applied exactly once.
      const { rows: inbox } = await pool.query(`SELECT event_id FROM ${schema()}.inbox WHERE consumer = 'orchestrator.executions' AND event_id = ANY($1)`, [reports.map((r) => r.eventId)]);
      expect(inbox.map((r) => r.event_id).sort()).toEqual(reports.map((r) => r.eventId).sort());

      // Kafka saw each completion once: the abandoned try of X published nothing.
      await executions.caughtUp();
      await waitFor('the outbox to be empty', async () => (await pool.query(`SELECT count(*)::int AS n FROM ${schema()}.outbox`)).rows[0].n === 0);
      await executions.caughtUp();
      const completions = executions.events.filter((e) => e.type === 'flotilla.execution.ExecutionCompleted' && [x, y, z].includes(e.key!)).map((e) => e.key);
      expect(completions.sort()).toEqual([x, y, z].sort());
    } finally {
      if (!committed) await otherWriter.query('ROLLBACK').catch(() => undefined);
      otherWriter.release();
    }
  });
});
