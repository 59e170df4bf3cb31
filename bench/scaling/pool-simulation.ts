import type { PoolMetricsReported } from '@flotilla/contracts';
import { assertNever, IllegalStateError } from '@flotilla/domain';
import { summarizeWindow, type FinishedAttempt } from '../../services/agent-pool/src/pools/domain/pool-window';

/**
 * A discrete-event simulation of one provisioned pool (deterministic: every random figure comes in
 * as data). Tasks arrive at the trace's times and wait in one FIFO queue (the pool's dispatch topic,
 * its partitions balanced over the workers); a ready worker runs up to `slotsPerWorker` tasks at once
 * and takes the head of the queue whenever a slot frees. A worker asked for counts only once its
 * start-up time has passed; a worker asked to leave drains (takes nothing more, finishes what it runs,
 * then leaves); a worker still starting is simply not started.
 *
 * Every ready worker reports every `reportIntervalMs` from the moment it was ready, as the agent pool
 * does: a PoolMetricsReported whose window figures come from the platform's own `summarizeWindow`,
 * and whose backlog is the lag of the partitions it owns (the queue split by partitions, so the
 * reports' backlogs add up to the lag once).
 *
 * Not modelled: local prefetch (POOL_QUEUE_PER_SLOT; a task is taken when it starts), partition
 * skew and consumer-group rebalance pauses, failures and retries.
 */
export interface PoolSimulationOptions {
  readonly slotsPerWorker: number;
  readonly reportIntervalMs: number;
  /** Partitions of the dispatch topic: how each report's share of the lag is counted. */
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
}

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
}

const enum EventKind {
  Complete = 0,
  Ready = 1,
  Report = 2,
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

export class SimulatedPool {
  private readonly workers: Worker[] = [];
  private readonly heap: SimEvent[] = [];
  private seq = 0;
  private now = 0;
  private nextArrival = 0;
  /** Tasks start in arrival order (one FIFO queue), so the queue is the range [started, arrived). */
  private started = 0;
  private completedCount = 0;
  private workersAskedFor = 0;
  private readonly latest = new Map<number, PoolMetricsReported>();
  private readonly log: PoolMetricsReported[] = [];
  readonly startAt: Float64Array;
  readonly timeline: WorkerTimeline = { at: [], provisioned: [], ready: [] };

  constructor(private readonly options: PoolSimulationOptions) {
    if (options.arrivalsMs.length !== options.serviceMs.length) throw new IllegalStateError('every arrival needs a service time');
    this.startAt = new Float64Array(options.arrivalsMs.length).fill(Number.NaN);
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

  /** Tasks not started: the dispatch topic's lag (nothing waits locally in this model). */
  get queued(): number {
    return this.nextArrival - this.started;
  }

  /** Tasks not finished: the lag of the group's committed offsets, which counts running tasks too. */
  get uncommitted(): number {
    return this.nextArrival - this.completedCount;
  }

  get inFlight(): number {
    return this.started - this.completedCount;
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
      // Completions and readiness before an arrival at the same instant, reports after it.
      const eventFirst = top !== null && (top.at < arrivalAt || (top.at === arrivalAt && top.kind !== EventKind.Report));
      const at = eventFirst ? top.at : arrivalAt;
      if (at > until) break;
      this.now = at;
      if (eventFirst) this.handle(this.pop());
      else this.arrive();
    }
    this.now = until;
  }

  /** Asks for `replicas` workers: starts new ones, or removes the newest starting ones, then drains ready ones. */
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
      // Then the ready workers with the least work left; the newest first among equals.
      const ready = this.workers.filter((w) => w.status === 'ready').sort((a, b) => a.running - b.running || b.id - a.id);
      for (const w of ready) {
        if (current === replicas) break;
        this.latest.delete(w.id);
        this.transition(w, w.running === 0 ? 'gone' : 'draining');
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

  private addWorker(now: number, startupMs: number): void {
    const worker: Worker = {
      id: this.workers.length,
      status: 'starting',
      requestedAt: now,
      readyAt: now + startupMs,
      running: 0,
      windowStartedAt: now,
      taken: 0,
      finished: [],
      busySlotMs: 0,
      busySince: now,
    };
    this.workers.push(worker);
    if (startupMs <= 0) this.becomeReady(worker);
    else this.push({ at: worker.readyAt, kind: EventKind.Ready, worker: worker.id, task: -1 });
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
      case EventKind.Ready:
        // A worker no longer wanted before it was ready was never started.
        if (worker.status === 'starting') this.becomeReady(worker);
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
    while (worker.running < this.options.slotsPerWorker && this.queued > 0) this.start(worker);
  }

  private arrive(): void {
    this.nextArrival++;
    // The least busy ready worker takes it, if any has a free slot.
    let best: Worker | null = null;
    for (const w of this.workers) {
      if (w.status === 'ready' && w.running < this.options.slotsPerWorker && (best === null || w.running < best.running)) best = w;
    }
    if (best) this.start(best);
  }

  private start(worker: Worker): void {
    const task = this.started++;
    this.startAt[task] = this.now;
    this.accrueBusy(worker);
    worker.running++;
    worker.taken++;
    this.push({ at: this.now + this.options.serviceMs[task], kind: EventKind.Complete, worker: worker.id, task });
  }

  private complete(worker: Worker, task: number): void {
    this.accrueBusy(worker);
    worker.running--;
    worker.finished.push({ latencyMs: this.options.serviceMs[task], ok: true });
    this.completedCount++;
    if (worker.status === 'ready' && this.queued > 0) this.start(worker);
    else if (worker.status === 'draining' && worker.running === 0) {
      this.transition(worker, 'gone');
      this.recordTimeline();
    }
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
      backlog: this.queued * this.partitionShare(worker),
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

  /** The share of the partitions this worker owns: assigned round-robin over the ready workers in id order. */
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
