import type { PoolMetricsReported } from '@flotilla/contracts';
import type { PoolSnapshot } from '../decisions/domain/pool-snapshot';
import { emptyObservations, observeGroupLag, observeReport, snapshotOf, type PoolObservations } from './domain/pool-observations';

/** How many recent times to ready are kept per pool; their median is what predictive scaling provisions ahead by. */
const READY_SAMPLES = 20;

/**
 * What the scaler has seen of each pool, in memory: metrics reports are observations (the next one
 * supersedes a lost one), so a restarted scaler simply waits for the next round of them.
 */
export class PoolObservationsStore {
  private readonly pools = new Map<string, PoolObservations>();
  private readonly readyTimes = new Map<string, number[]>();

  report(report: PoolMetricsReported): void {
    this.pools.set(report.agentType, observeReport(this.of(report.agentType), report));
  }

  groupLag(agentType: string, messages: number, at: number): void {
    this.pools.set(agentType, observeGroupLag(this.of(agentType), messages, at));
  }

  workerReady(agentType: string, timeToReadyMs: number): void {
    const samples = [...(this.readyTimes.get(agentType) ?? []), timeToReadyMs].slice(-READY_SAMPLES);
    this.readyTimes.set(agentType, samples);
  }

  /** The median time a worker of the pool took to be ready, or null before the first. */
  timeToReadyMs(agentType: string): number | null {
    const samples = [...(this.readyTimes.get(agentType) ?? [])].sort((a, b) => a - b);
    return samples.length === 0 ? null : samples[Math.floor(samples.length / 2)];
  }

  snapshot(agentType: string, now: number, options: { readonly staleAfterMs: number; readonly slotsPerWorker: number; readonly partitions?: number | null }): PoolSnapshot {
    return snapshotOf(this.of(agentType), now, options);
  }

  private of(agentType: string): PoolObservations {
    return this.pools.get(agentType) ?? emptyObservations(agentType);
  }
}
