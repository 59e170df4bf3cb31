import type {
  PoolReplicasChanged,
  PoolWorkerDrained,
  PoolWorkerFailed,
  PoolWorkerReady,
  ScaleReplicasAccepted,
  ScaleReplicasReached,
  ScaleSagaCompensated,
  ScaleSagaCompleted,
  ScaleSagaEnded,
  ScaleSagaStarted,
  ScalingDecisionRecorded,
  TaskCompleted,
  TaskFailed,
  TaskStarted,
} from '@flotilla/contracts';
import type { WorkerTimeline } from '../pool-simulation';

/**
 * What the live run saw on Kafka, turned into what the simulation's figures are made of: per task
 * its start and its run time, the pool's workers over time (paid for, and ready), and the scale
 * sagas. Pure: the tails' events come in, so that it can be checked without a platform.
 */
export interface TailedEvent {
  readonly type: string;
  readonly payload: unknown;
}

/** One task the bench published: its place in the slice, when it was due and when it went out. */
export interface Dispatched {
  readonly executionId: string;
  readonly index: number;
  /** Epoch ms at which the trace said it arrives. */
  readonly dueAt: number;
  /** Epoch ms: TaskDispatched.dispatchedAt, set when it was published. */
  readonly dispatchedAt: number;
  /** The duration_ms it asked the synthetic executor for. */
  readonly durationMs: number;
}

export interface TaskRecord {
  /** Epoch ms of its first TaskStarted; NaN if it never started. */
  readonly startedAt: number;
  /** Epoch ms of its TaskCompleted (or TaskFailed); NaN if it never finished. */
  readonly finishedAt: number;
  readonly workerId: string | null;
  /** TaskStarted events seen for it (more than one: it ran again after a rebalance or a worker's death). */
  readonly starts: number;
  readonly failed: boolean;
}

/** Each dispatched task's start and end, in the order of `dispatched`. */
export function taskRecords(dispatched: readonly Dispatched[], taskEvents: readonly TailedEvent[]): TaskRecord[] {
  const byId = new Map<string, { startedAt: number; finishedAt: number; workerId: string | null; starts: number; failed: boolean }>();
  for (const d of dispatched) byId.set(d.executionId, { startedAt: Number.NaN, finishedAt: Number.NaN, workerId: null, starts: 0, failed: false });
  for (const event of taskEvents) {
    if (event.type === 'flotilla.task.TaskStarted') {
      const started = event.payload as TaskStarted;
      const task = byId.get(started.executionId);
      if (!task) continue;
      task.starts++;
      if (Number.isNaN(task.startedAt) || started.startedAt < task.startedAt) {
        task.startedAt = started.startedAt;
        task.workerId = started.workerId;
      }
    } else if (event.type === 'flotilla.task.TaskCompleted' || event.type === 'flotilla.task.TaskFailed') {
      const done = event.payload as TaskCompleted | TaskFailed;
      const task = byId.get(done.executionId);
      if (!task || !Number.isNaN(task.finishedAt)) continue;
      task.finishedAt = 'completedAt' in done ? done.completedAt : done.failedAt;
      task.failed = event.type === 'flotilla.task.TaskFailed';
    }
  }
  return dispatched.map((d) => byId.get(d.executionId)!);
}

/** One worker process of the pool, from its pool events. */
export interface WorkerLife {
  readonly workerId: string;
  /** The request that started it: `initial:<agentType>` for the pool's first replicas, `<sagaId>:scale` for a saga's. */
  readonly requestId: string | null;
  /** Epoch ms it was started: readyAt − timeToReadyMs; for a worker never ready, the pool's last scale-up before it left (approximated). */
  readonly startedAt: number;
  readonly startApproximated: boolean;
  readonly readyAt: number | null;
  readonly timeToReadyMs: number | null;
  /** Epoch ms it stopped taking tasks: it was asked to drain (drainedAt − drainMs), or it failed; null while it runs. */
  readonly leftReadyAt: number | null;
  /** Epoch ms it was gone (drained or failed); null while it runs. */
  readonly goneAt: number | null;
  readonly end: 'running' | 'drained' | 'failed';
}

