import { isUnavailable, type ConsumedEvent, type EventConsumer } from '@flotilla/messaging';
import { AdvisoryLeadership, type Platform } from '@flotilla/service-kit';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ReadModelChange } from '../read-models/domain/read-models';
import { caughtUp, isRunning, progressOf, RebuildRunningElsewhereError, transition, truncatedPartitions, TruncatedHistoryError, type PartitionEnd, type PartitionPosition, type PartitionProgress, type RebuildState } from './domain/rebuild';
import type { ChangeFeed } from '../live-stream/change-feed';
import type { ReadModelProjector } from '../read-models/read-model-events';
import type { ReadModelGenerations, TopicPositions } from './ports';

const REBUILD_CONSUMER = 'read-models-rebuild';

export interface RebuildProgress {
  readonly state: RebuildState;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  /** Events the rebuild applied to its generation (duplicates and unused types not counted). */
  readonly eventsApplied: number;
  /** Per topic-partition: where the rebuild is, against the end offset taken when it started. */
  readonly partitions: readonly PartitionProgress[];
  readonly error: string | null;
}

export interface RebuildOptions {
  /** The live generation's schema (the service schema). */
  readonly schema: string;
  /** Physical names of every topic the read models are built from. */
  readonly topics: readonly string[];
  readonly pollIntervalMs?: number;
}

/**
 * Rebuilds the read models from the start of the topics while the live ones keep serving: a fresh
 * consumer group replays everything into a new generation of tables in `<schema>_rebuild`; once it
 * has read up to the end offsets taken at the start, it keeps consuming and the tables are swapped in
 * (generations.ts: one transaction, checkpoints included) as soon as it has applied everything the
 * live generation has. The live consumer then goes on over the new tables: what the rebuild applied
 * already is at or below their checkpoints. One rebuild at a time per process; a rebuild interrupted
 * by a restart is started again from scratch.
 */
export class RebuildService {
  private state: RebuildState = 'idle';
  private startedAt: number | null = null;
  private finishedAt: number | null = null;
  private eventsApplied = 0;
  private ends: PartitionEnd[] = [];
  private partitions: PartitionProgress[] = [];
  private error: string | null = null;
  private consumer: EventConsumer | null = null;
  /**
   * The advisory lock that makes this the only rebuild across instances (they share the schemas).
   * Lost with its connection when PostgreSQL restarts; the rebuild then waits and takes it again.
   */
  private readonly lock: AdvisoryLeadership;
  private swapped = false;
  private readonly gate = new Gate();
  private readonly next: string;
  private readonly retired: string;

  constructor(
    private readonly platform: Platform,
    private readonly feed: ChangeFeed,
    private readonly options: RebuildOptions,
    private readonly generations: ReadModelGenerations,
    private readonly positions: TopicPositions,
    private readonly now: () => number = Date.now,
  ) {
    this.next = `${options.schema}_rebuild`;
    this.retired = `${options.schema}_retired`;
    this.lock = new AdvisoryLeadership(platform.pool, { name: `${options.schema}.rebuild`, logger: platform.logger });
  }

  progress(): RebuildProgress {
    const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
    return { state: this.state, startedAt: iso(this.startedAt), finishedAt: iso(this.finishedAt), eventsApplied: this.eventsApplied, partitions: this.partitions, error: this.error };
  }

  /**
   * Starts a rebuild and returns once it runs (not when it ends). Throws IllegalRebuildTransitionError
   * while one is running, and TruncatedHistoryError (nothing started) when retention has deleted
   * events the live read models hold, unless `allowTruncatedHistory`.
   */
  async start({ allowTruncatedHistory = false } = {}): Promise<RebuildProgress> {
    const before = this.state;
    this.state = transition(this.state, 'replaying'); // at once: a second start now gets a conflict
    let ends: PartitionEnd[];
    try {
      await this.lockAcrossInstances();
      ends = await this.topicOffsets();
      const truncated = truncatedPartitions(ends);
      if (truncated.length > 0 && !allowTruncatedHistory) throw new TruncatedHistoryError(truncated);
    } catch (error) {
      this.state = before; // nothing was started
      await this.unlock();
      throw error;
    }
    Object.assign(this, { startedAt: this.now(), finishedAt: null, eventsApplied: 0, error: null, swapped: false, ends, partitions: progressOf(ends, [], []) });
    try {
      await this.generations.create(this.next);
      await this.forgetGroup();
      const projector = this.generations.projector(this.next);
      this.consumer = await this.platform.createConsumer({
        // One group for every rebuild, deleted before each: a group without offsets starts at the
        // beginning of every topic.
        name: REBUILD_CONSUMER,
        topics: this.options.topics,
        fromBeginning: true,
        ordering: 'partition',
        handler: (event) => this.apply(projector, event),
      });
      await this.consumer.start();
    } catch (error) {
      await this.fail(error);
      throw error;
    }
    void this.drive();
    return this.progress();
  }

  /** Stops a running rebuild's consumer (service shutdown); the live tables are untouched. */
  async stop(): Promise<void> {
    await this.stopConsuming();
    await this.unlock();
  }

  private async stopConsuming(): Promise<void> {
    await this.consumer?.stop().catch(() => undefined);
    this.consumer = null;
  }

  private async lockAcrossInstances(): Promise<void> {
    if (await this.lock.acquire()) return;
    throw this.lock.unavailable ?? new RebuildRunningElsewhereError();
  }

  /** Lets the next rebuild begin (closing the lock's connection is what surely releases it). */
  private async unlock(): Promise<void> {
    await this.lock.release();
    await this.positions.close();
  }

  /** Deletes the rebuild group's committed offsets; a group that does not exist is fine. */
  private async forgetGroup(): Promise<void> {
    await this.positions.forget(this.platform.groupId(REBUILD_CONSUMER));
  }

