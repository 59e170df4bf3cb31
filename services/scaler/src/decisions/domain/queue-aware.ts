import type { QueueAwareSizing } from '../../policies/domain/scaling-policy';
import { roundUp } from './hpa';
import type { PoolSnapshot } from './pool-snapshot';

/**
 * Queue-aware sizing: how many task slots keep the wait for a slot under a target, from the arrival
 * rate λ and the mean service time S (offered load a = λ·S, in busy slots). It reacts to a burst as
 * soon as arrivals rise, before utilization (which cannot exceed 1) shows the pool saturated.
 *
 * - `littles_law`, the fluid estimate: Little's law gives the busy slots, λ·S, and the backlog B
 *   waiting now starts within the target wait W when S·B/W slots more free up in time:
 *   c = ⌈S·(λ + B/W)⌉. It ignores variability: with no backlog it runs the slots at 100 %.
 * - `erlang_c`, the M/M/c queue (Poisson arrivals, exponential service): the smallest c > a whose
 *   expected wait W_q = C(c, a)·S / (c − a) is at most W, C being Erlang C's probability of waiting.
 *   A steady-state answer; a backlog already there is the backlog metric's (or littles_law's) concern.
 *
 * A pool fed by a Kafka consumer group is not one queue: each worker takes only from the partitions
 * the group assigns it, and a task waits in its partition while another worker's slot is free. With
 * P partitions over n workers the busiest worker owns ⌈P/n⌉ of them and gets that share of the
 * arrivals (producers spread tasks evenly over partitions). So when the snapshot knows P, erlang_c
 * sizes the busiest worker as its own M/M/s queue (s = its slots) at λ·⌈P/n⌉/P, and takes the
 * fewest workers, at most P, that keep its wait under W. That is why it never asks for 4 or 5
 * workers of 6 partitions (the busiest still owns two, as with 3) nor for more workers than
 * partitions (they would get none). bench/scaling measured it against one M/M/c over every slot
 * (bench/scaling/README.md, "what the partitions change").
 */

/** Erlang C: the probability that an arrival waits, with `servers` and offered load `a` (Erlangs); 1 when c ≤ a. */
export function erlangC(servers: number, offeredLoad: number): number {
  if (servers <= offeredLoad) return 1;
  const b = erlangB(servers, offeredLoad);
  return (servers * b) / (servers - offeredLoad * (1 - b));
}

/** Erlang B by its stable recursion B(0) = 1, B(k) = a·B(k−1) / (k + a·B(k−1)). */
export function erlangB(servers: number, offeredLoad: number): number {
  let b = 1;
  for (let k = 1; k <= servers; k++) b = (offeredLoad * b) / (k + offeredLoad * b);
  return b;
}

/** M/M/c expected wait for a server; Infinity when the servers cannot keep up, 0 without arrivals. */
export function mmcWaitMs(servers: number, arrivalRatePerSec: number, serviceTimeMs: number): number {
  if (arrivalRatePerSec <= 0) return 0;
  const a = (arrivalRatePerSec * serviceTimeMs) / 1000;
  if (servers <= a) return Number.POSITIVE_INFINITY;
  return (erlangC(servers, a) * serviceTimeMs) / (servers - a);
}

export interface ServersNeeded {
  readonly servers: number;
  readonly expectedWaitMs: number;
  /** False when even `maxServers` leaves the wait above the target. */
  readonly reached: boolean;
}

/** The smallest number of servers, up to `maxServers`, whose M/M/c wait is at most the target. O(maxServers). */
export function erlangCServers(arrivalRatePerSec: number, serviceTimeMs: number, targetWaitMs: number, maxServers: number): ServersNeeded {
  if (arrivalRatePerSec <= 0) return { servers: 0, expectedWaitMs: 0, reached: true };
  const a = (arrivalRatePerSec * serviceTimeMs) / 1000;
  // Erlang B carried from one c to the next, so the search costs one step per server.
  let b = 1;
  let wait = Number.POSITIVE_INFINITY;
  for (let c = 1; c <= maxServers; c++) {
    b = (a * b) / (c + a * b);
    if (c <= a) continue;
    wait = ((c * b) / (c - a * (1 - b))) * (serviceTimeMs / (c - a));
    if (wait <= targetWaitMs) return { servers: c, expectedWaitMs: wait, reached: true };
  }
  return { servers: maxServers, expectedWaitMs: wait, reached: false };
}

/** The fluid estimate: ⌈S·(λ + B/W)⌉ slots, and the wait it implies for the last of the backlog. */
export function littlesLawServers(arrivalRatePerSec: number, serviceTimeMs: number, backlog: number, targetWaitMs: number): { servers: number; expectedWaitMs: number } {
  const busy = (arrivalRatePerSec * serviceTimeMs) / 1000;
  const servers = roundUp(busy + (backlog * serviceTimeMs) / targetWaitMs);
  // The backlog drains at the spare capacity (c − λ·S) / S tasks per ms.
  const expectedWaitMs = backlog === 0 ? 0 : servers > busy ? (backlog * serviceTimeMs) / (servers - busy) : Number.POSITIVE_INFINITY;
  return { servers, expectedWaitMs };
}

/**
 * Mean service time from what a pool reports, by Little's law on its slots: busy slots = completions
 * per second × S, so S = utilization × slots / completion rate. Null when nothing completed.
 */
