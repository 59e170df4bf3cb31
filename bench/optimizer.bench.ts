// npm run bench:optimizer — the optimizer's cost ledger (task outcomes priced and recorded per second,
// each with its CostRecorded, ledger row, budget rows and inbox entry in one transaction) against raw
// kafkajs consumption of the same topic in the same run; then the budget guard's reservation round
// trip (request on flotilla.budget-commands → answer on flotilla.budgets), p50 and p99.
import { EVENT_SCHEMAS } from '@flotilla/contracts';
import { AvroSerde, EventPublisher, ensureTopics, type OutgoingEvent } from '@flotilla/messaging';
import { ServiceProcess, stack, uniqueNamespace } from '@flotilla/testing';
import { signToken } from '@flotilla/service-kit';
import { Kafka, logLevel } from 'kafkajs';
import { randomUUID } from 'node:crypto';
import { Pool } from 'pg';
import { ensureStack, fmt, median, percentile } from './support';

const REPORTS = Number(process.env.BENCH_REPORTS ?? 20_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const RESERVATIONS = Number(process.env.BENCH_RESERVATIONS ?? 300);

async function main() {
  await ensureStack();
  const namespace = uniqueNamespace('bopt');
  const kafka = new Kafka({ clientId: 'bench-optimizer', brokers: stack.kafkaBrokers, logLevel: logLevel.NOTHING });
  const topic = (name: string) => `${namespace}.${name}`;
  await ensureTopics(kafka, ['flotilla.task-events', 'flotilla.costs', 'flotilla.budgets', 'flotilla.budget-commands'].map((name) => ({ name: topic(name), partitions: 6, retentionMs: 3_600_000, compacted: false })));
  const serde = AvroSerde.create(stack.registryUrl, EVENT_SCHEMAS);
  await serde.registerAll();
  const publisher = new EventPublisher(kafka, serde);
  await publisher.connect();
  const pool = new Pool({ connectionString: stack.databaseUrl, max: 1 });
  const synchronousCommit = (await pool.query('SHOW synchronous_commit')).rows[0].synchronous_commit;

  // The backlog: REPORTS × ROUNDS task outcomes of 100 customers and 4 pools, as agent pools publish them.
  const agentTypes = ['code_gen', 'testing', 'review', 'analysis'];
  const envelope = (type: string, key: string, payload: unknown): OutgoingEvent => ({
    topic: topic(type.startsWith('flotilla.budget') ? 'flotilla.budget-commands' : 'flotilla.task-events'),
    key,
    envelope: { eventId: randomUUID(), eventType: type, aggregateId: key, aggregateVersion: 1, occurredAt: Date.now(), correlationId: key, causationId: null, traceparent: null, tracestate: null, payload },
  });
  const total = REPORTS * ROUNDS;
  for (let i = 0; i < total; i += 1_000) {
    await publisher.publish(
      Array.from({ length: Math.min(1_000, total - i) }, (_, j) => {
        const n = i + j;
        const executionId = `exec-${Math.floor(n / 3)}`;
        return envelope('flotilla.task.TaskCompleted', executionId, {
          executionId,
          customerId: `customer-${n % 100}`,
          taskId: `task-${n % 3}`,
          attempt: 1,
          agentType: agentTypes[n % agentTypes.length],
          workerId: 'bench',
          output: { tokens: String(100 + (n % 50)) },
          usage: { cpuTimeMs: 50 + (n % 200), peakRssBytes: 64 * 1024 * 1024, wallTimeMs: 100 + (n % 400) },
          completedAt: Date.now(),
        });
      }),
    );
  }

  // 1. Raw: a consumer group reading the whole backlog, doing nothing with it.
  const rawRates: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const consumer = kafka.consumer({ groupId: `${namespace}-raw-${round}`, maxWaitTimeInMs: 50 });
    await consumer.connect();
    await consumer.subscribe({ topic: topic('flotilla.task-events'), fromBeginning: true });
    let seen = 0;
    let first = 0;
    const done = new Promise<number>((resolve) => {
      void consumer.run({
        eachBatch: async ({ batch }) => {
          if (first === 0) first = performance.now();
          seen += batch.messages.length;
          if (seen >= total) resolve(performance.now());
        },
      });
    });
    const last = await done;
    rawRates.push(total / ((last - first) / 1000));
    await consumer.disconnect();
  }

  // 2. The ledger: the optimizer consumes the same backlog. Timed per segment of REPORTS costs, from
  // the first CostRecorded it publishes (its start-up is not counted).
  const costTimes: number[] = [];
  const watcher = kafka.consumer({ groupId: `${namespace}-costs`, maxWaitTimeInMs: 20 });
  await watcher.connect();
  await watcher.subscribe({ topics: [topic('flotilla.costs'), topic('flotilla.budgets')], fromBeginning: true });
  const answers = new Map<string, number>();
  const costIds = new Set<string>();
  await watcher.run({
    eachMessage: async ({ topic: from, message }) => {
      if (from === topic('flotilla.costs')) {
        // A republished CostRecorded (the relay after a crash) is one cost: counted once.
        const costId = message.headers?.['flotilla-aggregate-id']?.toString() ?? '';
        if (!costIds.has(costId)) {
          costIds.add(costId);
          costTimes.push(performance.now());
        }
        return;
      }
      const { payload } = await serde.decode(message.value);
      const reservationId = (payload as { reservationId?: string }).reservationId;
      if (reservationId && !answers.has(reservationId)) answers.set(reservationId, performance.now());
    },
  });
  const port = 40_000 + Math.floor(Math.random() * 10_000);
  const optimizer = new ServiceProcess('optimizer', port, { FLOTILLA_NAMESPACE: namespace, LOG_LEVEL: 'error' });
  await optimizer.start();
  try {
    while (costTimes.length < total) await new Promise((resolve) => setTimeout(resolve, 50)); // the watcher's count
    const ledgerRates: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const from = costTimes[round * REPORTS];
      const to = costTimes[(round + 1) * REPORTS - 1];
      ledgerRates.push((REPORTS - 1) / ((to - from) / 1000));
    }
    const { rows } = await pool.query(`SELECT count(*)::int AS n, sum(total_micros)::bigint AS micros FROM ${`${namespace}_optimizer`.replace(/[^a-zA-Z0-9_]/g, '_').toLowerCase()}.attempt_costs`);

    // 3. Reservations, one at a time against a budget with room for all of them.
    const ops = await signToken({ role: 'ops' });
    const put = await fetch(`http://127.0.0.1:${port}/v1/budgets/pool:code_gen`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ops}` },
      body: JSON.stringify({ period: 'monthly', amountMicros: 1_000_000_000_000, atExhaustion: 'deny_scale_ups' }),
    });
    if (put.status !== 200) throw new Error(`setting the budget answered ${put.status}`);
    const roundTrips: number[] = [];
    for (let i = 0; i < RESERVATIONS; i++) {
      const reservationId = `bench-${i}-${randomUUID()}`;
      const sent = performance.now();
      await publisher.publish([envelope('flotilla.budget.BudgetReservationRequested', 'pool:code_gen', { reservationId, budgetId: 'pool:code_gen', amountMicros: 1_000, expiresAt: Date.now() + 600_000, requestedBy: 'bench', requestedAt: Date.now() })]);
      while (!answers.has(reservationId)) await new Promise((resolve) => setTimeout(resolve, 1));
      roundTrips.push(answers.get(reservationId)! - sent);
    }
    roundTrips.sort((a, b) => a - b);

    const raw = median(rawRates);
    const ledger = median(ledgerRates);
    console.log(`\noptimizer benchmark: ${fmt(REPORTS)} task outcomes per round, ${ROUNDS} rounds (medians); PostgreSQL synchronous_commit = ${synchronousCommit}`);
    console.log(`  raw kafkajs consumption of flotilla.task-events   ${fmt(raw)} msgs/s   (rounds ${rawRates.map((r) => fmt(r)).join(', ')})`);
    console.log(`  cost ledger (priced, recorded, budgets moved)    ${fmt(ledger)} outcomes/s   ratio to raw ${fmt(ledger / raw, 3)}   (rounds ${ledgerRates.map((r) => fmt(r)).join(', ')})`);
    console.log(`  ledger rows ${fmt(rows[0].n)} of ${fmt(total)} reports, ${fmt(Number(rows[0].micros))} µ in all`);
    console.log(`  reservation round trip (request → answer)        p50 ${fmt(percentile(roundTrips, 50), 1)} ms   p99 ${fmt(percentile(roundTrips, 99), 1)} ms   (${RESERVATIONS} one at a time)`);
  } finally {
    await optimizer.stop();
    await watcher.disconnect();
    await publisher.disconnect();
    await pool.end();
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
