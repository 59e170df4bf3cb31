import type { PoolMetricsReported } from '@flotilla/contracts';
import { assertNever, IllegalStateError } from '@flotilla/domain';
import { summarizeWindow, type FinishedAttempt } from '../../services/agent-pool/src/pools/domain/pool-window';

/**
 * A discrete-event simulation of one provisioned pool (deterministic: every random figure comes in
 * as data). A ready worker runs up to `slotsPerWorker` tasks at once. A worker asked for counts only
 * once its start-up time has passed; a worker asked to leave drains (takes nothing more, finishes
 * what it holds, then leaves); a worker still starting is simply not started.
 *
 * Two queue models (`queue`):
 *
 * - `partitioned` (the default: the platform). The pool is a Kafka consumer group on the dispatch
 *   topic. Each task lands in a partition (`partitionOf`: producers key by execution id, so a
 *   uniformly random one) and waits in that partition's FIFO until the worker that owns it has room.
 *   Partitions go to the group's members as kafkajs's default RoundRobinAssigner gives them (member
 *   ids sorted, partition i to member i mod n), and again at every change of membership: a worker
 *   becoming ready joins, a leaving one leaves. A rebalance stops the group's fetching for
 *   `rebalancePauseMs` (a join: the pause ends when the new worker is ready, which its measured
 *   start-up time already includes; a leave: from the leave on). A worker has room while it holds
 *   fewer than `slotsPerWorker` running plus max(1, slots × `queuePerSlot`) waiting locally (the agent
 *   pool's Bulkhead and POOL_QUEUE_PER_SLOT); it takes from its partitions round-robin, starts the head
 *   of its local queue when a slot frees, and fetches again. Partitions taken away in a rebalance
 *   give back what waited locally for them (partitionsRevoked: their new owner fetches it again from
 *   the committed offset). A draining worker stops fetching at once; with `drain: 'hold'` (the
 *   platform: EventConsumer.stop pauses, lets the bulkhead drain, then leaves the group) it keeps its
 *   partitions, unfetched, until it has finished what it holds and left; with `'release'` it leaves
 *   the group at once and finishes what it holds outside it.
 * - `shared`: one FIFO queue feeding every ready slot (a work-conserving pool; the bench's first model).
 *   Nothing is taken ahead of a slot and membership changes cost nothing.
 *
 * Every ready worker reports every `reportIntervalMs` from the moment it was ready, as the agent pool
 * does: a PoolMetricsReported whose window figures come from the platform's own `summarizeWindow`,
 * and whose backlog is what waits for it: not taken from its partitions plus its local queue (shared:
 * the queue split by its share of the partitions, so the reports' backlogs add up to the lag once).
 *
 * Not modelled: the fetch's own latency (kafkajs long-polls with maxWaitTimeInMs 100), the
 * differences between members' pauses within one rebalance (each notices at its own heartbeat),
 * duplicate runs of a task whose partition moved while it ran, failures and retries, the drain
 * timeouts (SHUTDOWN_DRAIN_MS 10 s, WORKER_DRAIN_TIMEOUT_MS 30 s).
 */
export interface PoolSimulationOptions {
  readonly slotsPerWorker: number;
  readonly reportIntervalMs: number;
  /** Partitions of the dispatch topic. */
  readonly partitions: number;
  /** Arrival times, ascending. */
  readonly arrivalsMs: Float64Array;
  /** Service time of each task. */
  readonly serviceMs: Float64Array;
  /** Start-up time of the n-th worker asked for (n = 0, 1, …), whatever policy asks. */
  readonly startupMs: (n: number) => number;
  /** Workers ready at time zero. */
  readonly initialWorkers: number;
  readonly agentType?: string;
  /** Default 'partitioned'. */
  readonly queue?: QueueModel;
  /** Partitioned: each task's partition, 0 … partitions − 1 (default: task i in partition i mod partitions). */
  readonly partitionOf?: ArrayLike<number>;
  /** Partitioned: the sort key of worker n's member id (kafkajs sorts the ids; default n, the order asked for). */
  readonly memberKey?: (worker: number) => number;
  /** Partitioned: how long a rebalance stops fetching (default REBALANCE_PAUSE_MS). */
  readonly rebalancePauseMs?: number;
  /** Partitioned: POOL_QUEUE_PER_SLOT (default 1, the agent pool's). */
  readonly queuePerSlot?: number;
  /** Partitioned: what a draining worker does with its partitions (default 'hold', the platform's). */
  readonly drain?: DrainModel;
}

