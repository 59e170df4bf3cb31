// npm run bench:engine — executions/s and submit->complete latency of 1-task and 3-task synthetic
// executions (zero-duration tasks) through the real orchestrator and agent pool: bursts (medians of
// BENCH_ROUNDS), then a paced load at half the measured maximum, then the same bursts with tracing
// off for the cost of tracing; next to raw kafkajs produce->consume on the same broker in the same run.
// Prints PostgreSQL's synchronous_commit, which every figure ran with.
import { ensureTopics } from '@flotilla/messaging';
import { stack, uniqueNamespace } from '@flotilla/testing';
import { Kafka, logLevel } from 'kafkajs';
import { randomUUID } from 'node:crypto';
import { Engine, type Result } from './engine';
import { ensureStack, fmt, median, percentile } from './support';

const EXECUTIONS = Number(process.env.BENCH_EXECUTIONS ?? 1000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

async function rawRoundTrip(): Promise<Result> {
  const kafka = new Kafka({ clientId: 'bench-raw', brokers: stack.kafkaBrokers, logLevel: logLevel.NOTHING });
  const topic = `${uniqueNamespace('bench')}.raw-roundtrip`;
  await ensureTopics(kafka, [{ name: topic, partitions: 6, retentionMs: 3_600_000, compacted: false }]);
  const producer = kafka.producer();
  await producer.connect();
  const received = new Map<string, number>();
  const consumer = kafka.consumer({ groupId: `${topic}-raw`, maxWaitTimeInMs: 10 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({ eachMessage: async ({ message }) => void received.set(message.key!.toString(), performance.now()) });
  const keys = Array.from({ length: EXECUTIONS }, () => randomUUID());
  const sentAt = performance.now();
  await producer.send({ topic, acks: -1, messages: keys.map((key) => ({ key, value: Buffer.alloc(200) })) });
  while (received.size < keys.length) await new Promise((resolve) => setTimeout(resolve, 5)); // polling the consumer's map
  await consumer.disconnect();
  await producer.disconnect();
  const latencies = keys.map((k) => received.get(k)! - sentAt).sort((a, b) => a - b);
  return { perSecond: EXECUTIONS / (latencies[latencies.length - 1] / 1000), p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

/** The median round by throughput, with that round's latencies. */
function medianRound(results: readonly Result[]): Result {
  const m = median(results.map((r) => r.perSecond));
  return results.find((r) => r.perSecond === m)!;
}

async function bursts(engine: Engine, tasks: number): Promise<Result[]> {
  const results: Result[] = [];
  for (let i = 0; i < ROUNDS; i++) results.push(await engine.burst(tasks, EXECUTIONS));
  return results;
}

async function main() {
  await ensureStack();
  const synchronousCommit = await Engine.synchronousCommit();
  const sampler = process.env.OTEL_TRACES_SAMPLER ? `${process.env.OTEL_TRACES_SAMPLER}${process.env.OTEL_TRACES_SAMPLER_ARG ? `(${process.env.OTEL_TRACES_SAMPLER_ARG})` : ''}` : 'parentbased_always_on (default)';

  const traced = await Engine.start({ tracing: true });
  await traced.burst(1, EXECUTIONS); // warm-up: JIT, connections, consumer groups settled
  const raw = await rawRoundTrip();
  const one = await bursts(traced, 1);
  const three = await bursts(traced, 3);
  const oneMax = medianRound(one);
  const threeMax = medianRound(three);
  const pacedOne = await traced.paced(1, oneMax.perSecond / 2, EXECUTIONS);
  const pacedThree = await traced.paced(3, threeMax.perSecond / 2, EXECUTIONS);
  const rssAfter = traced.rss();
  const rssPeak = traced.peakRssBytes();
  await traced.stop();

  const untraced = await Engine.start({ tracing: false });
  await untraced.burst(1, EXECUTIONS);
  const oneUntraced = await bursts(untraced, 1);
  await untraced.stop();
  const oneOff = medianRound(oneUntraced);

  const rounds = (results: readonly Result[]) => results.map((r) => fmt(r.perSecond, 0)).join(', ');
  const line = (name: string, r: Result, extra = '') =>
    `  ${name.padEnd(40)} ${fmt(r.perSecond, 1).padStart(9)}/s   p50 ${fmt(r.p50, 0).padStart(6)} ms   p99 ${fmt(r.p99, 0).padStart(6)} ms   ${extra}`;
  console.log(`\nengine benchmark: ${EXECUTIONS} executions per round, zero-duration synthetic tasks, pool concurrency 64`);
  console.log(`  PostgreSQL synchronous_commit = ${synchronousCommit}; trace sampler ${sampler}; medians of ${ROUNDS} rounds`);
  console.log(line('raw kafkajs produce->consume', raw));
  console.log(line('1-task executions, burst', oneMax, `(rounds ${rounds(one)}; ${fmt(oneMax.perSecond / raw.perSecond, 3)}x raw)`));
  console.log(line('3-task executions (chain), burst', threeMax, `(rounds ${rounds(three)}; ${fmt(threeMax.perSecond / raw.perSecond, 3)}x raw)`));
  console.log(line('1-task, paced at half the maximum', pacedOne, '(latency from each submission)'));
  console.log(line('3-task, paced at half the maximum', pacedThree, '(latency from each submission)'));
  console.log(line('1-task executions, burst, tracing off', oneOff, `(rounds ${rounds(oneUntraced)})`));
  console.log(`  tracing on / off (1-task throughput): ${fmt(oneMax.perSecond / oneOff.perSecond, 2)}`);
  const mb = (bytes: number | undefined) => (bytes === undefined ? '?' : `${fmt(bytes / 1024 / 1024, 0)} MB`);
  for (const name of rssPeak.keys()) console.log(`  RSS ${name.padEnd(13)} peak under load ${mb(rssPeak.get(name))}, after the runs ${mb(rssAfter.get(name))}`);
}

main().catch(async (error) => {
  console.error(error);
  await Engine.stopAll();
  process.exit(1);
});
