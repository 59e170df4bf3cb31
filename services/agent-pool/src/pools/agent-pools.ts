import type { TaskDispatched } from '@flotilla/contracts';
import type { ConsumedEvent, HandedOff, HandOffSink } from '@flotilla/messaging';
import { inSpan, type Histogram, type Logger } from '@flotilla/observability';
import type { PoolCapacity } from './domain/pool-capacity';
import type { TakenDispatch } from './ports';
import { Bulkhead, type BulkheadJob } from './bulkhead';
import { PoolStats, type WindowCut } from './pool-stats';
import { RunningAttempts } from '../task-attempts/running-attempts';
import type { TaskRunner } from '../task-attempts/task-runner';

interface AttemptJob extends BulkheadJob {
  readonly key: string;
  readonly taken: TakenDispatch;
  /** Copies of the same dispatch fetched again while this one waits or runs: settled with it. */
  readonly alsoSettle: (() => void)[];
}

interface Pool {
  readonly bulkhead: Bulkhead<AttemptJob>;
  readonly stats: PoolStats;
  workers: number;
}

export interface PoolSnapshot {
  readonly workers: number;
  readonly concurrency: number;
  readonly inFlight: number;
  readonly queued: number;
}

export interface AgentPoolsOptions {
  readonly capacity: Readonly<Record<string, PoolCapacity>>;
  /** The topic of an agent type's dispatches: each pool takes its dispatches from its own topic. */
  readonly dispatchTopic: (agentType: string) => string;
  /** Dispatches that may wait for a slot, per slot of the limit. */
  readonly queuePerSlot: number;
  readonly runner: TaskRunner;
  readonly running: RunningAttempts;
  readonly taskDurations: Histogram;
  readonly logger: Logger;
  readonly now?: () => number;
  /** After a drain (at shutdown): how many attempts were still held, handed back to the group (a worker records it for its supervisor). */
  readonly onDrained?: (handedBack: number) => Promise<void>;
}

/**
 * The pools of this instance, one per agent type, each with its own bulkhead and its own queue of
 * dispatches waiting for a slot: a pool full of slow tasks holds only its own slots and queue.
 *
 * They are the sink of the dispatch consumer (EventConsumer in hand-off mode): each dispatch topic is
 * its agent type's pool, so a full pool pauses only its own topic.
 */
export class AgentPools implements HandOffSink {
  private readonly pools = new Map<string, Pool>();
  private readonly agentTypeByTopic = new Map<string, string>();
  private readonly jobs = new Map<string, AttemptJob>();
  private readonly now: () => number;

  constructor(private readonly options: AgentPoolsOptions) {
    this.now = options.now ?? Date.now;
    for (const [agentType, { workers, concurrency }] of Object.entries(options.capacity)) {
      this.pools.set(agentType, { bulkhead: new Bulkhead<AttemptJob>(concurrency, options.queuePerSlot), stats: new PoolStats(concurrency, this.now()), workers });
      this.agentTypeByTopic.set(options.dispatchTopic(agentType), agentType);
    }
  }

  get agentTypes(): string[] {
    return [...this.pools.keys()];
  }

  /** The dispatch topics of the pools: what the dispatch consumer reads. */
  get dispatchTopics(): string[] {
    return [...this.agentTypeByTopic.keys()];
  }

  /** Synchronous, so that checking for room and offering cannot interleave with another batch. */
  hasRoom(topic: string): boolean {
    return this.pool(this.agentTypeOf(topic)).bulkhead.hasRoom();
  }

  whenRoom(topic: string, listener: () => void): void {
    this.pool(this.agentTypeOf(topic)).bulkhead.whenRoom(listener);
  }

  /** A dispatch waits for a slot in its pool; anything else on a dispatch topic is settled at once. */
  offer(handedOff: HandedOff): void {
    if (handedOff.event.envelope.eventType !== TASK_DISPATCHED) return handedOff.settle();
    const taken: TakenDispatch = {
      event: handedOff.event as ConsumedEvent<TaskDispatched>,
      agentType: this.agentTypeOf(handedOff.event.topic),
      takenAt: handedOff.takenAt,
      traceContext: handedOff.traceContext,
      settle: () => handedOff.settle(),
      deadLetter: (error) => handedOff.deadLetter(error),
    };
    const dispatch = taken.event.envelope.payload;
    const key = RunningAttempts.key(dispatch.executionId, dispatch.taskId, dispatch.attempt);
    const existing = this.jobs.get(key);
    if (existing) {
      existing.alsoSettle.push(taken.settle);
      return;
    }
    const pool = this.pool(taken.agentType);
    const controller = this.options.running.register(key);
    const job: AttemptJob = { key, taken, alsoSettle: [], run: () => this.runAttempt(pool, job, controller.signal) };
    this.jobs.set(key, job);
    pool.stats.arrived();
    pool.bulkhead.offer(job);
  }