/** How long the agent pool lets a worker drain before it stops it (WORKER_DRAIN_TIMEOUT_MS's default). */
const DRAIN_TIMEOUT_MS = 30_000;

/** The pool's workers from flotilla.pool-events (PoolWorkerReady, PoolWorkerDrained, PoolWorkerFailed; PoolReplicasChanged for a worker never ready). */
export function workerLives(poolEvents: readonly TailedEvent[], agentType: string): WorkerLife[] {
  const ready = new Map<string, PoolWorkerReady>();
  const left = new Map<string, { at: number; leftReadyAt: number; end: 'drained' | 'failed' }>();
  const scaleUps: number[] = [];
  const order: string[] = [];
  const see = (workerId: string) => {
    if (!order.includes(workerId)) order.push(workerId);
  };
  for (const event of poolEvents) {
    const payload = event.payload as { agentType?: string };
    if (payload.agentType !== agentType) continue;
    switch (event.type) {
      case 'flotilla.pool.PoolReplicasChanged': {
        const changed = event.payload as PoolReplicasChanged;
        if (changed.outcome === 'accepted' && changed.replicas > changed.previousReplicas) scaleUps.push(changed.changedAt);
        break;
      }
      case 'flotilla.pool.PoolWorkerReady': {
        const r = event.payload as PoolWorkerReady;
        if (!ready.has(r.workerId)) ready.set(r.workerId, r);
        see(r.workerId);
        break;
      }
      case 'flotilla.pool.PoolWorkerDrained': {
        const d = event.payload as PoolWorkerDrained;
        if (!left.has(d.workerId)) left.set(d.workerId, { at: d.drainedAt, leftReadyAt: d.drainedAt - d.drainMs, end: 'drained' });
        see(d.workerId);
        break;
      }
      case 'flotilla.pool.PoolWorkerFailed': {
        const f = event.payload as PoolWorkerFailed;
        // A worker stopped for not draining in time had stopped taking tasks when it was asked to drain.
        const drainedTooLong = /did not drain/.test(f.reason);
        if (!left.has(f.workerId)) left.set(f.workerId, { at: f.failedAt, leftReadyAt: drainedTooLong ? f.failedAt - DRAIN_TIMEOUT_MS : f.failedAt, end: 'failed' });
        see(f.workerId);
        break;
      }
      default:
        break;
    }
  }
  return order.map((workerId): WorkerLife => {
    const r = ready.get(workerId);
    const l = left.get(workerId);
    if (r) {
      const leftReadyAt = l ? Math.max(r.readyAt, l.leftReadyAt) : null;
      return { workerId, requestId: r.requestId, startedAt: r.readyAt - r.timeToReadyMs, startApproximated: false, readyAt: r.readyAt, timeToReadyMs: r.timeToReadyMs, leftReadyAt, goneAt: l?.at ?? null, end: l?.end ?? 'running' };
    }
    // Never ready: it left while starting. Its start is not on Kafka (PoolWorkerStarting stays in the
    // agent pool's store): the last scale-up accepted before it left is when it was asked for.
    const before = scaleUps.filter((at) => at <= l!.at);
    const startedAt = before.length > 0 ? before[before.length - 1] : l!.at;
    return { workerId, requestId: null, startedAt, startApproximated: true, readyAt: null, timeToReadyMs: null, leftReadyAt: l!.at, goneAt: l!.at, end: l!.end };
  });
}

/**
 * The pool's workers over time as the simulation records them (figures.ts): paid for (starting, ready
 * or draining) and ready, as step functions, times relative to `originMs`.
 */