export type QueueModel = 'shared' | 'partitioned';
export const QUEUE_MODELS: readonly QueueModel[] = ['partitioned', 'shared'];
export type DrainModel = 'hold' | 'release';
export const DRAIN_MODELS: readonly DrainModel[] = ['hold', 'release'];

/**
 * How long one rebalance stops a member's fetching. The members' pauses at the joins of four
 * bench:scaling-live runs (agent-pool logs, test-results/sclive*: from a member's "The group is
 * rebalancing, re-joining" to the new worker's PoolWorkerReady), 25 of them: 0.08 to 3.0 s, median
 * 0.42 s, mean 0.71 s (the first three runs' 17: mean 0.76 s, rounded up to this). A member notices at
 * its next heartbeat (heartbeatInterval 3 s) and the group waits for the last one: hence the long tail.
 */
export const REBALANCE_PAUSE_MS = 800;
/** The agent pool's POOL_QUEUE_PER_SLOT default (services/agent-pool/src/agent-pool.config.ts). */
export const QUEUE_PER_SLOT = 1;

export type WorkerStatus = 'starting' | 'ready' | 'draining' | 'gone';

/** The worker's lifecycle: what each status may become. */
export const WORKER_TRANSITIONS: Readonly<Record<WorkerStatus, readonly WorkerStatus[]>> = {
  starting: ['ready', 'gone'],
  ready: ['draining', 'gone'],
  draining: ['gone'],
  gone: [],
};

interface Worker {
  readonly id: number;
  status: WorkerStatus;
  readonly requestedAt: number;
  readonly readyAt: number;
  running: number;
  // The current report window.
  windowStartedAt: number;
  taken: number;
  finished: FinishedAttempt[];
  busySlotMs: number;
  busySince: number;
  // Partitioned only.
  readonly memberKey: number;
  /** Its partitions, ascending. */
  owned: number[];
  /** Round-robin position in `owned`. */
  cursor: number;
  /** Taken from its partitions, waiting for a slot (FIFO). */
  readonly local: Fifo;
  /** Its join's rebalance has begun and not ended. */
  joining: boolean;
  /** A member of the consumer group (partitioned). */
  member: boolean;
}

const enum EventKind {
  Complete = 0,
  RebalanceBegins = 1,
  Ready = 2,
  RebalanceEnds = 3,
  Report = 4,
}

interface SimEvent {
  readonly at: number;
  readonly kind: EventKind;
  readonly seq: number;
  readonly worker: number;
  readonly task: number;
}

/** Points where the provisioned or ready workers changed, for worker-seconds and time to capacity. */
export interface WorkerTimeline {
  readonly at: number[];
  /** Workers paid for: starting, ready or draining. */
  readonly provisioned: number[];
  /** Workers that can take tasks. */
  readonly ready: number[];
}