export function meanServiceTimeMs(report: { readonly utilization: number; readonly concurrency: number; readonly completionRatePerSec: number }): number | null {
  if (!(report.completionRatePerSec > 0) || !(report.utilization >= 0)) return null;
  return ((report.utilization * report.concurrency) / report.completionRatePerSec) * 1000;
}

export interface QueueAwareProposal {
  readonly model: QueueAwareSizing['model'];
  readonly targetWaitMs: number;
  readonly arrivalRatePerSec: number | null;
  /** The service time used: the snapshot's, or the policy's default when the snapshot has none. */
  readonly serviceTimeMs: number | null;
  readonly backlog: number | null;
  /** λ·S: slots busy on average. */
  readonly offeredLoad: number | null;
  readonly slots: number | null;
  /** The model's expected wait at those slots. */
  readonly expectedWaitMs: number | null;
  readonly replicas: number | null;
  readonly note: string;
}

export function queueAwareProposal(sizing: QueueAwareSizing, snapshot: PoolSnapshot, maxReplicas: number): QueueAwareProposal {
  const lambda = usable(snapshot.arrivalRatePerSec);
  const serviceTimeMs = usable(snapshot.meanServiceTimeMs) ?? sizing.defaultServiceTimeMs;
  const backlog = usable(snapshot.backlog);
  const base = { model: sizing.model, targetWaitMs: sizing.targetWaitMs, arrivalRatePerSec: lambda, serviceTimeMs, backlog };
  const unavailable = (note: string): QueueAwareProposal => ({ ...base, offeredLoad: null, slots: null, expectedWaitMs: null, replicas: null, note });
  if (lambda === null) return unavailable('arrival rate not in the snapshot');
  if (sizing.model === 'littles_law' && backlog === null) return unavailable('backlog not in the snapshot');
  const demand = lambda > 0 || (sizing.model === 'littles_law' && (backlog ?? 0) > 0);
  if (!demand) return { ...base, offeredLoad: 0, slots: 0, expectedWaitMs: 0, replicas: 0, note: 'no arrivals and nothing waiting: no slot needed' };
  if (serviceTimeMs === null) return unavailable('no service time: nothing completed and the policy names no default');
  const offeredLoad = (lambda * serviceTimeMs) / 1000;
  const slotsPerWorker = Math.max(1, snapshot.slotsPerWorker);
  if (sizing.model === 'littles_law') {
    const { servers, expectedWaitMs } = littlesLawServers(lambda, serviceTimeMs, backlog ?? 0, sizing.targetWaitMs);
    return { ...base, offeredLoad, slots: servers, expectedWaitMs, replicas: roundUp(servers / slotsPerWorker), note: `⌈S·(λ + B/W)⌉ = ${servers} slot(s)` };
  }
  const partitions = snapshot.partitions ?? null;
  if (partitions !== null && partitions > 0) {
    const busiest = busiestWorkerSizing(lambda, serviceTimeMs, sizing.targetWaitMs, slotsPerWorker, partitions, maxReplicas);
    const share = `${Math.ceil(partitions / busiest.workers)} of ${partitions} partitions`;
    const note = busiest.reached
      ? `M/M/${slotsPerWorker} per worker: at ${busiest.workers} worker(s) the busiest owns ${share} and waits ${Math.round(busiest.expectedWaitMs)} ms`
      : `M/M/${slotsPerWorker} per worker: even ${busiest.workers} worker(s) (maxReplicas or one per partition) leave the busiest, with ${share}, above ${sizing.targetWaitMs} ms`;
    return { ...base, offeredLoad, slots: busiest.workers * slotsPerWorker, expectedWaitMs: Number.isFinite(busiest.expectedWaitMs) ? busiest.expectedWaitMs : null, replicas: busiest.workers, note };
  }
  const needed = erlangCServers(lambda, serviceTimeMs, sizing.targetWaitMs, maxReplicas * slotsPerWorker);
  const note = needed.reached
    ? `M/M/c: ${needed.servers} slot(s) keep the expected wait at ${Math.round(needed.expectedWaitMs)} ms`
    : `M/M/c: even ${needed.servers} slot(s) (maxReplicas) leave the expected wait above ${sizing.targetWaitMs} ms`;
  return { ...base, offeredLoad, slots: needed.servers, expectedWaitMs: Number.isFinite(needed.expectedWaitMs) ? needed.expectedWaitMs : null, replicas: roundUp(needed.servers / slotsPerWorker), note };
}

/**
 * The fewest workers, up to min(maxReplicas, partitions), whose busiest one (⌈P/n⌉ of the P
 * partitions, so that share of the arrivals) keeps its own M/M/s wait at most `targetWaitMs`.
 */
export function busiestWorkerSizing(
  arrivalRatePerSec: number,
  serviceTimeMs: number,
  targetWaitMs: number,
  slotsPerWorker: number,
  partitions: number,
  maxReplicas: number,
): { readonly workers: number; readonly expectedWaitMs: number; readonly reached: boolean } {
  const most = Math.max(1, Math.min(maxReplicas, partitions));
  let wait = Number.POSITIVE_INFINITY;
  for (let workers = 1; workers <= most; workers++) {
    wait = mmcWaitMs(slotsPerWorker, (arrivalRatePerSec * Math.ceil(partitions / workers)) / partitions, serviceTimeMs);
    if (wait <= targetWaitMs) return { workers, expectedWaitMs: wait, reached: true };
  }
  return { workers: most, expectedWaitMs: wait, reached: false };
}

function usable(value: number | null): number | null {
  return value !== null && Number.isFinite(value) && value >= 0 ? value : null;
}