export function timelineOf(lives: readonly WorkerLife[], originMs: number): WorkerTimeline {
  const changes: { at: number; provisioned: number; ready: number }[] = [];
  for (const w of lives) {
    changes.push({ at: w.startedAt - originMs, provisioned: 1, ready: 0 });
    if (w.goneAt !== null) changes.push({ at: w.goneAt - originMs, provisioned: -1, ready: 0 });
    if (w.readyAt !== null) {
      changes.push({ at: w.readyAt - originMs, provisioned: 0, ready: 1 });
      if (w.leftReadyAt !== null) changes.push({ at: w.leftReadyAt - originMs, provisioned: 0, ready: -1 });
    }
  }
  changes.sort((a, b) => a.at - b.at);
  const timeline: WorkerTimeline = { at: [], provisioned: [], ready: [] };
  let provisioned = 0;
  let ready = 0;
  for (let i = 0; i < changes.length; i++) {
    provisioned += changes[i].provisioned;
    ready += changes[i].ready;
    // Every change at one instant first, then one point.
    if (i + 1 < changes.length && changes[i + 1].at === changes[i].at) continue;
    const last = timeline.at.length - 1;
    if (last >= 0 && timeline.provisioned[last] === provisioned && timeline.ready[last] === ready) continue;
    timeline.at.push(changes[i].at);
    timeline.provisioned.push(provisioned);
    timeline.ready.push(ready);
  }
  return timeline;
}

/** The value of a timeline's series at `t` (before its first point: 0). */
export function valueAt(timeline: WorkerTimeline, series: 'provisioned' | 'ready', t: number): number {
  let value = 0;
  for (let i = 0; i < timeline.at.length && timeline.at[i] <= t; i++) value = timeline[series][i];
  return value;
}

/** One scale saga, from flotilla.scaling. */
export interface SagaRecord {
  readonly sagaId: string;
  readonly direction: 'up' | 'down';
  readonly fromReplicas: number;
  readonly toReplicas: number;
  /** Epoch ms of the evaluation that decided it (ScalingDecisionRecorded.evaluatedAt), else its start. */
  readonly decidedAt: number;
  readonly startedAt: number;
  readonly acceptedAt: number | null;
  readonly reachedAt: number | null;
  readonly endedAt: number | null;
  readonly outcome: 'completed' | 'denied' | 'compensated' | 'running';
}

export function sagaRecords(scalingEvents: readonly TailedEvent[]): SagaRecord[] {
  const decisions = new Map<string, number>();
  for (const d of ofType<ScalingDecisionRecorded>(scalingEvents, 'ScalingDecisionRecorded')) decisions.set(d.decisionId, d.evaluatedAt);
  const accepted = new Map(ofType<ScaleReplicasAccepted>(scalingEvents, 'ScaleReplicasAccepted').map((a) => [a.sagaId, a.acceptedAt] as const));
  const reached = new Map(ofType<ScaleReplicasReached>(scalingEvents, 'ScaleReplicasReached').map((r) => [r.sagaId, r.reachedAt] as const));
  const completed = new Map(ofType<ScaleSagaCompleted>(scalingEvents, 'ScaleSagaCompleted').map((c) => [c.sagaId, c.completedAt] as const));
  const compensated = new Map(ofType<ScaleSagaCompensated>(scalingEvents, 'ScaleSagaCompensated').map((c) => [c.sagaId, c.compensatedAt] as const));
  const ended = new Map(ofType<ScaleSagaEnded>(scalingEvents, 'ScaleSagaEnded').map((e) => [e.sagaId, e] as const));
  return ofType<ScaleSagaStarted>(scalingEvents, 'ScaleSagaStarted').map((s) => {
    const end = ended.get(s.sagaId);
    const outcome = end?.outcome ?? (completed.has(s.sagaId) ? 'completed' : compensated.has(s.sagaId) ? 'compensated' : 'running');
    return {
      sagaId: s.sagaId,
      direction: s.direction,
      fromReplicas: s.fromReplicas,
      toReplicas: s.toReplicas,
      decidedAt: decisions.get(s.decisionId) ?? s.startedAt,
      startedAt: s.startedAt,
      acceptedAt: accepted.get(s.sagaId) ?? null,
      reachedAt: reached.get(s.sagaId) ?? null,
      endedAt: completed.get(s.sagaId) ?? compensated.get(s.sagaId) ?? end?.endedAt ?? null,
      outcome,
    };
  });
}

export function ofType<T>(events: readonly TailedEvent[], shortType: string): T[] {
  const suffix = `.${shortType}`;
  return events.filter((e) => e.type.endsWith(suffix)).map((e) => e.payload as T);
}

/** Moved to figures.ts (the simulation measures it too); kept here for the live bench's import. */
export { idleWhileWaiting } from '../figures';