/** A FIFO of task indices that can also take items back at its head. */
class Fifo {
  private items: number[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(task: number): void {
    this.items.push(task);
  }

  shift(): number {
    const task = this.items[this.head++];
    if (this.head > 64 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return task;
  }

  /** Puts `tasks` (in their order) before the head. */
  unshiftAll(tasks: readonly number[]): void {
    if (tasks.length === 0) return;
    this.items = [...tasks, ...this.items.slice(this.head)];
    this.head = 0;
  }

  /** Takes out the items that match, in order. */
  removeWhere(matches: (task: number) => boolean): number[] {
    const kept: number[] = [];
    const removed: number[] = [];
    for (let i = this.head; i < this.items.length; i++) (matches(this.items[i]) ? removed : kept).push(this.items[i]);
    this.items = kept;
    this.head = 0;
    return removed;
  }
}

export class SimulatedPool {
  private readonly workers: Worker[] = [];
  private readonly heap: SimEvent[] = [];
  private seq = 0;
  private now = 0;
  private nextArrival = 0;
  private startedCount = 0;
  private completedCount = 0;
  private workersAskedFor = 0;
  private readonly latest = new Map<number, PoolMetricsReported>();
  private readonly log: PoolMetricsReported[] = [];
  private readonly queue: QueueModel;
  // Partitioned.
  private readonly partitionQueues: Fifo[];
  /** Worker id owning each partition, or −1. */
  private readonly owner: Int32Array;
  private readonly takenAt: Float64Array;
  private openRebalances = 0;
  readonly startAt: Float64Array;
  readonly timeline: WorkerTimeline = { at: [], provisioned: [], ready: [] };

  constructor(private readonly options: PoolSimulationOptions) {
    if (options.arrivalsMs.length !== options.serviceMs.length) throw new IllegalStateError('every arrival needs a service time');
    if (options.partitionOf && options.partitionOf.length !== options.arrivalsMs.length) throw new IllegalStateError('every arrival needs a partition');
    this.queue = options.queue ?? 'partitioned';
    this.startAt = new Float64Array(options.arrivalsMs.length).fill(Number.NaN);
    this.takenAt = new Float64Array(options.arrivalsMs.length).fill(Number.NaN);
    this.partitionQueues = Array.from({ length: options.partitions }, () => new Fifo());
    this.owner = new Int32Array(options.partitions).fill(-1);
    for (let i = 0; i < options.initialWorkers; i++) this.addWorker(0, 0);
    this.recordTimeline();
  }

  get time(): number {
    return this.now;
  }

  get arrived(): number {
    return this.nextArrival;
  }

  get completed(): number {
    return this.completedCount;
  }

  /** Tasks not started: not taken from the topic, or taken and waiting for a slot. */
  get queued(): number {
    return this.nextArrival - this.startedCount;
  }

  /** Tasks not finished: the lag of the group's committed offsets, which counts running tasks too. */
  get uncommitted(): number {
    return this.nextArrival - this.completedCount;
  }

  get inFlight(): number {
    return this.startedCount - this.completedCount;
  }

  /** The replicas as the scaler counts them: asked for and not asked to leave (starting or ready). */
  get replicas(): number {
    return this.count('starting') + this.count('ready');
  }

  get readyWorkers(): number {
    return this.count('ready');
  }

  get provisionedWorkers(): number {
    return this.workers.length - this.count('gone');
  }

  get slotsPerWorker(): number {
    return this.options.slotsPerWorker;
  }

  get done(): boolean {
    return this.completedCount === this.options.arrivalsMs.length;
  }

  /** Partitioned: whether the group fetches now (no rebalance under way). */
  get fetching(): boolean {
    return this.openRebalances === 0;
  }

  /** Partitioned: each worker's partitions, by worker id (in the order asked for; the initial ones first). */
  assignment(): number[][] {
    return this.workers.map((w) => [...w.owned]);
  }

  /** Partitioned: what each worker has taken and not started yet, by worker id. */
  localQueues(): number[] {
    return this.workers.map((w) => w.local.length);
  }

  /** Each ready worker's latest report (a worker ready for less than one interval has none yet). */
  latestReports(): PoolMetricsReported[] {
    return [...this.latest.values()];
  }

  /** Reports made since the `from`-th one, and the count to pass next time. */
  reportsSince(from: number): { readonly reports: readonly PoolMetricsReported[]; readonly next: number } {
    return { reports: this.log.slice(from), next: this.log.length };
  }

  /** Processes every event up to and including `until`. */
  advanceTo(until: number): void {
    if (until < this.now) throw new IllegalStateError(`the simulation is at ${this.now}, cannot go back to ${until}`);
    const arrivals = this.options.arrivalsMs;
    for (;;) {
      const top = this.heap.length > 0 ? this.heap[0] : null;
      const arrivalAt = this.nextArrival < arrivals.length ? arrivals[this.nextArrival] : Number.POSITIVE_INFINITY;
      // Completions, readiness and rebalances before an arrival at the same instant, reports after it.
      const eventFirst = top !== null && (top.at < arrivalAt || (top.at === arrivalAt && top.kind !== EventKind.Report));
      const at = eventFirst ? top.at : arrivalAt;
      if (at > until) break;
      this.now = at;
      if (eventFirst) this.handle(this.pop());
      else this.arrive();
    }
    this.now = until;
  }

  /**
   * Asks for `replicas` workers: starts new ones, or removes the newest starting ones, then drains
   * ready ones (partitioned: the youngest ready first, as the agent pool's plan does; shared: the
   * least busy, the newest among equals).
   */
  scaleTo(replicas: number, now: number): void {
    this.advanceTo(now);
    let current = this.replicas;
    while (current < replicas) {
      this.addWorker(now, this.options.startupMs(this.workersAskedFor++));
      current++;
    }
    if (current > replicas) {
      const starting = this.workers.filter((w) => w.status === 'starting').sort((a, b) => b.id - a.id);
      for (const w of starting) {
        if (current === replicas) break;
        this.transition(w, 'gone');
        current--;
      }
      const ready = this.workers.filter((w) => w.status === 'ready');
      if (this.queue === 'partitioned') ready.sort((a, b) => b.readyAt - a.readyAt || b.id - a.id);
      else ready.sort((a, b) => a.running - b.running || b.id - a.id);
      for (const w of ready) {
        if (current === replicas) break;
        this.latest.delete(w.id);
        this.drain(w);
        current--;
      }
    }
    this.recordTimeline();
  }

  private count(status: WorkerStatus): number {
    let n = 0;
    for (const w of this.workers) if (w.status === status) n++;
    return n;
  }

  private get partitioned(): boolean {
    return this.queue === 'partitioned';
  }

  private get rebalancePauseMs(): number {
    return this.options.rebalancePauseMs ?? REBALANCE_PAUSE_MS;
  }

  /** Tasks a worker may hold waiting for a slot: the Bulkhead's queueCapacity, max(1, limit × queuePerSlot). */
  private get localCapacity(): number {
    return Math.max(1, this.options.slotsPerWorker * (this.options.queuePerSlot ?? QUEUE_PER_SLOT));
  }

  private addWorker(now: number, startupMs: number): void {
    const id = this.workers.length;
    const worker: Worker = {
      id,
      status: 'starting',
      requestedAt: now,
      readyAt: now + startupMs,
      running: 0,
      windowStartedAt: now,
      taken: 0,
      finished: [],
      busySlotMs: 0,
      busySince: now,
      memberKey: this.options.memberKey?.(id) ?? id,
      owned: [],
      cursor: 0,
      local: new Fifo(),
      joining: false,
      member: false,
    };
    this.workers.push(worker);
    if (startupMs <= 0) {
      // Ready at once (the initial workers): the group forms with it, without a pause.
      this.becomeReady(worker);
      if (this.partitioned) {
        this.assign();
        this.fetchAll();
      }
      return;
    }
    this.push({ at: worker.readyAt, kind: EventKind.Ready, worker: id, task: -1 });
    // Its join stops the group's fetching for the pause before it is ready.
    if (this.partitioned && this.rebalancePauseMs > 0) this.push({ at: Math.max(now, worker.readyAt - this.rebalancePauseMs), kind: EventKind.RebalanceBegins, worker: id, task: -1 });
  }

  private transition(worker: Worker, to: WorkerStatus): void {
    if (!WORKER_TRANSITIONS[worker.status].includes(to)) throw new IllegalStateError(`worker ${worker.id} cannot go from ${worker.status} to ${to}`);
    worker.status = to;
  }

  private handle(event: SimEvent): void {
    const worker = this.workers[event.worker];
    switch (event.kind) {
      case EventKind.Complete:
        this.complete(worker, event.task);
        return;
      case EventKind.RebalanceBegins:
        // A worker dropped before its join began never joined.
        if (worker.status === 'starting') {
          worker.joining = true;
          this.openRebalances++;
        }
        return;
      case EventKind.Ready: {
        // A worker no longer wanted before it was ready was never started (its join's pause still ends now).
        const joins = worker.status === 'starting';
        const closes = worker.joining;
        if (joins) this.becomeReady(worker);
        if (closes) {
          worker.joining = false;
          this.openRebalances--;
        }
        if (this.partitioned && (joins || closes)) {
          this.assign();
          this.fetchAll();
        }
        return;
      }
      case EventKind.RebalanceEnds:
        this.openRebalances--;
        this.assign();
        this.fetchAll();
        return;
      case EventKind.Report:
        if (worker.status === 'ready') this.report(worker);
        return;
      default:
        assertNever(event.kind, 'event kind');
    }
  }

  private becomeReady(worker: Worker): void {
    this.transition(worker, 'ready');
    worker.windowStartedAt = this.now;
    worker.busySince = this.now;
    this.push({ at: this.now + this.options.reportIntervalMs, kind: EventKind.Report, worker: worker.id, task: -1 });
    this.recordTimeline();
    if (this.partitioned) worker.member = true;
    else while (worker.running < this.options.slotsPerWorker && this.queued > 0) this.start(worker, this.startedCount);
  }

  /** Asked to leave: it takes nothing more and leaves once it has finished what it holds. */
  private drain(worker: Worker): void {
    const holds = worker.running + worker.local.length;
    this.transition(worker, holds === 0 ? 'gone' : 'draining');
    if (!this.partitioned) return;
    if (holds === 0 || this.options.drain === 'release') this.leaveGroup(worker);
  }

  /** Leaves the consumer group: a rebalance from now on, after which its partitions are others'. */
  private leaveGroup(worker: Worker): void {
    if (!worker.member) return;
    worker.member = false;
    this.openRebalances++;
    this.push({ at: this.now + this.rebalancePauseMs, kind: EventKind.RebalanceEnds, worker: worker.id, task: -1 });
  }

  /**
   * kafkajs's RoundRobinAssigner over the group's members: ids sorted, partition i to member i mod n.
   * What waited locally for a partition taken away goes back to it, ahead of what was not taken.
   */
  private assign(): void {
    const members = this.workers.filter((w) => w.member).sort((a, b) => a.memberKey - b.memberKey || a.id - b.id);
    for (const w of this.workers) w.owned = [];
    for (let p = 0; p < this.options.partitions; p++) {
      const member = members.length > 0 ? members[p % members.length] : null;
      this.owner[p] = member ? member.id : -1;
      member?.owned.push(p);
    }
    for (const w of this.workers) {
      if (w.local.length === 0 || !w.member) continue;
      const revoked = w.local.removeWhere((task) => this.owner[this.partitionOf(task)] !== w.id);
      const byPartition = new Map<number, number[]>();
      for (const task of revoked) {
        const p = this.partitionOf(task);
        byPartition.set(p, [...(byPartition.get(p) ?? []), task]);
      }
      for (const [p, tasks] of byPartition) this.partitionQueues[p].unshiftAll(tasks);
      if (w.status === 'draining' && w.running === 0 && w.local.length === 0) this.leave(w);
    }
  }

  private partitionOf(task: number): number {
    return this.options.partitionOf ? this.options.partitionOf[task] : task % this.options.partitions;
  }

  private fetchAll(): void {
    if (this.openRebalances > 0) return;
    for (const w of this.workers) this.fetch(w);
  }

  /** Takes from its partitions, round-robin, while it has room and the group is not rebalancing. */
  private fetch(worker: Worker): void {
    if (worker.status !== 'ready' || this.openRebalances > 0 || worker.owned.length === 0) return;
    const slots = this.options.slotsPerWorker;
    const room = slots + this.localCapacity;
    while (worker.running + worker.local.length < room) {
      let p = -1;
      for (let k = 0; k < worker.owned.length; k++) {
        const candidate = worker.owned[(worker.cursor + k) % worker.owned.length];
        if (this.partitionQueues[candidate].length > 0) {
          p = candidate;
          worker.cursor = (worker.cursor + k + 1) % worker.owned.length;
          break;
        }
      }
      if (p < 0) return;
      const task = this.partitionQueues[p].shift();
      this.takenAt[task] = this.now;
      worker.taken++;
      if (worker.running < slots) this.start(worker, task);
      else worker.local.push(task);
    }
  }

  private arrive(): void {
    const task = this.nextArrival++;
    if (this.partitioned) {
      const p = this.partitionOf(task);
      this.partitionQueues[p].push(task);
      const owner = this.owner[p];
      if (owner >= 0) this.fetch(this.workers[owner]);
      return;
    }
    // The least busy ready worker takes it, if any has a free slot.
    let best: Worker | null = null;
    for (const w of this.workers) {
      if (w.status === 'ready' && w.running < this.options.slotsPerWorker && (best === null || w.running < best.running)) best = w;
    }
    if (best) this.start(best, this.startedCount);
  }

  private start(worker: Worker, task: number): void {
    this.startedCount++;
    this.startAt[task] = this.now;
    if (!this.partitioned) {
      this.takenAt[task] = this.now;
      worker.taken++;
    }
    this.accrueBusy(worker);
    worker.running++;
    this.push({ at: this.now + this.options.serviceMs[task], kind: EventKind.Complete, worker: worker.id, task });
  }

  private complete(worker: Worker, task: number): void {
    this.accrueBusy(worker);
    worker.running--;
    // The agent pool's latency: from the dispatch taken to its outcome (partitioned: a local wait included).
    worker.finished.push({ latencyMs: this.partitioned ? this.now - this.takenAt[task] : this.options.serviceMs[task], ok: true });
    this.completedCount++;
    if (this.partitioned) {
      if (worker.local.length > 0) this.start(worker, worker.local.shift());
      this.fetch(worker);
    } else if (worker.status === 'ready' && this.queued > 0) this.start(worker, this.startedCount);
    if (worker.status === 'draining' && worker.running === 0 && worker.local.length === 0) this.leave(worker);
  }

  private leave(worker: Worker): void {
    this.transition(worker, 'gone');
    this.recordTimeline();
    if (this.partitioned) this.leaveGroup(worker);
  }

  private accrueBusy(worker: Worker): void {
    worker.busySlotMs += worker.running * (this.now - worker.busySince);
    worker.busySince = this.now;
  }

  private report(worker: Worker): void {
    this.accrueBusy(worker);
    const { slotsPerWorker, reportIntervalMs } = this.options;
    const startedAt = worker.windowStartedAt;
    const summary = summarizeWindow({
      startedAt,
      endedAt: this.now,
      arrivals: worker.taken,
      finished: worker.finished,
      busySlotMs: worker.busySlotMs,
      availableSlotMs: slotsPerWorker * (this.now - startedAt),
    });
    const report: PoolMetricsReported = {
      agentType: this.options.agentType ?? 'code_gen',
      instanceId: `worker-${worker.id}`,
      windowStartedAt: startedAt,
      windowEndedAt: this.now,
      workers: 1,
      concurrency: slotsPerWorker,
      inFlight: worker.running,
      backlog: this.backlogOf(worker),
      ...summary,
      // Not simulated: an agent task waits on a model, so CPU says little about its load.
      cpuPercent: 0,
      memoryRssBytes: 0,
      reportedAt: this.now,
    };
    this.latest.set(worker.id, report);
    this.log.push(report);
    worker.windowStartedAt = this.now;
    worker.taken = 0;
    worker.finished = [];
    worker.busySlotMs = 0;
    this.push({ at: this.now + reportIntervalMs, kind: EventKind.Report, worker: worker.id, task: -1 });
  }

  /** What a worker reports as its backlog: the agent pool's notTaken (over the partitions it owns) + its local queue. */
  private backlogOf(worker: Worker): number {
    if (this.partitioned) {
      let notTaken = 0;
      for (const p of worker.owned) notTaken += this.partitionQueues[p].length;
      return notTaken + worker.local.length;
    }
    return this.queued * this.partitionShare(worker);
  }

  /** Shared: the share of the partitions this worker owns, assigned round-robin over the ready workers in id order. */
  private partitionShare(worker: Worker): number {
    const ready = this.workers.filter((w) => w.status === 'ready');
    const index = ready.indexOf(worker);
    const { partitions } = this.options;
    const owned = Math.floor(partitions / ready.length) + (index < partitions % ready.length ? 1 : 0);
    return owned / partitions;
  }

  private recordTimeline(): void {
    const { at, provisioned, ready } = this.timeline;
    const p = this.provisionedWorkers;
    const r = this.readyWorkers;
    if (at.length > 0 && at[at.length - 1] === this.now) {
      provisioned[at.length - 1] = p;
      ready[at.length - 1] = r;
      return;
    }
    if (at.length > 0 && provisioned[at.length - 1] === p && ready[at.length - 1] === r) return;
    at.push(this.now);
    provisioned.push(p);
    ready.push(r);
  }

  private push(event: Omit<SimEvent, 'seq'>): void {
    const heap = this.heap;
    heap.push({ ...event, seq: this.seq++ });
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i], heap[parent])) break;
      [heap[i], heap[parent]] = [heap[parent], heap[i]];
      i = parent;
    }
  }

  private pop(): SimEvent {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && before(heap[l], heap[m])) m = l;
        if (r < heap.length && before(heap[r], heap[m])) m = r;
        if (m === i) break;
        [heap[i], heap[m]] = [heap[m], heap[i]];
        i = m;
      }
    }
    return top;
  }
}

function before(a: SimEvent, b: SimEvent): boolean {
  return a.at !== b.at ? a.at < b.at : a.kind !== b.kind ? a.kind < b.kind : a.seq < b.seq;
}
