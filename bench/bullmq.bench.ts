// npm run bench:bullmq — jobs/s and add->completed latency of BullMQ on the stack's Redis: no-op jobs
// added in one addBulk call, one worker at concurrency 100; then, in the same run, the engine with
// no-op one-task executions at pool concurrency 100, and the ratio of the two.
import { uniqueNamespace } from '@flotilla/testing';
import { Queue, Worker } from 'bullmq';
import { Engine, type Result } from './engine';
import { ensureStack, fmt, median, percentile } from './support';

const CONCURRENCY = 100;
const ROUND_TIMEOUT_MS = 300_000;

export interface BullmqResult {
  /** Median of the rounds' jobs/s. */
  readonly perSecond: number;
  readonly p50: number;
  readonly p99: number;
  /** Jobs/s of each measured round, in order. */
  readonly rounds: number[];
}

interface Round {
  readonly perSecond: number;
  readonly latencies: number[];
}

async function round(redisUrl: string, jobs: number): Promise<Round> {
  // A fresh queue each round so no round inherits another's completed jobs, events stream or ids.
  const name = uniqueNamespace('bench-bullmq-');
  // Options rather than a shared client: BullMQ then owns its connections and close() ends them,
  // which is what lets the process exit by itself.
  const connection = { url: redisUrl };
  const queue = new Queue(name, { connection });
  const worker = new Worker(name, async () => undefined, { connection, concurrency: CONCURRENCY });
  try {
    const completedAt = new Map<string, number>();
    const done = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`BullMQ: ${completedAt.size} of ${jobs} jobs completed within ${ROUND_TIMEOUT_MS / 1000} s`)), ROUND_TIMEOUT_MS);
      const settle = (error?: Error) => {
        clearTimeout(timer);
        if (error) reject(error);
        else resolve();
      };
      worker.on('completed', (job) => {
        completedAt.set(job.id!, performance.now());
        if (completedAt.size === jobs) settle();
      });
      worker.on('failed', (job, error) => settle(new Error(`BullMQ job ${job?.id} failed: ${error.message}`)));
      // Unlistened, a worker's 'error' would throw from the emitter instead of failing this round.
      worker.on('error', (error) => settle(error));
    });
    // Connecting is not what is measured: the worker is already blocked on the queue when jobs arrive,
    // as the engine's agent pool is when executions are submitted.
    await Promise.all([queue.waitUntilReady(), worker.waitUntilReady()]);

    const startedAt = performance.now();
    const added = await queue.addBulk(Array.from({ length: jobs }, (_, i) => ({ name: 'noop', data: { i } })));
    await done;
    // One addBulk call adds them all, so each job's add time is when that call began (as the engine
    // benchmark takes one submit time for a batch of executions).
    const latencies = added.map((job) => completedAt.get(job.id!)! - startedAt).sort((a, b) => a - b);
    return { perSecond: jobs / (latencies[latencies.length - 1] / 1000), latencies };
  } finally {
    // The worker goes first so obliterate finds no active jobs and nothing refills the queue after it.
    await worker.close();
    await queue.obliterate({ force: true });
    await queue.close();
  }
}

/** Runs one unmeasured warm-up round, then `rounds` measured ones, each on a fresh queue. */
export async function runBullmqBenchmark({ jobs, rounds }: { jobs: number; rounds: number }): Promise<BullmqResult> {
  // A no-op when the caller has already brought the stack up.
  await ensureStack();
  const redisUrl = process.env.REDIS_URL;
  if (!redisUrl) throw new Error('REDIS_URL is not set: ensureStack() should have started the stack');

  await round(redisUrl, jobs); // warm-up: JIT, Lua scripts loaded into Redis
  const measured: Round[] = [];
  for (let i = 0; i < rounds; i++) measured.push(await round(redisUrl, jobs));
  // Latencies of all measured rounds together: p99 of one round rests on only its slowest 1% of jobs.
  const latencies = measured.flatMap((r) => r.latencies).sort((a, b) => a - b);
  const perRound = measured.map((r) => r.perSecond);
  return { perSecond: median(perRound), p50: percentile(latencies, 50), p99: percentile(latencies, 99), rounds: perRound };
}

async function main() {
  const jobs = Number(process.env.BENCH_JOBS ?? 5000);
  const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
  const result = await runBullmqBenchmark({ jobs, rounds });

  // Ours in the same run, the same shape: no-op work at concurrency 100, all submitted at once.
  // An execution is far more than a job (admission, a task DAG, durable events and timers, two services).
  const engine = await Engine.start({ poolConcurrency: CONCURRENCY });
  const executions = Math.min(jobs, Number(process.env.BENCH_EXECUTIONS ?? 1000));
  await engine.burst(1, executions); // warm-up
  const ours: Result[] = [];
  for (let i = 0; i < rounds; i++) ours.push(await engine.burst(1, executions));
  await engine.stop();
  const oursMedian = median(ours.map((r) => r.perSecond));
  const oursRound = ours.find((r) => r.perSecond === oursMedian)!;

  console.log(`\nBullMQ benchmark: ${jobs} no-op jobs added with addBulk, one worker at concurrency ${CONCURRENCY}, ${rounds} rounds after a warm-up`);
  result.rounds.forEach((perSecond, i) => console.log(`  round ${i + 1}  ${fmt(perSecond, 1).padStart(9)} jobs/s`));
  console.log(`  median   ${fmt(result.perSecond, 1).padStart(9)} jobs/s   add->completed p50 ${fmt(result.p50, 0).padStart(6)} ms   p99 ${fmt(result.p99, 0).padStart(6)} ms`);
  console.log(`Flotilla, same run: ${executions} one-task executions of no-op tasks at pool concurrency ${CONCURRENCY}, submitted at once (rounds ${ours.map((r) => fmt(r.perSecond, 0)).join(', ')})`);
  console.log(`  median   ${fmt(oursMedian, 1).padStart(9)} executions/s   submit->completed p50 ${fmt(oursRound.p50, 0).padStart(6)} ms   p99 ${fmt(oursRound.p99, 0).padStart(6)} ms`);
  console.log(`  Flotilla / BullMQ throughput: ${fmt(oursMedian / result.perSecond, 3)}`);
}

if (require.main === module) {
  main().catch(async (error) => {
    console.error(error);
    await Engine.stopAll();
    process.exit(1);
  });
}