  private async apply(projector: ReadModelProjector, event: ConsumedEvent): Promise<void> {
    // Without the lock (lost with its connection, not taken again yet) another instance may have
    // started a rebuild into the same schema: nothing is written until drive() holds it again.
    while (isRunning(this.state) && !this.swapped && !this.lock.isLeader()) await sleep(this.options.pollIntervalMs ?? 250);
    await this.gate.enter();
    try {
      // After the swap the live consumer applies what comes (over the tables this one built).
      if (this.swapped || !isRunning(this.state)) return;
      if (await projector.apply(event, { advanceUnhandled: true })) this.eventsApplied++;
    } finally {
      this.gate.leave();
    }
  }

  /**
   * Follows the replay, then tries the swap until it succeeds; every step runs one after another.
   * PostgreSQL or Kafka away (restarting) pauses it: it goes on, lock taken again, once they are back.
   */
  private async drive(): Promise<void> {
    const interval = this.options.pollIntervalMs ?? 250;
    let waiting = false;
    try {
      while (isRunning(this.state)) {
        try {
          if (await this.step()) break;
          if (waiting) this.platform.logger.info('read-model rebuild goes on');
          waiting = false;
        } catch (error) {
          if (!isUnavailable(error)) throw error;
          if (!waiting) this.platform.logger.warn({ err: error }, 'read-model rebuild waits for PostgreSQL or Kafka to come back');
          waiting = true;
        }
        await sleep(interval);
      }
    } catch (error) {
      await this.fail(error, { ownsGeneration: !(error instanceof RebuildLockLostError) });
    }
  }

  /** One round: hold the lock, measure the progress, switch once caught up; true when switched. */
  private async step(): Promise<boolean> {
    if (!(await this.lock.acquire())) throw this.lock.unavailable ?? new RebuildLockLostError();
    this.partitions = progressOf(this.ends, await this.generations.checkpoints(this.next), await this.committed());
    if (this.state === 'replaying' && caughtUp(this.partitions)) this.state = transition(this.state, 'switching');
    return this.state === 'switching' && (await this.trySwitch());
  }

  private async trySwitch(): Promise<boolean> {
    // The rebuild's own transactions finish first; none starts until the swap is decided.
    const switched = await this.gate.exclusive(async () => {
      const done = await this.generations.switchTo(this.options.schema, this.next, this.retired);
      if (done) this.swapped = true;
      return done;
    });
    if (!switched) return false;
    await this.stopConsuming();
    await this.generations.drop(this.retired).catch((error) => this.platform.logger.warn({ err: error }, 'dropping the retired read models failed'));
    await this.generations.drop(this.next).catch(() => undefined);
    // Switched is switched: a failure from here on must not send drive() round to switch again.
    await this.everythingChanged()
      .then((changes) => this.feed.publish(changes))
      .catch((error) => this.platform.logger.warn({ err: error }, 'announcing the rebuilt read models failed'));
    // Only now may another rebuild begin, here or elsewhere: it would create the schema dropped above.
    await this.unlock();
    this.state = transition(this.state, 'done');
    this.finishedAt = this.now();
    this.platform.logger.info({ eventsApplied: this.eventsApplied, ms: this.finishedAt - (this.startedAt ?? this.finishedAt) }, 'read models rebuilt and switched');
    return true;
  }

  /** Every cached card and the overview may differ now; the live stream hears the same. */
  private async everythingChanged(): Promise<ReadModelChange[]> {
    const at = new Date(this.now()).toISOString();
    const customers = await this.generations.customers(this.options.schema);
    return [{ kind: 'overview', id: 'system', customerId: null, at }, ...customers.map((customerId): ReadModelChange => ({ kind: 'customer', id: customerId, customerId, at }))];
  }

  /** `ownsGeneration: false` when the lock went to another instance: the schema is its rebuild's now. */
  private async fail(error: unknown, { ownsGeneration = true } = {}): Promise<void> {
    this.platform.logger.error({ err: error }, 'read-model rebuild failed; the live read models are unchanged');
    this.error = error instanceof Error ? error.message : String(error);
    await this.stopConsuming();
    if (ownsGeneration) await this.generations.drop(this.next).catch(() => undefined);
    await this.unlock();
    if (isRunning(this.state)) this.state = transition(this.state, 'failed');
    this.finishedAt = this.now();
  }

  private topicOffsets(): Promise<PartitionEnd[]> {
    return this.positions.ends(this.options.topics);
  }

  /** What the rebuild's group committed: the next offset to read, per partition. */
  private committed(): Promise<PartitionPosition[]> {
    return this.positions.committed(this.platform.groupId(REBUILD_CONSUMER), this.options.topics);
  }
}

/** While PostgreSQL was away, another instance took the rebuild lock (and so started its own rebuild). */
class RebuildLockLostError extends Error {
  constructor() {
    super('the rebuild lock was lost while PostgreSQL was away and another instance took it');
    this.name = 'RebuildLockLostError';
  }
}

/** Lets many enter at once, or one exclusive section once those inside have left. */
class Gate {
  private inside = 0;
  private closed: Promise<void> | null = null;
  private emptied: (() => void) | null = null;

  async enter(): Promise<void> {
    while (this.closed) await this.closed;
    this.inside++;
  }

  leave(): void {
    this.inside--;
    if (this.inside === 0) this.emptied?.();
  }

  async exclusive<T>(work: () => Promise<T>): Promise<T> {
    let open = () => {};
    this.closed = new Promise<void>((resolve) => (open = resolve));
    try {
      if (this.inside > 0) await new Promise<void>((resolve) => (this.emptied = resolve));
      this.emptied = null;
      return await work();
    } finally {
      this.closed = null;
      open();
    }
  }
}