  /** Stops the attempt: a waiting one leaves the queue at once, a running one is aborted. */
  cancel(key: string, reason: string): 'queued' | 'running' | 'none' {
    const job = this.jobs.get(key);
    if (!job) return 'none';
    const removed = this.pool(job.taken.agentType).bulkhead.remove((j) => j === job);
    if (removed.length > 0) {
      this.forget(job);
      return 'queued';
    }
    this.options.running.cancel(key, reason);
    return 'running';
  }

  /** Partitions were taken away (rebalance): what waits for a slot there is forgotten; their new owner runs it. */
  partitionsRevoked(revoked: (topic: string, partition: number) => boolean): void {
    for (const pool of this.pools.values()) {
      for (const job of pool.bulkhead.remove((j) => revoked(j.taken.event.topic, j.taken.event.partition))) {
        this.jobs.delete(job.key);
        this.options.running.release(job.key);
      }
    }
  }

  /** Lets running attempts finish, at most `timeoutMs`. */
  async drain(timeoutMs: number): Promise<boolean> {
    const deadline = this.now() + timeoutMs;
    let all = true;
    for (const pool of this.pools.values()) all = (await pool.bulkhead.drain(Math.max(0, deadline - this.now()))) && all;
    if (this.options.onDrained) {
      let held = 0;
      for (const pool of this.pools.values()) held += pool.bulkhead.inFlight + pool.bulkhead.queued;
      await this.options.onDrained(held).catch((error) => this.options.logger.warn({ err: error }, 'how the drain ended could not be recorded'));
    }
    return all;
  }

  capacity(agentType: string): PoolCapacity | undefined {
    const pool = this.pools.get(agentType);
    return pool && { workers: pool.workers, concurrency: pool.bulkhead.limit };
  }

  capacities(): Record<string, PoolCapacity> {
    return Object.fromEntries(this.agentTypes.map((t) => [t, this.capacity(t)!]));
  }

  /** Applies a provisioned capacity: the bulkhead's new limit holds from now on. */
  setCapacity(agentType: string, { workers, concurrency }: PoolCapacity): void {
    const pool = this.pool(agentType);
    pool.workers = workers;
    if (pool.bulkhead.limit === concurrency) return;
    pool.stats.limitChanged(concurrency, this.now());
    pool.bulkhead.setLimit(concurrency);
  }

  snapshot(agentType: string): PoolSnapshot {
    const pool = this.pool(agentType);
    return { workers: pool.workers, concurrency: pool.bulkhead.limit, inFlight: pool.bulkhead.inFlight, queued: pool.bulkhead.queued };
  }

  cutWindow(agentType: string): WindowCut {
    return this.pool(agentType).stats.cut(this.now());
  }

  private async runAttempt(pool: Pool, job: AttemptJob, signal: AbortSignal): Promise<void> {
    const { taken } = job;
    const dispatch = taken.event.envelope.payload;
    const hold = pool.stats.started(this.now());
    try {
      const result = await inSpan(
        'agent.task.run',
        { parent: taken.traceContext, attributes: { 'flotilla.agent_type': dispatch.agentType, 'flotilla.task_id': dispatch.taskId, 'flotilla.correlation_id': dispatch.executionId } },
        () => this.options.runner.run(taken.event, signal),
      );
      if (result.status === 'finished') {
        const { outcome, usage } = result;
        this.options.taskDurations.observe({ agent_type: dispatch.agentType, outcome: outcome.ok ? 'completed' : outcome.errorKind }, usage.wallTimeMs / 1000);
        pool.stats.finishedAttempt({ latencyMs: this.now() - taken.takenAt, ok: outcome.ok }, outcome.usage?.cpuTimeMs ?? 0);
      }
      this.settle(job);
    } catch (error) {
      this.options.logger.error({ err: error, executionId: dispatch.executionId, taskId: dispatch.taskId, attempt: dispatch.attempt }, 'attempt outcome not recorded');
      try {
        await taken.deadLetter(error);
        for (const settle of job.alsoSettle) settle();
      } catch (deadLetterError) {
        // Left unsettled: its offset stays uncommitted and the dispatch comes back after a restart or rebalance.
        this.options.logger.error({ err: deadLetterError }, 'dispatch could not be dead-lettered either');
      }
    } finally {
      pool.stats.released(hold, this.now());
      this.forget(job, false);
    }
  }

  private settle(job: AttemptJob): void {
    job.taken.settle();
    for (const settle of job.alsoSettle) settle();
  }

  /** Done with the job here; a job that never ran (cancelled while waiting) is settled too. */
  private forget(job: AttemptJob, settle = true): void {
    this.jobs.delete(job.key);
    this.options.running.release(job.key);
    if (settle) this.settle(job);
  }

  private agentTypeOf(topic: string): string {
    const agentType = this.agentTypeByTopic.get(topic);
    if (!agentType) throw new Error(`${topic} is not the dispatch topic of a pool here`);
    return agentType;
  }

  private pool(agentType: string): Pool {
    const pool = this.pools.get(agentType);
    if (!pool) throw new Error(`no pool for agent type ${agentType}`);
    return pool;
  }
}

const TASK_DISPATCHED = 'flotilla.task.TaskDispatched';
