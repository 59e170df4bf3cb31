import { estimateRightSize, type RightSizingPolicy, DEFAULT_RIGHT_SIZING } from './right-sizing';

/** One pool metrics report of one agent-pool instance: its provisioned workers and slots, and how busy they were. */
export interface PoolSample {
  readonly instanceId: string;
  /** When the report's window started; absent for hourly rollups. */
  readonly windowStartedAt?: number;
  readonly windowEndedAt: number;
  readonly workers: number;
  readonly concurrency: number;
  /** busy slot-time / available slot-time over the report's window, 0..1. */
  readonly utilization: number;
}

export interface OverProvisioningPolicy {
  /** A pool whose utilization over the window averages below this is over-provisioned; 0.3. */
  readonly utilizationBelow: number;
  /** How far back samples count; one hour. */
  readonly windowMs: number;
  /** Fewer samples than this in the window say nothing yet; 10. */
  readonly minSamples: number;
  readonly rightSizing: RightSizingPolicy;
}

export const DEFAULT_OVER_PROVISIONING: OverProvisioningPolicy = { utilizationBelow: 0.3, windowMs: 3_600_000, minSamples: 10, rightSizing: DEFAULT_RIGHT_SIZING };

export interface PoolRecommendation {
  readonly kind: 'over_provisioned' | 'idle_pool' | 'schedule' | 'schedule_weekly';
  readonly agentType: string;
  readonly currentWorkers: number;
  readonly recommendedWorkers: number;
  readonly estimatedMonthlySavingMicros: number;
  readonly confidence: number;
  /** Used ÷ paid for over the window, 0..1. */
  readonly efficiency: number;
  readonly summary: string;
  readonly evidence: Readonly<Record<string, string>>;
}

/** Hours in an average month (365 × 24 ÷ 12), as cloud price lists count them. */
export const HOURS_PER_MONTH = 730;

/**
 * Whether a pool pays for more workers than it uses, from its instances' reports in the window. Each
 * instance is sized on its own, VPA-style (busy slots at p90 plus a margin, decaying weights; see
 * right-sizing.ts), rounded up to whole workers and never below one; the saving is the workers
 * given back at the worker-hour price for a month. Null when the pool is busy enough, the evidence
 * is too thin, or sizing it down would give nothing back.
 */
export function overProvisioning(agentType: string, samples: readonly PoolSample[], now: number, workerHourMicros: number, policy: OverProvisioningPolicy = DEFAULT_OVER_PROVISIONING): PoolRecommendation | null {
  const inWindow = samples.filter((s) => s.windowEndedAt > now - policy.windowMs && s.windowEndedAt <= now && s.concurrency > 0 && s.workers > 0);
  if (inWindow.length < policy.minSamples) return null;
  const slotTime = inWindow.reduce((sum, s) => sum + s.concurrency, 0);
  const busyTime = inWindow.reduce((sum, s) => sum + clamp01(s.utilization) * s.concurrency, 0);
  const efficiency = slotTime > 0 ? busyTime / slotTime : 0;
  if (efficiency >= policy.utilizationBelow) return null;

  const byInstance = new Map<string, PoolSample[]>();
  for (const s of inWindow) {
    const reports = byInstance.get(s.instanceId);
    if (reports) reports.push(s);
    else byInstance.set(s.instanceId, [s]);
  }
  let currentWorkers = 0;
  let recommendedWorkers = 0;
  let confidence = 1;
  let p90BusySlots = 0;
  for (const reports of byInstance.values()) {
    const latest = reports.reduce((a, b) => (b.windowEndedAt > a.windowEndedAt ? b : a));
    const slotsPerWorker = Math.max(1, latest.concurrency / latest.workers);
    const estimate = estimateRightSize(reports.map((r) => ({ at: r.windowEndedAt, value: clamp01(r.utilization) * r.concurrency })), now, policy.rightSizing)!;
    currentWorkers += latest.workers;
    recommendedWorkers += Math.max(1, Math.ceil(estimate.target / slotsPerWorker));
    confidence = Math.min(confidence, estimate.confidence);
    p90BusySlots += estimate.target / (1 + policy.rightSizing.margin);
  }
  if (recommendedWorkers >= currentWorkers) return null;
  const kind = busyTime === 0 ? 'idle_pool' : 'over_provisioned';
  const estimatedMonthlySavingMicros = (currentWorkers - recommendedWorkers) * workerHourMicros * HOURS_PER_MONTH;
  const percent = Math.round(efficiency * 1_000) / 10;
  return {
    kind,
    agentType,
    currentWorkers,
    recommendedWorkers,
    estimatedMonthlySavingMicros,
    confidence,
    efficiency,
    summary:
      kind === 'idle_pool'
        ? `the ${agentType} pool ran nothing over the last ${Math.round(policy.windowMs / 60_000)} min: ${recommendedWorkers} worker(s) instead of ${currentWorkers}`
        : `the ${agentType} pool was ${percent} % busy over the last ${Math.round(policy.windowMs / 60_000)} min: ${recommendedWorkers} worker(s) instead of ${currentWorkers}`,
    evidence: {
      utilizationPercent: String(percent),
      p90BusySlots: p90BusySlots.toFixed(2),
      samples: String(inWindow.length),
      instances: String(byInstance.size),
      windowMs: String(policy.windowMs),
      margin: String(policy.rightSizing.margin),
    },
  };
}

function clamp01(value: number): number {
  return Number.isFinite(value) ? Math.min(1, Math.max(0, value)) : 0;
}
